"""Cancelling a wait: SIGINT/SIGTERM stop the builds we watch, then exit 130.

:func:`cancel_on_signals` installs handlers (main thread only; elsewhere it installs none and
the :class:`Cancellation` can still be triggered with :meth:`Cancellation.cancel`) and restores
the previous ones on exit. A handler only records the signal and writes one byte to a socket
pair, both safe inside a signal handler (no lock is taken); :meth:`Cancellation.sleep` waits on
that socket, so a sleeping poller wakes at once. :func:`stop_builds` then sends ``StopBuild``
for each build still running and waits, bounded, until each reports an end.
"""

from __future__ import annotations

import contextlib
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lmi_delivery.errors import Interrupted

if TYPE_CHECKING:
    from mypy_boto3_codebuild import CodeBuildClient

STOP_TIMEOUT = 5.0
STOP_POLL = 0.25
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Cancellation:
    """A cancel request that a signal handler or any thread may raise, once."""

    def __init__(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self.requested = False
        self.signum: int | None = None

    def cancel(self, signum: int | None = None) -> None:
        if self.requested:
            return
        self.signum = signum
        self.requested = True
        with contextlib.suppress(OSError):
            self._writer.send(b"x")

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when a cancel comes in meanwhile."""
        if self.requested or seconds <= 0:
            return
        with contextlib.suppress(OSError, ValueError):
            select.select([self._reader], [], [], seconds)

    def interrupted(self, detail: str = "") -> Interrupted:
        name = signal.Signals(self.signum).name if self.signum else "cancel"
        return Interrupted(f"interrupted by {name}" + (f": {detail}" if detail else ""),
                           context={"signal": self.signum})

    def close(self) -> None:
        self._reader.close()
        self._writer.close()


@contextlib.contextmanager
def cancel_on_signals(signals: Sequence[int] = SIGNALS) -> Iterator[Cancellation]:
    """A :class:`Cancellation` that ``signals`` trigger while the block runs."""
    cancellation = Cancellation()

    def handler(signum: int, frame: Any) -> None:
        cancellation.cancel(signum)

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in signals:
            previous[signum] = signal.signal(signum, handler)
    try:
        yield cancellation
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        cancellation.close()


def stop_builds(client: CodeBuildClient, build_ids: Sequence[str], *,
                timeout: float = STOP_TIMEOUT, clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> dict[str, str]:
    """``StopBuild`` each build, then wait (at most ``timeout``) until each has ended.

    Returns each build's last known status (``IN_PROGRESS`` if it had not ended in time).
    """
    from botocore.exceptions import ClientError

    statuses = {build_id: "IN_PROGRESS" for build_id in build_ids}
    deadline = clock() + timeout
    for build_id in build_ids:
        try:
            answer = client.stop_build(id=build_id)
            statuses[build_id] = answer["build"].get("buildStatus", "IN_PROGRESS")
        except ClientError:
            pass  # already complete, or gone: the status poll below tells
    while True:
        running = [i for i, status in statuses.items() if status == "IN_PROGRESS"]
        if not running:
            return statuses
        try:
            for start in range(0, len(running), 100):
                found = client.batch_get_builds(ids=running[start:start + 100])
                for build in found.get("builds") or []:
                    statuses[build["id"]] = build.get("buildStatus", "IN_PROGRESS")
        except ClientError:
            pass
        if clock() >= deadline:
            return statuses
        sleep(STOP_POLL)
