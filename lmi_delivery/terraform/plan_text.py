"""Terraform's text plan, trimmed by resource to fit a budget, and its warnings.

``terraform plan -no-color`` prints a header, one block per resource change (each starting at
a ``  # ADDRESS …`` line), then a trailer (``Plan: …``, ``Changes to Outputs:``, warnings).
:func:`trim` keeps the header, as many *whole* resource blocks as fit and the trailer, and says
how many blocks it left out; only when even that does not fit does it cut at a line.
:func:`warnings` picks Terraform's warning diagnostics out of the same output (with or without
the box drawing of a coloured terminal). The text is the build's output: untrusted. These
functions only cut it; the caller fences it (:func:`lmi_delivery.escape.fenced`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCK_START = re.compile(r"^  # \S")
_TRAILER_START = re.compile(r"^(Plan: |No changes\.|Changes to Outputs:|Warning: |Error: |"
                            r"[╷│╵] )")
_WARNING = re.compile(r"^[╷│╵]?\s*Warning: (?P<summary>.+?)\s*$")
#: Warnings kept, and the length of each (a provider can print thousands, each as long as it
#: likes).
MAX_WARNINGS = 50
MAX_WARNING_CHARS = 300


@dataclass(frozen=True)
class Trimmed:
    text: str
    omitted_blocks: int
    """Whole resource blocks left out."""
    cut: bool
    """Cut at a line as well (the header or the trailer alone did not fit)."""


def split(text: str) -> tuple[str, list[str], str]:
    """``(header, resource blocks, trailer)``; each keeps its line ends."""
    lines = text.splitlines(keepends=True)
    header: list[str] = []
    blocks: list[list[str]] = []
    trailer: list[str] = []
    for line in lines:
        if trailer or (blocks and _TRAILER_START.match(line)):
            trailer.append(line)
        elif _BLOCK_START.match(line):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
        else:
            header.append(line)
    return "".join(header), ["".join(b) for b in blocks], "".join(trailer)


def trim(text: str, limit: int) -> Trimmed:
    """``text`` in at most ``limit`` characters, whole resource blocks first."""
    if len(text) <= limit:
        return Trimmed(text, 0, False)
    header, blocks, trailer = split(text)
    note_room = 120  # "… N more resource changes not shown …"
    room = limit - len(header) - len(trailer) - note_room
    if room < 0:
        return Trimmed(_cut(text, limit), len(blocks), True)
    kept: list[str] = []
    for block in blocks:
        if len(block) > room:
            break
        kept.append(block)
        room -= len(block)
    omitted = len(blocks) - len(kept)
    note = (f"\n  … {omitted:,} more resource change{'s' if omitted != 1 else ''} not shown: "
            "the build log has the whole plan\n\n") if omitted else ""
    return Trimmed(header + "".join(kept) + note + trailer, omitted, False)


def _cut(text: str, limit: int) -> str:
    head = text[:max(0, limit - 80)]
    if "\n" in head:
        head = head[:head.rindex("\n") + 1]
    return head + "… cut here: the build log has the whole plan\n"


def warnings(text: str) -> list[str]:
    """The summaries of Terraform's warnings in ``text``, in order, each at most once."""
    found: list[str] = []
    for line in text.splitlines():
        match = _WARNING.match(line)
        if match:
            summary = match["summary"][:MAX_WARNING_CHARS]
            if summary not in found:
                found.append(summary)
            if len(found) == MAX_WARNINGS:
                break
    return found
