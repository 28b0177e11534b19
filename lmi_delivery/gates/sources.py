"""Where a Terraform address is written: ``resource "TYPE" "NAME" {`` in the ``.tf`` files.

Plan JSON carries no file or line. :class:`SourceIndex` scans the ``.tf`` files of the working
directory for resource, data and module headers, follows ``module_calls[*].source`` of the
plan's configuration into local modules (``./`` or ``../`` paths), and answers with a
:class:`~lmi_delivery.errors.Location` relative to the repository root. A resource in a remote
module is located at its module call; anything not found is ``None``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from lmi_delivery.errors import Location
from lmi_delivery.findings import Finding, by_severity
from lmi_delivery.gates.plan_json import Plan, Resource

_HEADER = re.compile(
    r'^(?P<indent>[ \t]*)(?P<kind>resource|data)[ \t]+"?(?P<type>[\w-]+)"?[ \t]+'
    r'"?(?P<name>[\w-]+)"?[ \t]*\{'
    r'|^(?P<mindent>[ \t]*)module[ \t]+"?(?P<module>[\w-]+)"?[ \t]*\{',
    re.MULTILINE,
)

#: (kind, type, name) → location; kind is ``resource``, ``data`` or ``module``.
Headers = dict[tuple[str, str, str], Location]


class SourceIndex:
    def __init__(self, working_dir: Path, repo_root: Path, plan: Plan | None = None) -> None:
        self.working_dir = working_dir
        self.repo_root = repo_root
        self._calls: Mapping[str, Any] = {}
        if plan is not None:
            self._calls = (plan.data.get("configuration") or {}).get("root_module") or {}
        self._cache: dict[Path, Headers] = {}

    def locate(self, resource: Resource) -> Location | None:
        kind = "data" if resource.mode == "data" else "resource"
        return self.find(resource.module, kind, resource.type, resource.name)

    def find(self, module: str, kind: str, rtype: str, name: str) -> Location | None:
        """The header of ``kind "rtype" "name"`` in ``module`` (``module.a.module.b``)."""
        directory = self.working_dir
        config = self._calls
        fallback: Location | None = None
        for call in module.split(".")[1::2] if module else []:
            header = self._headers(directory).get(("module", "", call))
            fallback = header or fallback
            entry = (config.get("module_calls") or {}).get(call) or {}
            source = str(entry.get("source", ""))
            if not source.startswith(("./", "../")):
                return fallback
            directory = (directory / source).resolve()
            config = entry.get("module") or {}
        return self._headers(directory).get((kind, rtype, name), fallback)

    def _headers(self, directory: Path) -> Headers:
        if directory not in self._cache:
            self._cache[directory] = self._scan(directory)
        return self._cache[directory]

    def _scan(self, directory: Path) -> Headers:
        found: Headers = {}
        for path, text in tf_files(directory):
            relative = relative_to(path, self.repo_root)
            for match in _HEADER.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                if match.group("module"):
                    key = ("module", "", match.group("module"))
                    column = len(match.group("mindent")) + 1
                else:
                    key = (match.group("kind"), match.group("type"), match.group("name"))
                    column = len(match.group("indent")) + 1
                found.setdefault(key, Location(relative, line, column))
        return found



def tf_files(directory: Path) -> Iterator[tuple[Path, str]]:
    """The ``*.tf`` files directly in ``directory``, sorted, with their text (unreadable ones
    left out: a source position is a help, never a reason to fail)."""
    try:
        files = sorted(p for p in directory.glob("*.tf") if p.is_file())
    except OSError:
        return
    for path in files:
        try:
            yield path, path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue


def relative_to(path: Path, root: Path | None) -> str:
    """``path`` relative to ``root`` for a finding's location (as given without a root)."""
    if root is None:
        return path.as_posix()
    try:
        return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()
    except ValueError:  # another drive
        return path.as_posix()


def place(plan: Plan, findings: list[Finding], sources: SourceIndex | None) -> list[Finding]:
    """Give every finding without a location the source position of its resource."""
    if sources is None:
        return sorted(set(findings), key=by_severity)
    resources = {r.address: r for r in plan.changes()}
    resources.update({r.address: r for r in plan.resources()})
    located: set[Finding] = set()
    for item in findings:
        resource = resources.get(item.address)
        if item.location is None and resource is not None:
            item = replace(item, location=sources.locate(resource))
        located.add(item)
    return sorted(located, key=by_severity)
