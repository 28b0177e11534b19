"""LMD003: names that look like the ones the naming rule derives, but are not.

Every CodeBuild project, capacity provider and function name of every environment is derived
with :func:`lmi_delivery.config.naming.derived_names`. A word in a workflow, a buildspec, a
tfvars file or a Terraform string literal that is not one of them but is nearly one (a typo, a
stray suffix, the wrong order) is reported with the name it should be. Words that extend a
derived name (``agent-core-dev-tf-plan-logs``) are other things and are left alone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lmi_delivery.config.naming import derived_names
from lmi_delivery.config.yamlpos import PathKey, Value
from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.sources import Repo, TextFile
from lmi_delivery.errors import Location
from lmi_delivery.findings import Finding

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*[A-Za-z0-9]")
_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
CUTOFF = 0.85


@dataclass(frozen=True)
class Derived:
    name: str
    what: str


def derived(repo: Repo) -> dict[str, Derived]:
    config = repo.config
    table: dict[str, Derived] = {}
    for env in config.environments.values():
        names = derived_names(config, env)
        for label, mapping in (("CodeBuild project", names.projects),
                               ("capacity provider", names.capacity_providers),
                               ("function", names.functions)):
            for key, name in mapping.items():
                table.setdefault(name, Derived(name, f"the {label} {key!r} of {env.name}"))
    return table


def check(repo: Repo) -> Iterator[Finding]:
    table = derived(repo)
    if not table:
        return
    names = sorted(table)
    seen: set[tuple[Location, str]] = set()

    def judge(word: str, where: Location) -> Iterator[Finding]:
        if word in table or (where, word) in seen or not ("-" in word or "_" in word):
            return
        if any(word.startswith((n + "-", n + "_")) or word.endswith(("-" + n, "_" + n))
               for n in names):
            return
        match = difflib.get_close_matches(word, names, n=1, cutoff=CUTOFF)
        if match:
            seen.add((where, word))
            should = table[match[0]]
            yield finding("LMD003", where,
                          f"{word!r} is not a name the naming rule derives: {should.what} is "
                          f"{should.name!r} (see `lmi-delivery names`)")

    for file in (*repo.workflows, *repo.buildspecs):
        for path, text in _strings(file.value, ()):
            start = file.location(*path)
            for word in _WORD.findall(text):
                yield from judge(word, file.find(word, start))
    for text_file in (*repo.terraform, *repo.tfvars):
        for word, index in _hcl_words(text_file):
            yield from judge(word, text_file.at(index))


def _strings(value: Value, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))
    elif isinstance(value, str):
        yield path, value


def _hcl_words(file: TextFile) -> Iterator[tuple[str, int]]:
    """Words inside string literals of HCL, skipping comment lines."""
    offset = 0
    for line in file.text.splitlines(keepends=True):
        stripped = line.lstrip()
        if not stripped.startswith(("#", "//")):
            for literal in _STRING.finditer(line):
                for word in _WORD.finditer(literal.group(1)):
                    yield word.group(), offset + literal.start(1) + word.start()
        offset += len(line)

