"""LMD006: Terraform pinned to a version other than ``terraform.version``.

Pins are read from ``required_version`` in ``*.tf`` (a constraint: reported when the configured
version does not satisfy it), ``hashicorp/setup-terraform``'s ``terraform_version``, variables
named ``TF_VERSION``/``TERRAFORM_VERSION``/``LMI_TERRAFORM_VERSION`` in workflows and buildspecs,
``--version`` of ``lmi-delivery terraform install``, ``tfenv install|use``, HashiCorp release
URLs in scripts, ``.terraform-version`` and ``.tool-versions``. Values holding a variable or an
expression are not judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lmi_delivery.config.yamlpos import PathKey, Value
from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.sources import Repo, TextFile, YamlFile
from lmi_delivery.doctor.workflow import buildspec_scripts, steps
from lmi_delivery.errors import Location
from lmi_delivery.findings import Finding

_EXACT = re.compile(r"v?(\d+\.\d+\.\d+)")
_VARIABLE = re.compile(r"(LMI_)?(TF|TERRAFORM)_VERSION")
_REQUIRED = re.compile(r'^\s*required_version\s*=\s*"([^"]*)"', re.MULTILINE)
_RELEASE_URL = re.compile(r"releases\.hashicorp\.com/terraform/(\d+\.\d+\.\d+)/")
_CONSTRAINT = re.compile(r"\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})\s*")


def check(repo: Repo) -> Iterator[Finding]:
    pinned = repo.config.terraform.version
    source = repo.config.location("terraform", "version")
    tail = f"but terraform.version is {pinned} ({source})"
    for where, version in _pins(repo):
        exact = _EXACT.fullmatch(version.strip())
        if exact and exact.group(1) != pinned:
            yield finding("LMD006", where, f"Terraform {exact.group(1)} is pinned here, {tail}")
    for file in repo.terraform:
        for match in _REQUIRED.finditer(file.text):
            constraint = match.group(1)
            exact_pin = _EXACT.fullmatch(constraint.strip().lstrip("=").strip())
            if not exact_pin and not satisfies(pinned, constraint):
                yield finding("LMD006", file.at(match.start(1)),
                              f"required_version {constraint!r} excludes Terraform {pinned}, "
                              f"{tail}")


def _pins(repo: Repo) -> Iterator[tuple[Location, str]]:
    for file in repo.terraform:
        for match in _REQUIRED.finditer(file.text):
            constraint = match.group(1).strip().lstrip("=").strip()
            if _EXACT.fullmatch(constraint):
                yield file.at(match.start(1)), constraint
    for file in repo.workflows:
        yield from _variables(file, file.value, ())
        for step in steps(file):
            uses = step.value.get("uses")
            with_ = step.value.get("with")
            if (isinstance(uses, str) and uses.startswith("hashicorp/setup-terraform")
                    and isinstance(with_, dict) and "terraform_version" in with_):
                yield (file.location(*step.path, "with", "terraform_version"),
                       str(with_["terraform_version"]))
    for file in repo.buildspecs:
        yield from _variables(file, file.value, ())
        for path, command in buildspec_scripts(file):
            yield from _script_pins(file, path, command)
    for text in repo.version_files:
        yield from _version_file(text)


def _variables(file: YamlFile, value: Value, path: PathKey) -> Iterator[tuple[Location, str]]:
    """``*_VERSION`` variables anywhere in a workflow or buildspec."""
    if isinstance(value, dict):
        for key, item in value.items():
            if _VARIABLE.fullmatch(str(key)) and isinstance(item, str | int | float):
                yield file.location(*path, key), str(item)
            else:
                yield from _variables(file, item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _variables(file, item, (*path, index))


def _script_pins(file: YamlFile, path: PathKey, command: str) -> Iterator[tuple[Location, str]]:
    start = file.location(*path)
    words = command.split()
    for index, word in enumerate(words[:-1]):
        after = words[index + 1]
        if ((word == "--version" and "install" in words)
                or (word in ("install", "use") and index > 0 and words[index - 1] == "tfenv")):
            yield file.find(after, start), after
        elif word.startswith("--version="):
            yield file.find(word, start), word.split("=", 1)[1]
    for match in _RELEASE_URL.finditer(command):
        yield file.find(match.group(0), start), match.group(1)


def _version_file(file: TextFile) -> Iterator[tuple[Location, str]]:
    offset = 0
    for line in file.text.splitlines(keepends=True):
        words = line.split()
        if file.relative.endswith(".terraform-version") and words:
            yield file.at(offset + line.index(words[0])), words[0]
            return
        if len(words) >= 2 and words[0] == "terraform":
            yield file.at(offset + line.index(words[1], len("terraform"))), words[1]
        offset += len(line)


def _parts(version: str) -> tuple[int, int, int]:
    numbers = [int(n) for n in version.split(".")] + [0, 0]
    return numbers[0], numbers[1], numbers[2]


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` meets a Terraform version constraint (unparsable: assume it does)."""
    have = _parts(version)
    for part in constraint.split(","):
        match = _CONSTRAINT.fullmatch(part)
        if not match:
            return True
        op, text = match.group(1) or "=", match.group(2)
        want = _parts(text)
        if op == "~>":
            depth = text.count(".")
            upper = (want[0] + 1, 0, 0) if depth <= 1 else (want[0], want[1] + 1, 0)
            ok = want <= have < upper
        else:
            ok = {"=": have == want, "!=": have != want, ">": have > want, ">=": have >= want,
                  "<": have < want, "<=": have <= want}[op]
        if not ok:
            return False
    return True
