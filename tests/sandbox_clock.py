"""A clock for the sandbox's delays (``SandboxOptions.clock``) that the test moves.

A test that checks what a version is while it is ``Deleting`` (or ``Pending``, or
``Requested``) and then what it is once the delay has passed used to sleep through the delay,
and could see it pass early on a loaded machine. With this clock the delay passes only when the
test says so: :meth:`SandboxClock.advance` moves it at once, and inside
:meth:`SandboxClock.running` it follows real time (for code under test that waits for AWS by
polling, as the pruner does).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator


class SandboxClock:
    """Monotonic seconds that stand still unless advanced or running."""

    def __init__(self) -> None:
        self._now = 0.0
        self._since: float | None = None
        """When it last started running, in real monotonic seconds (None: it stands still)."""
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now + (0.0 if self._since is None else time.monotonic() - self._since)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Let real time pass on this clock until the block ends."""
        with self._lock:
            self._since = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                assert self._since is not None
                self._now += time.monotonic() - self._since
                self._since = None
