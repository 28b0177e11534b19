"""YAML loading that keeps the line and column of every node.

The document is composed (not constructed) by ruamel.yaml, and the node tree is turned into plain
Python values here, so that we decide what each scalar means:

* strings stay strings; timestamps and version-like scalars (``1.12.2``, ``1.10``, ``0755``,
  ``2026-01-01``) stay exactly as written;
* only canonical decimal integers become ``int`` and only plain decimals without trailing zeros
  (``2.5``, ``1.0``) become ``float``; ``true``/``false`` become ``bool``; ``null``/``~``/empty
  become ``None``.

Anchors, aliases and merge keys are refused (they hide values from a reviewer), and so are
duplicate keys, non-scalar keys and tags other than the standard scalar ones. All such problems
are collected and raised together as one :class:`ConfigError`. A ``%YAML`` directive must name
1.1 or 1.2, the versions ruamel.yaml reads (it would fail an internal assertion on any other).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import Scanner, ScannerError

from lmi_delivery.errors import ConfigError, Diagnostic, Location

PathKey: TypeAlias = tuple[str | int, ...]
Value: TypeAlias = Any  # dict[str, Value] | list[Value] | str | int | float | bool | None

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp"))
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(0|[1-9][0-9]*)\.([0-9]*[1-9]|0)")
_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})
_BRACKETS = re.compile(r"[][{}]")
MAX_DEPTH = 64
#: The ``%YAML`` versions ruamel.yaml reads.
YAML_VERSIONS = ((1, 1), (1, 2))


@dataclass(frozen=True)
class Document:
    """Plain values of a YAML document and where each node came from."""

    value: Value
    locations: Mapping[PathKey, Location]
    """Position of the value node at each path (the root is ``()``)."""
    key_locations: Mapping[PathKey, Location] = field(default_factory=dict)
    """Position of the key of each mapping entry, by the entry's path."""


def decode(data: bytes, file: str) -> str:
    """UTF-8 text of ``data``; a bad byte is reported at its line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        prefix = data[line_start : exc.start].decode("utf-8", errors="replace")
        bad = data[exc.start : exc.start + 1].hex()
        raise ConfigError.at(
            file, f"not valid UTF-8: byte 0x{bad} cannot be decoded",
            line=line, column=len(prefix) + 1,
        ) from None


def parse(text: str, file: str) -> Document:
    """Compose ``text`` and convert it to plain values with positions."""
    _check_flow_depth(text, file)
    try:
        with warnings.catch_warnings():  # reused anchors warn; every anchor is refused anyway
            warnings.simplefilter("ignore")
            yaml = YAML(typ="safe", pure=True)
            yaml.Scanner = _Scanner
            root = yaml.compose(text)
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    except ReaderError as exc:
        line, column = _line_col(text, exc.position)
        raise ConfigError.at(
            file, f"unacceptable character {_char(exc.character)} in YAML",
            line=line, column=column,
        ) from None
    except YAMLError as exc:
        raise ConfigError.at(file, f"invalid YAML: {exc}", line=1, column=1) from None
    except RecursionError:
        raise ConfigError.at(file, "YAML nesting is too deep", line=1, column=1) from None
    if root is None:
        raise ConfigError.at(file, "the file is empty: expected a mapping", line=1, column=1)
    builder = _Builder(file)
    value = builder.build(root, ())
    if builder.diagnostics:
        raise ConfigError(builder.diagnostics)
    if value is None:
        raise ConfigError.at(file, "the file is empty: expected a mapping", line=1, column=1)
    return Document(value, builder.locations, builder.key_locations)


def _check_flow_depth(text: str, file: str) -> None:
    """Refuse deeply nested flow collections before ruamel spends quadratic time on them."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_DEPTH:
            line, column = _line_col(text, match.start())
            raise ConfigError.at(file, f"YAML nesting is too deep (more than {MAX_DEPTH} levels)",
                                 line=line, column=column)


