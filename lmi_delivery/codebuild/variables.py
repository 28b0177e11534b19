"""Environment variable overrides of a build, and the rule that keeps secrets out of PLAINTEXT.

CodeBuild takes three types of override: ``PLAINTEXT`` (the value travels in the request and
shows in the console), ``PARAMETER_STORE`` and ``SECRETS_MANAGER`` (the value is a *reference*
that CodeBuild resolves inside the build). A :class:`Variable` marked ``secret`` is refused as
``PLAINTEXT``, and the two reference types accept only something shaped like a reference, so a
pasted secret value is refused rather than sent. Secret values never appear in ``repr`` or in
error messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from lmi_delivery.errors import InputError

VariableType = Literal["PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER"]
VARIABLE_TYPES: tuple[VariableType, ...] = ("PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER")

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: A parameter name (``/team/db/password``, ``db_password``) or its ARN, optionally ``:version``.
_PARAMETER = re.compile(
    r"^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/)?[A-Za-z0-9_.\-/]{1,2048}(:\d+)?$")
#: A secret's ARN or name, optionally followed by ``:json-key:version-stage:version-id``.
_SECRET = re.compile(
    r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@\-]{1,512}"
    r"(:[A-Za-z0-9_.\-]*){0,3}$")
#: How ``--secret-env NAME=<scheme>:<reference>`` names the two reference types.
SCHEMES: dict[str, VariableType] = {"ssm": "PARAMETER_STORE",
                                    "secretsmanager": "SECRETS_MANAGER"}


@dataclass(frozen=True)
class Variable:
    """One ``environmentVariablesOverride`` entry."""

    name: str
    value: str = field(repr=False)
    type: VariableType = "PLAINTEXT"
    secret: bool = False
    """The value is sensitive: never sent as PLAINTEXT, never printed."""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InputError(f"invalid environment variable name {self.name!r}")
        if self.type not in VARIABLE_TYPES:
            raise InputError(f"variable {self.name}: type must be one of "
                             f"{', '.join(VARIABLE_TYPES)}, not {self.type!r}")
        if self.type == "PLAINTEXT" and self.secret:
            raise InputError(
                f"variable {self.name} is secret: refusing to send it as PLAINTEXT; pass a "
                "reference instead (ssm:/parameter/name or secretsmanager:secret-arn)")
        if self.type == "PARAMETER_STORE" and not _PARAMETER.match(self.value):
            raise InputError(f"variable {self.name}: PARAMETER_STORE needs a parameter name "
                             "or ARN (the reference, never the value itself)")
        if self.type == "SECRETS_MANAGER" and not _SECRET.match(self.value):
            raise InputError(f"variable {self.name}: SECRETS_MANAGER needs a secret ARN or "
                             "name (the reference, never the value itself)")

    def to_api(self) -> dict[str, str]:
        return {"name": self.name, "value": self.value, "type": self.type}


def plain(text: str) -> Variable:
    """``NAME=VALUE`` (``--env``) -> a PLAINTEXT variable."""
    name, value = _split(text, "--env")
    return Variable(name, value)


def reference(text: str) -> Variable:
    """``NAME=ssm:/path`` or ``NAME=secretsmanager:arn`` (``--secret-env``) -> a reference."""
    name, value = _split(text, "--secret-env")
    scheme, sep, ref = value.partition(":")
    kind = SCHEMES.get(scheme) if sep else None
    if kind is None or not ref:
        raise InputError(f"--secret-env {name}: expected NAME=ssm:/parameter/name or "
                         "NAME=secretsmanager:secret-arn; secret values are never sent as "
                         "PLAINTEXT")
    return Variable(name, ref, kind, secret=True)


def check_unique(variables: Iterable[Variable]) -> tuple[Variable, ...]:
    seen: set[str] = set()
    result = tuple(variables)
    for variable in result:
        if variable.name in seen:
            raise InputError(f"environment variable {variable.name} is given twice")
        seen.add(variable.name)
    return result


def _split(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        # The text is not echoed: it may be a secret pasted in the wrong place.
        raise InputError(f"{option} expects NAME=VALUE")
    return name, value
