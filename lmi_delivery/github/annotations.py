"""Workflow commands for annotations and log groups, escaped as the runner expects.

``::error file=F,line=L,col=C,title=T::message`` puts the message on the line of the file in
the pull request's diff and the run's summary. Data is escaped (``%``, CR, LF) and property
values too (also ``:`` and ``,``), so a message can never end the command early or start
another one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lmi_delivery.errors import ConfigError, Location

Level = Literal["error", "warning", "notice"]


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    level: Level
    message: str
    file: str | None = None
    line: int = 0
    column: int = 0
    title: str | None = None

    def command(self) -> str:
        props = []
        if self.file:
            props.append(f"file={escape_property(self.file)}")
            if self.line > 0:
                props.append(f"line={self.line}")
                if self.column > 0:
                    props.append(f"col={self.column}")
        if self.title:
            props.append(f"title={escape_property(self.title)}")
        head = f"::{self.level}"
        if props:
            head += " " + ",".join(props)
        return f"{head}::{escape_data(self.message)}"


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


def group(title: str) -> str:
    return f"::group::{escape_data(title)}"


END_GROUP = "::endgroup::"


def lines(annotations: Iterable[Annotation]) -> list[str]:
    return [a.command() for a in annotations]
