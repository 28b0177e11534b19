"""Step outputs through ``$GITHUB_OUTPUT``, safe for values of any shape.

Each value is written in the runner's heredoc form (``name<<DELIMITER`` ... ``DELIMITER``) with
a random delimiter that does not occur in the value, so a multi-line plan summary or a value that
looks like ``other=1`` cannot forge another output.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _delimiter(value: str) -> str:
    while True:
        candidate = f"ghadelimiter_{secrets.token_hex(16)}"
        if candidate not in value:
            return candidate


def format_outputs(values: Mapping[str, str]) -> str:
    """The text to append to ``$GITHUB_OUTPUT`` for ``values``."""
    chunks = []
    for name, value in values.items():
        if not _NAME.match(name):
            raise ValueError(f"invalid output name {name!r}")
        delimiter = _delimiter(value)
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(chunks)


def write_outputs(path: str | Path | None, values: Mapping[str, str]) -> None:
    """Append ``values`` to the outputs file; nothing happens outside a runner (no path)."""
    if not path or not values:
        return
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(format_outputs(values))


def read_outputs(text: str) -> dict[str, str]:
    """Parse an outputs file as the runner does (both ``k=v`` and heredoc forms); last wins."""
    found: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"output {name}: delimiter {delimiter} not found")
            i += 1
            found[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
    return found
