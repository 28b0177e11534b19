"""The one place lmi-delivery runs external commands.

Terraform, gpg helpers and scanners all go through :func:`run`. The caller passes the working
directory and the *whole* environment of the child explicitly: nothing here reads
``os.environ``. A failed command raises :class:`~lmi_delivery.errors.CommandFailed` carrying the
command, its exit code, its stdout and its stderr (whose tail is part of the message).

Output can be streamed line by line to a callback while the command runs (live CI logs); the
full output is still collected and returned.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lmi_delivery.errors import CommandFailed, OperationFailed

#: Receives one line of output (stdout or stderr) without its line ending.
LineCallback = Callable[[str], None]

#: Exit code reported when the program cannot be started at all, as a shell does.
EXIT_NOT_FOUND = 127


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str],
    check: bool = True,
    stream: LineCallback | None = None,
    timeout: float | None = None,
) -> Result:
    """Run ``argv`` in ``cwd`` with exactly ``env``; return its exit code and output.

    With ``check`` (the default) a non-zero exit raises :class:`CommandFailed`. ``stream``
    receives every output line as it arrives (stdout and stderr interleaved in arrival order).
    The child never reads from our stdin. ``timeout`` (seconds) kills the child and raises
    :class:`OperationFailed`.
    """
    args = [os.fspath(a) for a in argv]
    try:
        proc = subprocess.Popen(
            args,
            cwd=None if cwd is None else Path(cwd),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:  # not found, not executable, bad cwd
        result = Result(EXIT_NOT_FOUND, "", f"cannot run {args[0]}: {exc.strerror or exc}")
        if check:
            raise CommandFailed(args, result.returncode, result.stdout, result.stderr) from exc
        return result

    with proc:
        stdout, stderr = _collect(proc, stream, timeout, args)
    result = Result(proc.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise CommandFailed(args, result.returncode, result.stdout, result.stderr)
    return result


def _collect(
    proc: subprocess.Popen[bytes],
    stream: LineCallback | None,
    timeout: float | None,
    args: list[str],
) -> tuple[str, str]:
    """Read both pipes to the end on two threads; wait for the child (killing it on error)."""
    assert proc.stdout is not None
    assert proc.stderr is not None
    lock = threading.Lock()
    out: list[str] = []
    err: list[str] = []
    failures: list[BaseException] = []
    readers = [
        threading.Thread(target=_pump, args=(pipe, sink, stream, lock, failures), daemon=True)
        for pipe, sink in ((proc.stdout, out), (proc.stderr, err))
    ]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise OperationFailed(
            f"command timed out after {timeout:g}s: {' '.join(args)}",
            context={"argv": args},
        ) from None
    except BaseException:  # KeyboardInterrupt: do not leave the child running
        proc.kill()
        proc.wait()
        raise
    finally:
        for reader in readers:
            reader.join()
    if failures:  # the stream callback raised: report it once the child is done
        raise failures[0]
    return "".join(out), "".join(err)


def _pump(
    pipe: IO[bytes],
    sink: list[str],
    stream: LineCallback | None,
    lock: threading.Lock,
    failures: list[BaseException],
) -> None:
    """Drain ``pipe`` to the end, even if the callback fails (the child must not block)."""
    for raw in iter(pipe.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        sink.append(line)
        if stream is None:
            continue
        with lock:
            if failures:
                continue
            try:
                stream(line.rstrip("\r\n"))
            except Exception as exc:  # handed back to the caller's thread
                failures.append(exc)
