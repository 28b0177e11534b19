"""Independent AWS calls on a few threads: the rate budget paces them, the threads hide latency.

AWS answers a Lambda control-plane call in roughly 100-300 ms while the account's budget admits
one every 1/15 s, so a caller that waits for each answer before sending the next leaves most of
the budget unused: 40 reads one after another take 6-12 s where the budget allows 2.7 s.
:func:`fan_out` runs a function over items on up to ``workers`` threads. It adds no pacing of
its own: every attempt of a paced Lambda client still takes its token from the shared budget
(:mod:`lmi_delivery.aws.pacing`), so the admitted rate stays the budget's whatever the thread
count; the threads only keep enough calls in flight to use it.

Every item is tried even when another one failed (a read, a scaling change, a deletion of one
item never depends on another's answer); results come back in the items' order, and once all
are done the first exception in that order is raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Enough calls in flight to keep 15 requests/s busy at 300 ms a round trip, with room for
#: jitter (15 x 0.3 = 4.5).
WORKERS = 8


def fan_out(call: Callable[[Item], Result], items: Iterable[Item], *,
            workers: int = WORKERS, name: str = "aws") -> list[Result]:
    """``[call(item) for item in items]``, on up to ``workers`` threads.

    Raises the first exception (in the items' order) once every call has finished; when the
    caller is interrupted, the calls not started yet are cancelled.
    """
    todo = list(items)
    if len(todo) == 1:
        return [call(todo[0])]
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo))),
                              thread_name_prefix=name)
    try:
        futures = [pool.submit(call, item) for item in todo]
        wait(futures)
    finally:  # interrupted: the calls not started yet never start
        pool.shutdown(wait=True, cancel_futures=True)
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return [future.result() for future in futures]


def in_background(call: Callable[[], Result], *, name: str = "aws") -> Future[Result]:
    """Start ``call`` on a thread of its own; the future holds its result or its exception.

    For reads that do not depend on what the caller waits for meanwhile (a version turning
    Active): they use the budget while it would stay idle.
    """
    future: Future[Result] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(call())
        except BaseException as error:  # handed to whoever reads the future
            future.set_exception(error)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
