"""``::add-mask::`` for every secret-like value ``ci`` handles, and redaction of our own text.

The runner hides masked values in the log only; job summaries, pull request comments and report
files are not masked by GitHub. So values are both registered with the runner (before anything
else is printed) and removed from every text ``ci`` writes itself.

Secret-like: the value of an environment variable whose *name* says secret (``*_TOKEN``,
``*SECRET*``, ``*PASSWORD*``, ``*_KEY``, ...), and any value handed in explicitly (the GitHub
token, Terraform sensitive outputs should any reach us). PARAMETER_STORE and SECRETS_MANAGER
references are never resolved here: CodeBuild resolves them inside the build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from lmi_delivery.github.annotations import escape_data

SECRET_NAME = re.compile(
    r"(SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_?KEY|"
    r"SESSION_?KEY|_KEY$|^KEY$|AUTH|COOKIE|SIGNATURE|DSN$|CONNECTION_?STRING)", re.IGNORECASE)
#: Values too short or too common to be secrets: masking them would garble every log line.
MIN_LENGTH = 6
_NOT_SECRET = frozenset({"true", "false", "null", "none", "sandbox", "testing"})
REDACTED = "***"


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def _parts(value: str) -> list[str]:
    """What to mask: the value, or each line of a multi-line one (a workflow command is one
    line, so a multi-line value is never written into ``::add-mask::`` whole)."""
    parts = [p.strip() for p in re.split(r"[\r\n]+", value)] if re.search(r"[\r\n]", value) \
        else [value]
    return [p for p in parts if len(p) >= MIN_LENGTH and p.lower() not in _NOT_SECRET]


class Masker:
    """The secret values of one run: registered with the runner and redacted from our text."""

    def __init__(self) -> None:
        self._values: list[str] = []

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(self._values)

    def add(self, value: str | None) -> list[str]:
        """Remember ``value``; return the ``::add-mask::`` lines for what is new."""
        value = value or ""
        new = [p for p in _parts(value) if p not in self._values]
        self._values.extend(new)
        if new and "\n" in value.strip() and value not in self._values:
            self._values.append(value)  # redacted whole too, not only line by line
        # Longest first, so a value containing another is redacted whole.
        self._values.sort(key=len, reverse=True)
        return [f"::add-mask::{escape_data(p)}" for p in new]

    def add_environ(self, environ: Mapping[str, str]) -> list[str]:
        found: list[str] = []
        for name in sorted(environ):
            if is_secret_name(name):
                found += self.add(environ[name])
        return found

    def add_all(self, values: Iterable[str]) -> list[str]:
        return [line for value in values for line in self.add(value)]

    def redact(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, REDACTED)
        return text
