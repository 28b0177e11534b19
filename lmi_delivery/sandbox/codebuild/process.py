"""Running a build's commands in one process group, with the shell state carried between them.

Each command runs in its own ``bash -c`` (or ``/bin/sh -c``) whose exit trap saves the shell's
state, and the next command starts from it, as CodeBuild's version 0.2 carries it from one
command to the next and across phases: the exported environment (``env -0``), the working
directory, and the shell's own variables that were never exported (``IMAGE_TAG=abc`` in one
command, ``echo $IMAGE_TAG`` in the next). With bash the variables keep their attributes
(arrays too) and functions carry over; with ``/bin/sh`` the plain variables do (``set``).
Shell options (``set -e``, ``set -o pipefail``) do not: each command is a new shell process.
Version 0.1 carries nothing (``carry=False``): every command starts from the build's
environment and source directory.

A command may run as another Linux user (buildspec ``run-as``): ``run(..., user=RunAs(...))``.

Every process of a build joins one process group, held open by an idle anchor process for the
build's whole life; stopping the build signals that group (SIGTERM, then SIGKILL), so commands,
their children and whatever they left running in the background all go, and the group id cannot
be reused by an unrelated process while we may still signal it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: Variables bash sets for itself (or that describe the shell process): never carried over.
_BASH_OWN = ("__lmi_*|BASH*|EUID|UID|PPID|SHELLOPTS|FUNCNAME|GROUPS|LINENO|RANDOM|SRANDOM|"
             "SECONDS|EPOCHREALTIME|EPOCHSECONDS|HISTCMD|PIPESTATUS|DIRSTACK|COMP_*|SHLVL|PWD|"
             "OLDPWD|_|IFS|OPTIND|OPTARG|OPTERR|PS1|PS2|PS3|PS4|HOSTNAME|HOSTTYPE|MACHTYPE|"
             "OSTYPE|MAILCHECK|HISTFILE|HISTFILESIZE|HISTSIZE|COLUMNS|LINES")
_COMMON = r"""__lmi_state=$1
__lmi_command=$2
__lmi_watch=$3
__lmi_ifs=' """ + "\t\n" + r"""'
set --
__lmi_watched() {
  for __lmi_n in $__lmi_watch; do
    eval "[ -n \"\${$__lmi_n+x}\" ] && printf '%s=%s\\0' \"\$__lmi_n\" \"\$$__lmi_n\""
  done >"$__lmi_state/watch"
}
"""
#: The wrapper each command runs in under bash: $1 the state directory, $2 the command, $3 the
#: names of the variables whose values are watched (exported-variables). ``vars`` holds the
#: unexported variables (``declare -p``) and the functions (``declare -f``) to start from.
BASH_WRAPPER = r"""if [ -r "$1/vars" ]; then . "$1/vars" 2>/dev/null; fi
""" + _COMMON + r"""__lmi_save() {
  local IFS=$__lmi_ifs; env -0 >"$__lmi_state/env"; pwd >"$__lmi_state/cwd"; __lmi_watched
  local __lmi_n; local -A __lmi_x=()
  for __lmi_n in $(compgen -e); do __lmi_x[$__lmi_n]=1; done
  for __lmi_n in $(compgen -v); do
    case $__lmi_n in """ + _BASH_OWN + r""") continue;; esac
    [ -n "${__lmi_x[$__lmi_n]-}" ] || declare -p "$__lmi_n"
  done >"$__lmi_state/vars"
  declare -f >>"$__lmi_state/vars"
}
trap '__lmi_rc=$?; __lmi_save 2>/dev/null; exit $__lmi_rc' EXIT
eval "$__lmi_command"
"""
#: The same under a POSIX /bin/sh (dash has no ``declare``): every variable ``set`` names is
#: written NUL-separated to ``plain``; the session keeps the unexported ones and writes ``vars``
#: (``NAME='value'`` lines) for the next command to source.
SH_WRAPPER = r"""if [ -r "$1/vars" ]; then . "$1/vars" 2>/dev/null; fi
""" + _COMMON + r"""__lmi_save() {
  IFS=$__lmi_ifs; env -0 >"$__lmi_state/env"; pwd >"$__lmi_state/cwd"; __lmi_watched
  for __lmi_n in $(set | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do
    case $__lmi_n in __lmi_*) continue;; esac
    eval "[ -n \"\${$__lmi_n+x}\" ] && printf '%s=%s\\0' \"\$__lmi_n\" \"\$$__lmi_n\""
  done >"$__lmi_state/plain"
}
trap '__lmi_rc=$?; __lmi_save 2>/dev/null; exit $__lmi_rc' EXIT
eval "$__lmi_command"
"""
#: Variables a POSIX sh sets for itself (or, when it is bash, keeps read-only).
_SH_OWN = frozenset(_BASH_OWN.replace("*", "").split("|")) | {
    "BASHOPTS", "BASH_VERSINFO", "BASH_ARGV", "BASH_ARGC", "BASH_LINENO", "BASH_SOURCE",
    "BASHPID", "BASH_SUBSHELL", "BASH_COMMAND", "BASH_EXECUTION_STRING", "BASH_ARGV0"}
#: Kept for callers that name the bash wrapper by its old name.
WRAPPER = BASH_WRAPPER

#: Variables the shell sets for itself; carrying them over would make them drift.
_SHELL_OWNED = frozenset({"_", "SHLVL", "PWD"})
_STATE_FILES = ("env", "cwd", "vars", "plain", "watch")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

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


@dataclass(frozen=True)
class RunAs:
    """The Linux user (and its primary group) a command runs as."""

    name: str
    uid: int
    gid: int


class ShellSession:
    """The processes of one build: its group, its environment and its working directory.

    ``carry`` (version 0.2) carries the shell's state from one command to the next; ``watch``
    names variables whose last values are wanted (``exported-variables``), exported or not.
    """

    def __init__(self, shell: str, env: dict[str, str], cwd: Path, state_dir: Path, *,
                 carry: bool = True, watch: Iterable[str] = ()) -> None:
        self.shell = shell
        self.env = dict(env)
        self.cwd = cwd
        self.carry = carry
        self.watch = tuple(name for name in watch if _NAME.fullmatch(name))
        self.watched: dict[str, str] = {}
        self._wrapper = BASH_WRAPPER if os.path.basename(shell) == "bash" else SH_WRAPPER
        self._state = state_dir
        self._state.mkdir(parents=True, exist_ok=True)
        self._anchor = subprocess.Popen(
            ["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, process_group=0, close_fds=True,
        )
        self.pgid = self._anchor.pid
        self._readers: list[threading.Thread] = []
        self._closed = False

    def value(self, name: str) -> str | None:
        """The last value of a variable, exported or not (watched ones), else of the env."""
        return self.watched.get(name, self.env.get(name))

    def run(self, command: str, on_line: Callable[[str], None], *,
            should_stop: Callable[[], str | None], user: RunAs | None = None) -> Outcome:
        """Run ``command`` (as ``user``, when given); ``should_stop`` is polled and returns a
        reason to interrupt it."""
        for name in _STATE_FILES:
            if name != "vars" or not self.carry:
                (self._state / name).unlink(missing_ok=True)
        if user is not None:
            self._state.chmod(0o777)  # the state files are written by that user
            with contextlib.suppress(FileNotFoundError):
                (self._state / "vars").chmod(0o666)
        cwd = self.cwd if self.cwd.is_dir() else self._state
        proc = subprocess.Popen(
            [self.shell, "-c", self._wrapper, self.shell, str(self._state), command,
             " ".join(self.watch)],
            env=self.env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, process_group=self.pgid, close_fds=True,
            user=None if user is None else user.uid, group=None if user is None else user.gid,
            extra_groups=None if user is None else [],
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
        self._load_watched()
        if self.carry:
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

    def _load_watched(self) -> None:
        try:
            raw = (self._state / "watch").read_bytes()
        except OSError:
            return
        watched = {}
        for item in raw.split(b"\0"):
            name, sep, value = item.decode("utf-8", "surrogateescape").partition("=")
            if sep and name in self.watch:
                watched[name] = value
        self.watched = watched

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
        self._write_sh_vars()

    def _write_sh_vars(self) -> None:
        """Under /bin/sh: ``vars`` from ``plain``, without the exported (and shell-owned) ones."""
        try:
            raw = (self._state / "plain").read_bytes()
        except OSError:
            return
        lines = []
        for item in raw.split(b"\0"):
            name, sep, value = item.decode("utf-8", "surrogateescape").partition("=")
            if sep and _NAME.fullmatch(name) and name not in self.env and name not in _SH_OWN:
                quoted = value.replace("'", "'\\''")
                lines.append(f"{name}='{quoted}'\n")
        (self._state / "vars").write_text("".join(lines), encoding="utf-8",
                                          errors="surrogateescape")


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
