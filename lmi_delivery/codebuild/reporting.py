"""What the orchestration tells people: the :class:`Reporter` protocol and its text form.

A reporter hears of each build the moment it starts (id and log link), of each log line as the
poller reads it, and of each build's end. :class:`TextReporter` writes every line at once,
prefixed ``[project:shortid]`` so that lines of concurrent builds stay readable when they
interleave.
"""

from __future__ import annotations

import threading
from typing import Protocol, TextIO

from lmi_delivery.codebuild.model import BuildResult, StartedBuild


class Reporter(Protocol):
    def build_started(self, build: StartedBuild) -> None: ...

    def log_line(self, build: StartedBuild, line: str) -> None: ...

    def build_finished(self, result: BuildResult) -> None: ...

    def notice(self, message: str) -> None:
        """Something about the waiting itself (throttling, stopping builds)."""

    def group_start(self, title: str) -> None: ...

    def group_end(self) -> None: ...


class TextReporter:
    """Plain prefixed lines on ``stream``, written (and flushed) as they come."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def build_started(self, build: StartedBuild) -> None:
        link = f" log: {build.log_url}" if build.log_url else ""
        self._write(f"[{build.short}] started {build.id}{link}")

    def log_line(self, build: StartedBuild, line: str) -> None:
        self._write(f"[{build.short}] {line}")

    def build_finished(self, result: BuildResult) -> None:
        self._write(f"[{result.build.short}] {result.outcome()}")

    def notice(self, message: str) -> None:
        self._write(message)

    def group_start(self, title: str) -> None:
        self._write(f"== {title}")

    def group_end(self) -> None:
        return None