class _Scanner(Scanner):
    """ruamel.yaml's scanner, refusing a ``%YAML`` version it cannot read as a syntax error.

    ruamel.yaml accepts any ``%YAML MAJOR.MINOR`` while scanning, then asserts (``1.11``,
    ``1.3``) or refuses (``2.0``) when parsing; here every such version is a
    :class:`ScannerError` that points at the version number.
    """

    def scan_yaml_directive_value(self, start_mark: Any) -> Any:
        while self.reader.peek() == " ":
            self.reader.forward()
        at = self.reader.get_mark()
        version = super().scan_yaml_directive_value(start_mark)
        if tuple(version) not in YAML_VERSIONS:
            major, minor = version
            raise ScannerError(
                "while scanning a directive", start_mark,
                f"unsupported YAML version {major}.{minor} in the %YAML directive "
                f"(expected {' or '.join(f'{a}.{b}' for a, b in YAML_VERSIONS)})", at)
        return version


def _syntax_error(exc: MarkedYAMLError, file: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    parts = [p for p in (exc.context, exc.problem) if p]
    message = "invalid YAML: " + ("; ".join(parts) if parts else "syntax error")
    if mark is None:
        return ConfigError.at(file, message, line=1, column=1)
    return ConfigError.at(file, message, line=mark.line + 1, column=mark.column + 1)


def _char(character: object) -> str:
    code = character if isinstance(character, int) else ord(str(character)[:1] or "\0")
    return f"U+{code:04X}"


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.locations: dict[PathKey, Location] = {}
        self.key_locations: dict[PathKey, Location] = {}
        self.diagnostics: list[Diagnostic] = []
        self.seen: set[int] = set()

    def where(self, node: Node) -> Location:
        mark = node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)

    def problem(self, node: Node, message: str, path: PathKey) -> None:
        self.diagnostics.append(Diagnostic(self.where(node), message, dotted(path)))

    def build(self, node: Node, path: PathKey, at: Location | None = None) -> Value:
        """Plain value of ``node``; ``at`` is where to point when the node has no own place."""
        if id(node) in self.seen:  # the composer hands out an alias as the anchored node again
            where = at or self.locations.get(path[:-1], self.where(node))
            self.diagnostics.append(Diagnostic(
                where, f"YAML aliases are not allowed (*{node.anchor}): write the value out",
                dotted(path)))
            return None
        self.seen.add(id(node))
        empty = isinstance(node, ScalarNode) and node.value == "" and not node.style
        self.locations[path] = at if (empty and at) else self.where(node)
        if getattr(node, "anchor", None):
            self.problem(node, f"YAML anchors are not allowed (&{node.anchor}):"
                               " write the value out", path)
        if len(path) > MAX_DEPTH:
            self.problem(node, "YAML nesting is too deep", path)
            return None
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def mapping(self, node: MappingNode, path: PathKey) -> dict[str, Value]:
        result: dict[str, Value] = {}
        first: dict[str, Location] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, "mapping keys must be plain strings", path)
                continue
            if key_node.tag == f"{_TAG}merge":
                self.problem(key_node, "YAML merge keys (<<) are not allowed: write the keys out",
                             (*path, "<<"))
                continue
            key = str(key_node.value)
            if key in first:
                self.problem(key_node, f"duplicate key {key!r} (first defined at line "
                                       f"{first[key].line})", (*path, key))
                continue
            first[key] = self.where(key_node)
            self.key_locations[(*path, key)] = first[key]
            result[key] = self.build(value_node, (*path, key), first[key])
        return result

    def scalar(self, node: Node, path: PathKey) -> Value:
        tag = str(node.tag)
        text = str(node.value)
        if tag not in _SCALAR_TAGS:
            self.problem(node, f"unsupported YAML tag {tag.replace(_TAG, '!!')}", path)
            return None
        if getattr(node, "style", None) or tag in (f"{_TAG}str", f"{_TAG}timestamp"):
            return text
        if tag == f"{_TAG}null":
            return None
        if tag == f"{_TAG}bool":
            lowered = text.lower()
            return True if lowered in _TRUE else False if lowered in _FALSE else text
        if tag == f"{_TAG}int" and _INT.fullmatch(text):
            return int(text)
        if tag == f"{_TAG}float" and _FLOAT.fullmatch(text):
            return float(text)
        return text


def dotted(path: PathKey) -> str:
    """A JSON-path-like rendering: ``functions.router.scaling.min``, ``var_files[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
