"""The GitHub Actions reporter: outputs the moment a build starts, one log group per build.

Build ids go to ``$GITHUB_OUTPUT`` (its path is handed in) as soon as each build starts:
``build-id`` (the latest) and ``build-ids`` (all so far, space-separated, ready for
``lmi-delivery codebuild wait ${{ steps.x.outputs.build-ids }}``).

GitHub folds lines between ``::group::`` and ``::endgroup::``, but groups cannot nest or
interleave: a line lands in whichever group was opened last. So **one build at a time owns the
open group and streams into it live; the lines of the others are buffered** and each is written
as one complete group when its turn comes: finished builds first, in the order they finished,
then the longest-waiting running build takes the group (its buffered lines first, then live).
Every line appears exactly once, in order, inside its own build's group, with its
``[project:shortid]`` prefix.

A build's output never issues workflow commands. The prefix keeps ``::cmd::`` from the start of
the line, but the runner also reads the older ``##[cmd]`` form anywhere in a line; so build lines
are written between ``::stop-commands::TOKEN`` and ``::TOKEN::``, the runner's way to echo
untrusted text, with a fresh random token for each stretch of lines (a line holding the token
has it replaced). Commands resume before every command of our own (groups, the ``::error`` of
a failed build) and at the end of every stage, however it ended.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from lmi_delivery.codebuild.model import BuildResult, StartedBuild
from lmi_delivery.escape import command_data, command_property


@dataclass
class _Pending:
    build: StartedBuild
    lines: list[str] = field(default_factory=list)
    result: BuildResult | None = None


class GithubReporter:
    def __init__(self, stream: TextIO, output_path: str | Path | None = None, *,
                 new_token: Callable[[], str] = lambda: secrets.token_hex(16)) -> None:
        self.stream = stream
        self.new_token = new_token
        self.output_path = Path(output_path) if output_path else None
        self._lock = threading.RLock()
        self._ids: list[str] = []
        self._owner: str | None = None
        self._waiting: dict[str, _Pending] = {}
        self._finished: list[str] = []
        self._user_group = False
        self._stop_token: str | None = None

    # -- Reporter -------------------------------------------------------------------------------

    def build_started(self, build: StartedBuild) -> None:
        with self._lock:
            self._ids.append(build.id)
            self._waiting.setdefault(build.id, _Pending(build))
            if self.output_path is not None:
                with self.output_path.open("a", encoding="utf-8") as out:
                    out.write(f"build-id={build.id}\nbuild-ids={' '.join(self._ids)}\n")
            link = f" log: {build.log_url}" if build.log_url else ""
            self._write(f"[{build.short}] started {build.id}{link}")

    def log_line(self, build: StartedBuild, line: str) -> None:
        with self._lock:
            pending = self._waiting.setdefault(build.id, _Pending(build))
            if self._owner is None and not self._user_group:
                self._open(pending)
            if self._owner == build.id:
                self._echo(f"[{build.short}] {line}")
            else:
                pending.lines.append(line)

    def build_finished(self, result: BuildResult) -> None:
        with self._lock:
            pending = self._waiting.setdefault(result.build.id, _Pending(result.build))
            pending.result = result
            if self._owner == result.build.id:
                self._close(pending)
            else:
                self._finished.append(result.build.id)
            self._rotate()

    def notice(self, message: str) -> None:
        with self._lock:
            self._write(message)

    def group_start(self, title: str) -> None:
        with self._lock:
            if self._owner is None and not self._user_group:
                self._user_group = True
                self._command(f"::group::{command_data(title)}")

    def group_end(self) -> None:
        with self._lock:
            if self._user_group:
                self._user_group = False
                self._command("::endgroup::")
                self._rotate()
            self._resume()  # the stage is over, however it ended: the runner obeys us again

    # -- groups ---------------------------------------------------------------------------------

    def _rotate(self) -> None:
        if self._owner is not None or self._user_group:
            return
        for build_id in self._finished:
            pending = self._waiting[build_id]
            self._open(pending)
            self._close(pending)
        self._finished.clear()
        running = [p for p in self._waiting.values() if p.result is None and p.lines]
        if running:
            self._open(running[0])

    def _open(self, pending: _Pending) -> None:
        build = pending.build
        self._owner = build.id
        self._command(f"::group::{command_data(f'[{build.short}] {build.id}')}")
        for line in pending.lines:
            self._echo(f"[{build.short}] {line}")
        pending.lines.clear()

    def _close(self, pending: _Pending) -> None:
        result = pending.result
        assert result is not None
        self._echo(f"[{result.build.short}] {result.outcome()}")
        self._command("::endgroup::")
        self._owner = None
        del self._waiting[result.build.id]
        if not result.succeeded:
            title = command_property(f"CodeBuild {result.status}")
            self._command(f"::error title={title}::{command_data(result.summary())}")

    # -- writing: commands of our own, and build output the runner must not obey ----------------

    def _echo(self, text: str) -> None:
        """Outside text (a build's line): written while the runner processes no commands."""
        if self._stop_token is None:
            self._stop_token = self.new_token()
            self._write(f"::stop-commands::{self._stop_token}")
        self._write(re.sub(re.escape(self._stop_token), "*" * 8, text, flags=re.IGNORECASE))

    def _command(self, text: str) -> None:
        """A workflow command of ours: commands are resumed first."""
        self._resume()
        self._write(text)

    def _resume(self) -> None:
        if self._stop_token is not None:
            self._write(f"::{self._stop_token}::")
            self._stop_token = None

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
