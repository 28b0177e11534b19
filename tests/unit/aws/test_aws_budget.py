"""RateBudget and BudgetRegistry, driven by a fake clock: no test sleeps for real."""

from __future__ import annotations

import threading

import pytest

from lmi_delivery.aws.budget import BudgetKey, BudgetRegistry, RateBudget


class FakeClock:
    """Simulated time shared by threads. ``sleep(d)`` wakes at ``d`` after the moment the
    sleeping thread last read the clock (as a real sleep would) and moves time forward to it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()
        self._seen = threading.local()

    def __call__(self) -> float:
        with self._lock:
            self._seen.at = self.now
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            wake = getattr(self._seen, "at", self.now) + seconds
            self.now = max(self.now, wake)


def budget(rate: float = 15.0, burst: float = 1, clock: FakeClock | None = None) -> RateBudget:
    clock = clock or FakeClock()
    return RateBudget(rate, burst, clock=clock, sleep=clock.sleep)


def test_first_token_is_free_then_callers_are_paced_one_interval_apart() -> None:
    clock = FakeClock()
    b = budget(10.0, clock=clock)
    assert b.acquire() == 0
    assert b.acquire() == pytest.approx(0.1)
    assert b.acquire() == pytest.approx(0.1)
    assert clock.now == pytest.approx(1000.2)
    assert b.admitted == 3
    assert b.waited_seconds == pytest.approx(0.2)


def test_single_thread_admitted_rate_is_the_budget() -> None:
    clock = FakeClock()
    b = budget(15.0, clock=clock)
    start = clock()
    for _ in range(1000):
        b.acquire()
    rate = b.admitted / (clock.now - start)
    assert rate == pytest.approx(15.0, rel=0.01)


@pytest.mark.parametrize(("threads", "rate", "burst"), [(8, 15.0, 1), (5, 100.0, 1), (4, 15.0, 5)])
def test_many_threads_share_one_budget(threads: int, rate: float, burst: float) -> None:
    clock = FakeClock()
    b = budget(rate, burst, clock=clock)
    start = clock()
    per_thread = 1000 // threads
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            b.acquire()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert b.admitted == per_thread * threads
    elapsed = clock.now - start
    # ``burst`` tokens are free at the start; everything after is paced at ``rate``.
    assert (b.admitted - burst) / elapsed == pytest.approx(rate, rel=0.01)


def test_burst_allows_that_many_at_once_after_idle() -> None:
    clock = FakeClock()
    b = budget(2.0, burst=3, clock=clock)
    assert [b.acquire() for _ in range(3)] == [0, 0, 0]
    assert b.acquire() == pytest.approx(0.5)
    clock.now += 10  # idle: the bucket refills to ``burst``, not more
    assert [b.acquire() for _ in range(3)] == [0, 0, 0]
    assert b.acquire() == pytest.approx(0.5)


def test_acquire_many_tokens_waits_for_the_debt() -> None:
    clock = FakeClock()
    b = budget(4.0, clock=clock)
    assert b.acquire(3) == pytest.approx(0.5)
    assert b.admitted == 3
    with pytest.raises(ValueError, match="at least one"):
        b.acquire(0)


def test_try_acquire_never_waits() -> None:
    clock = FakeClock()
    b = budget(1.0, clock=clock)
    assert b.try_acquire()
    assert not b.try_acquire()
    clock.now += 1.0
    assert b.try_acquire()
    assert clock.sleeps == []
    assert b.admitted == 2


def test_penalize_pushes_everyone_back() -> None:
    clock = FakeClock()
    b = budget(15.0, clock=clock)
    b.acquire()
    b.penalize(3.0)
    assert not b.try_acquire()
    assert b.penalties == 1
    waited = b.acquire()
    assert clock.now == pytest.approx(1003.0)
    assert waited == pytest.approx(3.0)
    # after the penalty the pace resumes, with no burst credit saved up
    assert b.acquire() == pytest.approx(1 / 15)


def test_penalty_arriving_while_a_caller_sleeps_delays_it_too() -> None:
    clock = FakeClock()
    fired: list[bool] = []

    def sleep_then_penalize_once(seconds: float) -> None:
        clock.sleep(seconds)
        if not fired:  # another thread got a 429 while we slept
            fired.append(True)
            b.penalize(5.0)

    b = RateBudget(1.0, clock=clock, sleep=sleep_then_penalize_once)

    b.acquire()
    b.acquire()  # reserved t+1; the penalty at t+1 moves it to t+6
    assert clock.now == pytest.approx(1006.0)
    assert b.admitted == 2


def test_shorter_penalty_does_not_shorten_a_longer_one() -> None:
    clock = FakeClock()
    b = budget(15.0, clock=clock)
    b.penalize(10.0)
    b.penalize(2.0)
    b.penalize(0)
    b.acquire()
    assert clock.now == pytest.approx(1010.0)
    assert b.penalties == 2


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0.5)])
def test_invalid_budgets_are_refused(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateBudget(rate, burst)


def test_registry_shares_one_budget_per_key() -> None:
    clock = FakeClock()
    registry = BudgetRegistry(clock=clock, sleep=clock.sleep)
    key = BudgetKey("account:123", "us-east-1", "lambda")
    a = registry.get(key, 15.0)
    assert registry.get(BudgetKey("account:123", "us-east-1", "lambda"), 99.0) is a
    assert a.rate == 15.0
    assert registry.get(BudgetKey("account:123", "eu-west-1", "lambda"), 15.0) is not a
    assert registry.get(BudgetKey("account:123", "us-east-1", "lambda-read"), 100.0) is not a
    assert len(registry.budgets()) == 3
    assert "lambda@account:123/us-east-1" in repr(a)
