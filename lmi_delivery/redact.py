"""Secret values taken out of every line a build prints.

Inside a build lmi-delivery knows which variables are secrets: the names of the config's
``codebuild.secrets``, whose values CodeBuild resolved into the build's environment. A
:class:`Redactor` is made once, at the edge, from that environment and the config, and every
line (Terraform's streamed output, the build's report, an error's message) goes through it:
each value of at least :data:`MIN_LENGTH` characters, and each line of a multi-line value,
becomes ``***``, longest first, so a value containing another is replaced whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lmi_delivery.config.model import Config
    from lmi_delivery.errors import LmiError

#: Shorter values are not replaced: they would garble every line and hide nothing.
MIN_LENGTH = 4
REDACTED = "***"


class Redactor:
    """Replace known secret values in text; without values it returns text unchanged."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        found: set[str] = set()
        for value in values:
            found.add(value)
            if re.search(r"[\r\n]", value):
                found.update(part.strip() for part in re.split(r"[\r\n]+", value))
        self.values = tuple(sorted((v for v in found if len(v) >= MIN_LENGTH),
                                   key=lambda v: (-len(v), v)))
        self._pattern = re.compile("|".join(map(re.escape, self.values))) if self.values \
            else None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], names: Iterable[str]) -> Redactor:
        """The values ``environ`` holds under ``names`` (a name it lacks is skipped)."""
        return cls(environ[name] for name in names if environ.get(name))

    @classmethod
    def for_build(cls, environ: Mapping[str, str], config: Config) -> Redactor:
        """The build's secrets: the values of the config's ``codebuild.secrets`` variables."""
        return cls.from_environ(environ, config.codebuild.secrets)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(REDACTED, text)

    def lines(self, callback: Callable[[str], None]) -> Callable[[str], None]:
        """``callback`` receiving each line redacted (a stream callback of the runner)."""
        def redacted(line: str) -> None:
            callback(self(line))
        return redacted

    def error(self, error: LmiError) -> LmiError:
        """``error`` with its message (and a failed command's output) redacted, in place."""
        error.message = self(error.message)
        error.args = (error.message, *error.args[1:])
        for attribute in ("stdout", "stderr"):
            value = getattr(error, attribute, None)
            if isinstance(value, str):
                setattr(error, attribute, self(value))
        return error
