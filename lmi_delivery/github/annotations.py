"""Workflow commands for annotations and log groups, escaped as the runner expects.

``::error file=F,line=L,col=C,title=T::message`` puts the message on the line of the file in
the pull request's diff and the run's summary. Data is escaped (``%``, CR, LF) and property
values too (also ``:`` and ``,``), so a message can never end the command early or start
another one (:mod:`lmi_delivery.escape`). A level other than ``error``, ``warning`` or
``notice`` is refused: the command name is never taken from outside.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lmi_delivery.errors import ConfigError, Location
from lmi_delivery.escape import command_data, command_property
from lmi_delivery.findings import Finding, describe

Level = Literal["error", "warning", "notice"]
LEVELS: tuple[Level, ...] = ("error", "warning", "notice")

#: The workflow command escaping of :mod:`lmi_delivery.escape`, by their older names.
escape_data = command_data
escape_property = command_property


@dataclass(frozen=True)
class Annotation:
    level: Level
    message: str
    file: str | None = None
    line: int = 0
    column: int = 0
    title: str | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"not an annotation level: {self.level!r}")

    def command(self) -> str:
        props = []
        if self.file:
            props.append(f"file={command_property(self.file)}")
            if self.line > 0:
                props.append(f"line={int(self.line)}")
                if self.column > 0:
                    props.append(f"col={int(self.column)}")
        if self.title:
            props.append(f"title={command_property(self.title)}")
        head = f"::{self.level}"
        if props:
            head += " " + ",".join(props)
        return f"{head}::{command_data(self.message)}"


def relative_to_workspace(file: str, workspace: str | None) -> str:
    """GitHub places annotations by paths relative to the repository (the workspace)."""
    if not workspace or not os.path.isabs(file):
        return file
    try:
        rel = os.path.relpath(file, workspace)
    except ValueError:  # pragma: no cover - another drive on Windows
        return file
    return file if rel.startswith("..") else rel


def at(level: Level, location: Location, message: str, *, workspace: str | None = None,
       title: str | None = None) -> Annotation:
    return Annotation(level, message, relative_to_workspace(location.file, workspace),
                      location.line, location.column, title)


def for_config_error(error: ConfigError, workspace: str | None = None) -> list[Annotation]:
    """One ``::error`` per diagnostic of a configuration error."""
    return [at("error", d.location, d.message + (f" (at {d.path})" if d.path else ""),
               workspace=workspace, title="lmi-delivery config")
            for d in error.diagnostics]


#: A finding's level as an annotation's: SARIF's ``note`` is GitHub's ``notice``.
_FINDING_LEVEL: dict[str, Level] = {"error": "error", "warning": "warning", "note": "notice"}


def for_finding(finding: Finding, workspace: str | None = None) -> Annotation:
    """An annotation at the finding's place, at its level: ``RULE address: message`` (and the
    marks of its text line), titled with the rule's name (``lmi-delivery name-drift``)."""
    rule = finding.rule
    return at(_FINDING_LEVEL[finding.level], finding.location or Location(""),
              describe(finding, severity=False), workspace=workspace,
              title=f"lmi-delivery {rule.name or rule.title}")


def group(title: str) -> str:
    return f"::group::{command_data(title)}"


END_GROUP = "::endgroup::"


def lines(annotations: Iterable[Annotation]) -> list[str]:
    return [a.command() for a in annotations]
