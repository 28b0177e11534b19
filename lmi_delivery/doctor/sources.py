"""The files of a user's repository that doctor reads, loaded once with their positions.

Workflows and buildspecs are parsed with :mod:`lmi_delivery.config.yamlpos`, so every value
keeps its line and column; a file that is not valid YAML becomes an ``LMD000`` finding instead
of stopping the run. Terraform, tfvars, Markdown and version files are kept as text.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lmi_delivery.config.model import Config
from lmi_delivery.config.yamlpos import Document, PathKey, Value, decode, parse
from lmi_delivery.doctor.rules import finding
from lmi_delivery.errors import ConfigError, Location
from lmi_delivery.findings import Finding

#: Directories never searched: tool caches, dependencies, virtual environments.
SKIP_DIRS = frozenset({".git", ".terraform", "node_modules", ".venv", "venv", "__pycache__",
                       ".tox", ".mypy_cache", ".ruff_cache", ".pytest_cache"})
MAX_FILES = 5000
MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class TextFile:
    """A file as text, named as the user will read it (the repository root, then the path)."""

    name: str
    relative: str
    text: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def at(self, index: int) -> Location:
        """The location of a character offset of the text."""
        line = self.text.count("\n", 0, index) + 1
        column = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return Location(self.name, line, column)


@dataclass(frozen=True)
class YamlFile(TextFile):
    document: Document | None = None

    @property
    def value(self) -> Value:
        return None if self.document is None else self.document.value

    def location(self, *path: str | int) -> Location:
        """Where the node at ``path`` starts (or its nearest ancestor that has a place)."""
        key: PathKey = tuple(path)
        locations = self.document.locations if self.document else {}
        while key:
            if key in locations:
                return locations[key]
            key = key[:-1]
        return locations.get((), Location(self.name, 1, 1))

    def key_location(self, *path: str | int) -> Location:
        """Where the key of the mapping entry at ``path`` is, else where its value is."""
        if self.document and tuple(path) in self.document.key_locations:
            return self.document.key_locations[tuple(path)]
        return self.location(*path)

    def find(self, needle: str, start: Location) -> Location:
        """The first place at or after ``start`` where ``needle`` is written, else ``start``."""
        return self.search(needle, start) or start

    def search(self, needle: str, start: Location) -> Location | None:
        """The first place at or after ``start`` where ``needle`` is written."""
        lines = self.lines
        for number in range(max(start.line, 1), len(lines) + 1):
            offset = start.column - 1 if number == start.line else 0
            column = lines[number - 1].find(needle, max(offset, 0))
            if column >= 0:
                return Location(self.name, number, column + 1)
        return None


@dataclass(frozen=True)
class Repo:
    """Everything doctor looks at; rules only read it."""

    config: Config
    root: Path
    workflows: list[YamlFile] = field(default_factory=list)
    buildspecs: list[YamlFile] = field(default_factory=list)
    terraform: list[TextFile] = field(default_factory=list)
    tfvars: list[TextFile] = field(default_factory=list)
    docs: list[TextFile] = field(default_factory=list)
    version_files: list[TextFile] = field(default_factory=list)
    unreadable: list[Finding] = field(default_factory=list)

    def exists(self, relative: str) -> bool:
        return (self.root / relative).exists()


def load_repo(config: Config) -> Repo:
    """Read the repository around ``config`` (its directory is the repository root)."""
    root = config.root
    files = sorted(_walk(root))
    unreadable: list[Finding] = []

    def yaml_files(selected: list[str]) -> list[YamlFile]:
        loaded = []
        for relative in selected:
            item = _yaml(root, relative)
            if isinstance(item, YamlFile):
                loaded.append(item)
            else:
                unreadable.extend(item)
        return loaded

    def text_files(selected: list[str]) -> list[TextFile]:
        loaded = []
        for rel in selected:
            text = _text(root / rel)
            if text is not None:
                loaded.append(TextFile(display(root, rel), rel, text))
        return loaded

    workflows = [f for f in files if f.startswith(".github/workflows/") and _is_yaml(f)
                 and f.count("/") == 2]
    buildspecs = [f for f in files if _is_yaml(f) and (
        (f.startswith("buildspecs/") and f.count("/") == 1)
        or (f.count("/") == 0 and Path(f).name.startswith("buildspec")))]
    return Repo(
        config=config,
        root=root,
        workflows=yaml_files(workflows),
        buildspecs=yaml_files(buildspecs),
        terraform=text_files([f for f in files if f.endswith(".tf")]),
        tfvars=text_files([f for f in files if f.endswith(".tfvars")]),
        docs=text_files([f for f in files if f.lower().endswith(".md")]),
        version_files=text_files([f for f in files
                                  if Path(f).name in (".terraform-version", ".tool-versions")]),
        unreadable=unreadable,
    )


def display(root: Path, relative: str) -> str:
    """How a file is named in findings: the root as the user gave it, then the path."""
    return str(root / relative) if str(root) not in ("", ".") else relative


def _is_yaml(name: str) -> bool:
    return name.endswith((".yml", ".yaml"))


def _walk(root: Path) -> Iterator[str]:
    count = 0
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIP_DIRS
                            and (not d.startswith(".") or d == ".github"))
        base = Path(directory).relative_to(root)
        for name in names:
            count += 1
            if count > MAX_FILES:
                return
            yield (base / name).as_posix()


def _text(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        return path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return None


def _yaml(root: Path, relative: str) -> YamlFile | list[Finding]:
    name = display(root, relative)
    try:
        data = (root / relative).read_bytes()[:MAX_BYTES]
        text = decode(data, name)
        document = parse(text, name)
    except OSError as exc:
        return [finding("LMD000", Location(name), f"cannot be read: {exc.strerror or exc}")]
    except ConfigError as exc:
        return [finding("LMD000", d.location, f"{d.message}; nothing in this file was checked")
                for d in exc.diagnostics]
    return YamlFile(name, relative, text, document)
