"""LMD009: a Terraform root whose state is not in a shared backend that locks.

The root is ``terraform.working_directory``: its own ``*.tf`` files, not the modules below it.
Each build starts from a fresh checkout, so state must live in a shared backend, and two runs
must not write it at once, so the backend must lock. Reported:

- no ``backend`` block (and no ``cloud`` block): the state stays on the build's disk; reported
  at the root's first ``terraform`` block, else at ``terraform.working_directory``;
- ``backend "local"``: a file in the build's checkout, not shared;
- ``backend "s3"`` with neither ``use_lockfile = true`` (S3-native locking, Terraform 1.10+) nor
  ``dynamodb_table``, in the block or as ``KEY=VALUE`` in ``terraform.backend_config``. A
  ``backend_config`` entry that names a file can set anything, so then nothing is reported.

Other backends are not judged: most of them lock by themselves.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from lmi_delivery.doctor.hcl import Attribute, Block, attributes, blocks, masked
from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.sources import Repo, TextFile
from lmi_delivery.findings import Finding

LOCKING = ("use_lockfile", "dynamodb_table")
_SUGGESTION = ('backend "s3" with use_lockfile = true (bucket, key and region through '
               "terraform.backend_config)")


@dataclass(frozen=True)
class _Found:
    file: TextFile
    block: Block
    attributes: dict[str, Attribute]


def check(repo: Repo) -> Iterator[Finding]:
    root = posixpath.normpath(repo.config.terraform.working_directory)
    files = [f for f in repo.terraform
             if posixpath.normpath(posixpath.dirname(f.relative) or ".") == root]
    if not files:
        return  # no root at all: validate reports the missing directory
    settings, backends, first = _read(files)
    if "cloud" in settings:
        return
    if not backends:
        where = (first.file.at(first.block.start) if first is not None
                 else repo.config.location("terraform", "working_directory"))
        yield finding("LMD009", where,
                      f"the Terraform root {root!r} has no backend block: its state stays on "
                      "the build's disk, where the next build never sees it, and nothing stops "
                      f"two applies at once; add {_SUGGESTION}")
        return
    given = _backend_config(repo.config.terraform.backend_config)
    for found in backends:
        kind = found.block.labels[0] if found.block.labels else ""
        where = found.file.at(found.block.start)
        if kind == "local":
            yield finding("LMD009", where,
                          'backend "local" keeps the state in a file of the build\'s checkout: '
                          "the plan build, the apply build and the next run each see their own "
                          f"copy, and none of them locks it for the others; use {_SUGGESTION}")
        elif kind == "s3" and given is not None:
            yield from _s3(found, given)


def _read(files: list[TextFile]) -> tuple[set[str], list[_Found], _Found | None]:
    """The block types inside ``terraform`` blocks, the backends, the first ``terraform``."""
    settings: set[str] = set()
    backends: list[_Found] = []
    first: _Found | None = None
    for file in files:
        shape = masked(file.text)
        for block in blocks(file.text, shape):
            if block.type != "terraform":
                continue
            if first is None:
                first = _Found(file, block, {})
            for inner in blocks(file.text, shape, *block.body):
                settings.add(inner.type)
                if inner.type == "backend":
                    found = {a.name: a for a in attributes(file.text, shape, inner)}
                    backends.append(_Found(file, inner, found))
    return settings, backends, first


def _backend_config(entries: tuple[str, ...]) -> dict[str, str] | None:
    """``KEY=VALUE`` entries of ``terraform.backend_config``; None when one names a file."""
    given: dict[str, str] = {}
    for entry in entries:
        name, equals, value = entry.partition("=")
        if not equals:
            return None
        given[name.strip()] = value.strip()
    return given


def _unquoted(value: str) -> str:
    return value.strip().strip('"').strip()


def _s3(found: _Found, given: dict[str, str]) -> Iterator[Finding]:
    lockfile = found.attributes.get("use_lockfile")
    table = found.attributes.get("dynamodb_table")
    values = {"use_lockfile": _unquoted(lockfile.value) if lockfile else None,
              "dynamodb_table": _unquoted(table.value) if table else None}
    for name in LOCKING:  # -backend-config overrides the block
        if name in given:
            values[name] = _unquoted(given[name])
    if values["use_lockfile"] == "true" or values["dynamodb_table"]:
        return
    if lockfile is not None and values["use_lockfile"] == "false" and "use_lockfile" not in given:
        yield finding("LMD009", found.file.at(lockfile.start),
                      'backend "s3" with use_lockfile = false and no dynamodb_table: nothing '
                      "locks the state, so two runs can write it at once; set "
                      "use_lockfile = true")
        return
    yield finding("LMD009", found.file.at(found.block.start),
                  'backend "s3" without locking: two runs can write the state at once; set '
                  "use_lockfile = true in the block or in terraform.backend_config (Terraform "
                  "1.10+ keeps a lock object beside the state)")
