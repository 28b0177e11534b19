"""The one error hierarchy of lmi-delivery and the exit code each error maps to.

Every error a user can cause or meet derives from :class:`LmiError`. The CLI maps the
``exit_code`` of an error to the process exit status and prints ``str(error)``; tracebacks are
shown only under ``--debug``.

Exit codes (DESIGN.md): 0 success, 1 an operation failed, 2 invalid input, 3 refused by a gate,
130 interrupted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: 1-based line and column, as editors and GitHub annotations count."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column or 1}"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem with a user's input: where it is, what is wrong, and the JSON path if any."""

    location: Location
    message: str
    path: str = ""

    def __str__(self) -> str:
        suffix = f" (at {self.path})" if self.path else ""
        return f"{self.location}: {self.message}{suffix}"


class LmiError(Exception):
    """Base of every error lmi-delivery raises on purpose."""

    exit_code: int = EXIT_FAILED

    def __init__(self, message: str, *, context: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, object] = dict(context or {})

    def __str__(self) -> str:
        return self.message


class InputError(LmiError):
    """Invalid input: usage, configuration, files. Exit code 2."""

    exit_code = EXIT_INVALID


class UsageError(InputError):
    """A command was called with options that do not fit together."""


class ConfigError(InputError):
    """One or more problems in a configuration (or other input) file, each with its location."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics)
        if not self.diagnostics:
            raise ValueError("ConfigError needs at least one diagnostic")
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @classmethod
    def at(cls, file: str, message: str, *, line: int = 0, column: int = 0,
           path: str = "") -> ConfigError:
        return cls([Diagnostic(Location(file, line, column), message, path)])


class GateRefused(LmiError):
    """A gate refused to let a stage run (apply on a pull request, unverified plan, ...)."""

    exit_code = EXIT_REFUSED


class OperationFailed(LmiError):
    """Something we asked for did not happen: a build failed, AWS refused, a command failed."""

    exit_code = EXIT_FAILED


class AwsError(OperationFailed):
    """An AWS call failed after retries; carries the operation and the AWS error code.

    :func:`lmi_delivery.aws.errors.translate` makes one of any botocore error."""

    def __init__(self, operation: str, code: str, message: str, *,
                 context: Mapping[str, object] | None = None) -> None:
        super().__init__(f"{operation} failed: {code}: {message}", context=context)
        self.operation = operation
        self.code = code


class CommandFailed(OperationFailed):
    """An external command (terraform, a scanner) exited non-zero."""

    def __init__(self, argv: list[str], returncode: int, stdout: str, stderr: str) -> None:
        tail = "\n".join(stderr.strip().splitlines()[-20:])
        message = f"command failed with exit code {returncode}: {' '.join(argv)}"
        if tail:
            message += f"\n{tail}"
        super().__init__(message, context={"argv": argv, "returncode": returncode})
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class Interrupted(LmiError):
    """The user or the CI runner cancelled us (SIGINT/SIGTERM). Exit code 130."""

    exit_code = EXIT_INTERRUPTED
