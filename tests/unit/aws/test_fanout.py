"""fan_out: independent calls on a few threads, results in order, the first failure raised."""

from __future__ import annotations

import threading

import pytest

from lmi_delivery.aws.fanout import fan_out


def test_results_come_back_in_the_items_order() -> None:
    assert fan_out(lambda n: n * n, range(20), workers=4) == [n * n for n in range(20)]
    assert fan_out(lambda n: n, [], workers=4) == []
    assert fan_out(lambda n: n + 1, [1], workers=4) == [2]


def test_calls_are_in_flight_together() -> None:
    """Four calls meet at a barrier: they can only pass it if they run at the same time."""
    barrier = threading.Barrier(4, timeout=10)
    threads: set[str] = set()

    def meet(n: int) -> int:
        threads.add(threading.current_thread().name)
        barrier.wait()
        return n

    assert fan_out(meet, range(8), workers=4, name="meet") == list(range(8))
    assert len(threads) == 4
    assert all(name.startswith("meet") for name in threads)


def test_every_item_is_tried_and_the_first_failure_in_order_is_raised() -> None:
    tried: list[int] = []
    lock = threading.Lock()

    def call(n: int) -> int:
        with lock:
            tried.append(n)
        if n in (3, 6):
            raise ValueError(f"item {n}")
        return n

    with pytest.raises(ValueError, match="item 3"):
        fan_out(call, range(10), workers=3)
    assert sorted(tried) == list(range(10))
    tried.clear()
    with pytest.raises(ValueError, match="item 3"):
        fan_out(call, range(10), workers=1)
    assert tried == list(range(10))
