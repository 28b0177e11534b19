"""Just enough of HCL to find blocks and attributes, with their offsets in the file's text.

Terraform files are read as text (doctor never runs Terraform). :func:`masked` blanks comments
and the insides of strings and heredocs, keeping every offset and line break, so braces and
``=`` signs in them are not mistaken for structure. :func:`blocks` and :func:`attributes` then
read the top level of a body: ``terraform { backend "s3" { use_lockfile = true } }`` is the
``terraform`` block, whose body holds a ``backend`` block labelled ``s3``, whose body holds one
attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCK = re.compile(r'(?m)^[ \t]*([A-Za-z_][\w-]*)((?:[ \t]+(?:"[^"\n]*"|[A-Za-z_][\w-]*))*)'
                    r'[ \t]*\{')
_LABEL = re.compile(r'"([^"\n]*)"|([A-Za-z_][\w-]*)')
_ATTRIBUTE = re.compile(r"(?m)(?:^|(?<=\{))[ \t]*([A-Za-z_][\w-]*)[ \t]*=(?![=>])"
                        r"[ \t]*(\S.*?)[ \t]*$")
_HEREDOC = re.compile(r"<<-?[ \t]*([A-Za-z_][\w-]*)[ \t]*\n")
_OPEN, _CLOSE = "{[(", "}])"


@dataclass(frozen=True)
class Block:
    type: str
    labels: tuple[str, ...]
    start: int
    """Offset of the block's type word."""
    body: tuple[int, int]
    """Offsets just inside its braces."""


@dataclass(frozen=True)
class Attribute:
    name: str
    value: str
    """The expression as written (comments removed), e.g. ``true`` or ``"locks"``."""
    start: int
    value_start: int


def masked(text: str) -> str:
    """``text`` with comments and the contents of strings and heredocs made blank."""
    out = list(text)
    i, n = 0, len(text)

    def blank(start: int, end: int) -> None:
        for j in range(start, min(end, n)):
            if out[j] != "\n":
                out[j] = " "

    while i < n:
        c = text[i]
        if c == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            blank(i, end)
            i = end
        elif c == '"':
            end = _string_end(text, i + 1)
            blank(i + 1, end - 1)
            i = end
        elif c == "<" and (heredoc := _HEREDOC.match(text, i)):
            closing = re.compile(rf"(?m)^[ \t]*{re.escape(heredoc.group(1))}[ \t]*$")
            found = closing.search(text, heredoc.end())
            end = n if found is None else found.start()
            blank(heredoc.end(), end)
            i = n if found is None else found.end()
        else:
            i += 1
    return "".join(out)


def _string_end(text: str, i: int) -> int:
    """The offset just past the closing quote of a string whose contents start at ``i``."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"' or c == "\n":
            return i + 1
        elif text.startswith(("${", "%{"), i):
            i = _template_end(text, i + 2)
        else:
            i += 1
    return n


def _template_end(text: str, i: int) -> int:
    """The offset just past the ``}`` that closes an interpolation whose inside starts at ``i``."""
    depth, n = 1, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _string_end(text, i + 1)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _close(shape: str, start: int) -> int:
    """The offset of the bracket that closes the one just before ``start`` (masked text)."""
    depth = 1
    for i in range(start, len(shape)):
        if shape[i] in _OPEN:
            depth += 1
        elif shape[i] in _CLOSE:
            depth -= 1
            if depth == 0:
                return i
    return len(shape)


def _top_level(shape: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of ``shape[start:end]`` that are not inside brackets."""
    spans, depth, begin = [], 0, start
    for i in range(start, end):
        if shape[i] in _OPEN:
            if depth == 0:
                spans.append((begin, i + 1))
            depth += 1
        elif shape[i] in _CLOSE and depth > 0:
            depth -= 1
            if depth == 0:
                begin = i
    if depth == 0:
        spans.append((begin, end))
    return spans


def blocks(text: str, shape: str, start: int = 0, end: int | None = None) -> list[Block]:
    """The blocks at the top level of ``text[start:end]``; ``shape`` is ``masked(text)``."""
    found = []
    for span_start, span_end in _top_level(shape, start, len(shape) if end is None else end):
        for match in _BLOCK.finditer(shape, span_start, span_end):
            labels = tuple(a or b for a, b in _LABEL.findall(
                text[match.start(2):match.end(2)]))
            body_start = match.end()
            found.append(Block(match.group(1), labels, match.start(1),
                               (body_start, _close(shape, body_start))))
    return found


def attributes(text: str, shape: str, block: Block) -> list[Attribute]:
    """The attributes at the top level of ``block``'s body."""
    found = []
    for span_start, span_end in _top_level(shape, *block.body):
        for match in _ATTRIBUTE.finditer(shape, span_start, span_end):
            value = text[match.start(2):match.end(2)].strip()
            found.append(Attribute(match.group(1), value, match.start(1), match.start(2)))
    return found


def ignore_changes(text: str, shape: str, block: Block) -> frozenset[str] | None:
    """What ``lifecycle { ignore_changes = [...] }`` of a resource block lists (``all`` for
    ``ignore_changes = all``); ``None`` when the block has no such attribute."""
    for inner in blocks(text, shape, *block.body):
        if inner.type != "lifecycle":
            continue
        for attribute in attributes(text, shape, inner):
            if attribute.name == "ignore_changes":
                return frozenset(_IGNORED.findall(_list_shape(shape, attribute)))
    return None


_IGNORED = re.compile(r"[A-Za-z_][\w-]*")


def _list_shape(shape: str, attribute: Attribute) -> str:
    """An attribute's whole value in the masked text (across lines when it is a bracketed
    list), so that comments and strings (``tags["Name"]``) leave no words behind."""
    start = attribute.value_start
    if shape[start:start + 1] != "[":
        end = shape.find("\n", start)
        return shape[start:len(shape) if end < 0 else end]
    return shape[start + 1:_close(shape, start + 1)]


def top_attributes(text: str, shape: str) -> list[Attribute]:
    """The attributes at the top level of a file (a ``.tfvars`` file's assignments)."""
    return attributes(text, shape, Block("", (), 0, (0, len(shape))))
