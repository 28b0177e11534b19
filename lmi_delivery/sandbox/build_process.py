"""Running a build's commands in one process group, with the shell state carried between them.

Each command runs in its own ``bash -c`` (or ``/bin/sh -c``) whose exit trap saves the exported
environment (``env -0``) and the working directory, and the next command starts from them: so
``export`` and ``cd`` persist across commands and phases, as in CodeBuild's version 0.2.

Every process of a build joins one process group, held open by an idle anchor process for the
build's whole life; stopping the build signals that group (SIGTERM, then SIGKILL), so commands,
their children and whatever they left running in the background all go, and the group id cannot
be reused by an unrelated process while we may still signal it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: The wrapper each command runs in: $1 the state directory, $2 the command.
WRAPPER = r"""__lmi_state=$1
__lmi_command=$2
set --
__lmi_save() { env -0 >"$__lmi_state/env"; pwd >"$__lmi_state/cwd"; }
trap '__lmi_rc=$?; __lmi_save 2>/dev/null; exit $__lmi_rc' EXIT
eval "$__lmi_command"
"""

#: Variables the shell sets for itself; carrying them over would make them drift.
_SHELL_OWNED = frozenset({"_", "SHLVL", "PWD"})

POLL_SECONDS = 0.05
READER_GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class Outcome:
    """How a command ended: its exit code, or why it was interrupted (``STOPPED``, ...)."""

    returncode: int
    interrupted: str | None = None

    @property
    def reason(self) -> str:
        if self.returncode >= 0:
            return f"exit status {self.returncode}"
        try:
            name = signal.Signals(-self.returncode).name.removeprefix("SIG").lower()
        except ValueError:
            name = str(-self.returncode)
        return f"signal: {name}"


class ShellSession:
    """The processes of one build: its group, its environment and its working directory."""

    def __init__(self, shell: str, env: dict[str, str], cwd: Path, state_dir: Path) -> None:
        self.shell = shell
        self.env = dict(env)
        self.cwd = cwd
        self._state = state_dir
        self._state.mkdir(parents=True, exist_ok=True)
        self._anchor = subprocess.Popen(
            ["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, process_group=0, close_fds=True,
        )
        self.pgid = self._anchor.pid
        self._readers: list[threading.Thread] = []
        self._closed = False

    def run(self, command: str, on_line: Callable[[str], None], *,
            should_stop: Callable[[], str | None]) -> Outcome:
        """Run ``command``; ``should_stop`` is polled and returns a reason to interrupt it."""
        for name in ("env", "cwd"):
            (self._state / name).unlink(missing_ok=True)
        cwd = self.cwd if self.cwd.is_dir() else self._state
        proc = subprocess.Popen(
            [self.shell, "-c", WRAPPER, self.shell, str(self._state), command],
            env=self.env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, process_group=self.pgid, close_fds=True,
        )
        assert proc.stdout is not None
        reader = threading.Thread(target=_read_lines, args=(proc.stdout, on_line),
                                  name=f"output {proc.pid}", daemon=True)
        reader.start()
        self._readers.append(reader)
        while True:
            try:
                returncode = proc.wait(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                reason = should_stop()
                if reason is not None:
                    self.kill()
                    proc.wait()
                    reader.join(timeout=READER_GRACE_SECONDS)
                    return Outcome(proc.returncode, reason)
        reader.join(timeout=READER_GRACE_SECONDS)
        self._load_state()
        return Outcome(returncode)

    def kill(self, grace: float = 2.0) -> None:
        """SIGTERM the whole group, then SIGKILL what is left after ``grace`` seconds."""
        if self._closed:
            return
        _signal_group(self.pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_has_live_members(self.pgid, self._anchor.pid):
            time.sleep(POLL_SECONDS)
        _signal_group(self.pgid, signal.SIGKILL)

    def close(self) -> None:
        """Kill everything the build left running and release the group."""
        if self._closed:
            return
        self.kill(grace=0.5)
        self._closed = True
        if self._anchor.stdin is not None:
            self._anchor.stdin.close()
        self._anchor.wait()
        for reader in self._readers:
            reader.join(timeout=READER_GRACE_SECONDS)

    def _load_state(self) -> None:
        try:
            raw = (self._state / "env").read_bytes()
        except OSError:
            return  # the command replaced the shell (exec) or the trap could not write
        env: dict[str, str] = {}
        for item in raw.split(b"\0"):
            name, sep, value = item.decode("utf-8", "surrogateescape").partition("=")
            if sep and name and name not in _SHELL_OWNED:
                env[name] = value
        self.env = env
        try:
            cwd = (self._state / "cwd").read_text(encoding="utf-8").rstrip("\n")
        except OSError:
            return
        if cwd:
            self.cwd = Path(cwd)


def _read_lines(stream: IO[bytes], on_line: Callable[[str], None]) -> None:
    with stream:
        for raw in stream:
            on_line(raw.decode("utf-8", "replace").rstrip("\r\n"))


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_has_live_members(pgid: int, anchor: int) -> bool:
    """Whether a process of the group, other than the anchor, is alive (not a zombie)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return False
    for entry in entries:
        if not entry.isdigit() or int(entry) == anchor:
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text(encoding="utf-8")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False
