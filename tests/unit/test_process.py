"""process.run: the one place external commands run."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from lmi_delivery import process
from lmi_delivery.errors import CommandFailed, OperationFailed

PY = sys.executable


def _py(code: str) -> list[str]:
    return [PY, "-c", code]


def test_output_and_exit_code_are_returned(tmp_path: Path) -> None:
    result = process.run(
        _py("import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"),
        cwd=tmp_path, env={}, check=False)
    assert result == process.Result(3, "out\n", "err\n")


def test_failure_carries_command_exit_code_stdout_and_stderr_tail(tmp_path: Path) -> None:
    code = ("import sys; print('partial'); "
            "[print(f'line {i}', file=sys.stderr) for i in range(30)]; sys.exit(4)")
    with pytest.raises(CommandFailed) as caught:
        process.run(_py(code), cwd=tmp_path, env={})
    error = caught.value
    assert error.argv == _py(code)
    assert error.returncode == 4
    assert error.exit_code == 1
    assert error.stdout == "partial\n"
    assert "line 0\n" in error.stderr
    message = str(error)
    assert message.startswith(f"command failed with exit code 4: {PY} -c")
    assert message.endswith("line 29")
    assert "line 9\n" not in message  # only the tail of stderr is in the message


def test_env_is_exactly_what_was_passed(tmp_path: Path) -> None:
    env_binary = shutil.which("env")
    assert env_binary is not None
    result = process.run([env_binary], cwd=tmp_path, env={"ONLY": "this", "AND": "that"})
    assert sorted(result.stdout.splitlines()) == ["AND=that", "ONLY=this"]


def test_empty_env_is_empty(tmp_path: Path) -> None:
    env_binary = shutil.which("env")
    assert env_binary is not None
    assert process.run([env_binary], cwd=tmp_path, env={}).stdout == ""


def test_cwd_is_used(tmp_path: Path) -> None:
    result = process.run(_py("import os; print(os.getcwd())"), cwd=tmp_path, env={})
    assert Path(result.stdout.strip()).resolve() == tmp_path.resolve()


def test_lines_are_streamed_as_they_come(tmp_path: Path) -> None:
    seen: list[str] = []
    code = "import sys\nfor i in range(3): print(f'step {i}', flush=True)\n"
    result = process.run(_py(code), cwd=tmp_path, env={}, stream=seen.append)
    assert seen == ["step 0", "step 1", "step 2"]
    assert result.stdout == "step 0\nstep 1\nstep 2\n"


def test_stderr_lines_are_streamed_too(tmp_path: Path) -> None:
    seen: list[str] = []
    process.run(_py("import sys; print('oops', file=sys.stderr)"), cwd=tmp_path, env={},
                stream=seen.append)
    assert seen == ["oops"]


def test_a_failing_stream_callback_is_raised_after_the_command(tmp_path: Path) -> None:
    def explode(line: str) -> None:
        raise ValueError(f"cannot show {line}")

    code = "for i in range(2000): print('x' * 100)"  # more than a pipe buffer: must not hang
    with pytest.raises(ValueError, match="cannot show x"):
        process.run(_py(code), cwd=tmp_path, env={}, stream=explode)


def test_a_missing_program_is_a_command_failure(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed) as caught:
        process.run([str(tmp_path / "nope")], cwd=tmp_path, env={})
    assert caught.value.returncode == process.EXIT_NOT_FOUND
    assert "cannot run" in caught.value.stderr


def test_a_missing_program_without_check(tmp_path: Path) -> None:
    result = process.run([str(tmp_path / "nope")], cwd=tmp_path, env={}, check=False)
    assert result.returncode == process.EXIT_NOT_FOUND


def test_timeout_kills_the_command(tmp_path: Path) -> None:
    with pytest.raises(OperationFailed, match=r"timed out after 0\.2s"):
        process.run(_py("import time; time.sleep(30)"), cwd=tmp_path, env={}, timeout=0.2)


def test_stdin_is_closed(tmp_path: Path) -> None:
    result = process.run(_py("import sys; print(repr(sys.stdin.read()))"), cwd=tmp_path, env={})
    assert result.stdout == "''\n"
