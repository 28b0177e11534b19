"""A small writer of HCL in ``terraform fmt``'s layout: two-space indents, the ``=`` of
consecutive one-line attributes aligned, blocks set apart by blank lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

#: An expression written as is (a reference, ``true``, a number).
Expr = str


@dataclass(frozen=True)
class Raw:
    """An expression written verbatim: ``aws_iam_role.x.arn``, ``true``, ``[...]``."""

    text: str


@dataclass(frozen=True)
class Heredoc:
    """A multi-line string, byte for byte (``${`` and ``%{`` escaped)."""

    text: str
    marker: str = "EOT"


Value = str | int | bool | Raw | Heredoc | Sequence[str]


@dataclass
class Block:
    labels: tuple[str, ...]
    items: list[tuple[str, Value] | Block] = field(default_factory=list)

    def attr(self, name: str, value: Value) -> Block:
        self.items.append((name, value))
        return self

    def block(self, *labels: str) -> Block:
        child = Block(labels)
        self.items.append(child)
        return child


def string(text: str) -> str:
    """A quoted HCL string holding exactly ``text``."""
    return _escape_templates(json.dumps(text))


def _escape_templates(text: str) -> str:
    return text.replace("${", "$${").replace("%{", "%%{")


def _value(value: Value) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Heredoc):
        if f"\n{value.marker}\n" in f"\n{value.text}" or not value.text.endswith("\n"):
            raise ValueError("heredoc text must end with a newline and not hold its marker")
        return f"<<{value.marker}\n{_escape_templates(value.text)}{value.marker}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return string(value)
    return "[" + ", ".join(string(v) for v in value) + "]"


def render(blocks: Sequence[Block]) -> str:
    return "\n".join(_block(b, 0) for b in blocks)


def _block(block: Block, depth: int) -> str:
    pad = "  " * depth
    head = " ".join([block.labels[0], *(string(label) for label in block.labels[1:])])
    lines = [f"{pad}{head} {{"]
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(name) for name, _ in run), default=0)
        lines.extend(f"{pad}  {name.ljust(width)} = {text}" for name, text in run)
        run.clear()

    def gap() -> None:
        """A blank line, which also ends ``terraform fmt``'s alignment of ``=``."""
        flush()
        if len(lines) > 1:
            lines.append("")

    apart = False  # the last item was a block or a multi-line attribute
    for item in block.items:
        if isinstance(item, Block):
            gap()
            lines.append(_block(item, depth + 1).rstrip("\n"))
            apart = True
            continue
        name, value = item
        text = _value(value)
        if apart or "\n" in text:
            gap()
        if "\n" in text:
            lines.append(f"{pad}  {name} = {text}")
            apart = True
        else:
            run.append((name, text))
            apart = False
    flush()
    lines.append(f"{pad}}}")
    return "\n".join(lines) + "\n"
