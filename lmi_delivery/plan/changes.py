"""Change detection: which Terraform roots a change set runs, and why. A pure function.

A root runs when a changed path (either side of a rename, a deleted one too) is in its
directory, is one of its var files, is in a local module it calls (its ``module`` sources,
followed through the modules they call), or matches one of its ``watch`` globs; and every root
that depends on a running root runs too. Without a change set to read (``changes`` is ``None``:
a new branch, a forced push, no base to compare with) and when the configuration file itself
changed, every root runs: a configuration the change rewrote cannot be trusted to say which roots
its own change leaves alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

ChangeStatus = Literal["added", "modified", "deleted", "renamed"]


@dataclass(frozen=True)
class Change:
    """One changed path, repository-relative with ``/`` separators."""

    status: ChangeStatus
    path: str
    old_path: str | None = None
    """The path before a rename (or copy)."""

    def paths(self) -> tuple[str, ...]:
        return (self.path,) if self.old_path is None else (self.old_path, self.path)


@dataclass(frozen=True)
class RootFiles:
    """What a root is made of, repository-relative: what change detection reads."""

    key: str
    directory: str
    var_files: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    """Directories of the local modules the root calls, directly or not."""
    watch: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selection:
    """Whether one root runs, and every reason it does (or why it does not)."""

    key: str
    runs: bool
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


#: Reasons shown at most per root; the rest are counted.
MAX_REASONS = 5


def select(roots: Sequence[RootFiles], changes: Sequence[Change] | None, *,
           config_file: str, all_roots: bool = False) -> tuple[Selection, ...]:
    """The roots ``changes`` runs, in the order of ``roots``, each with its reasons."""
    if all_roots:
        return tuple(Selection(r.key, True, ("--all-roots runs every root",)) for r in roots)
    if changes is None:
        return tuple(Selection(r.key, True, ("no change set to compare with: every root runs",))
                     for r in roots)
    paths = [p for change in changes for p in change.paths()]
    if config_file in paths:
        return tuple(Selection(r.key, True, (f"{config_file} changed: every root runs",))
                     for r in roots)
    direct = {r.key: _own_reasons(r, paths) for r in roots}
    found: list[Selection] = []
    for root in roots:
        reasons = list(direct[root.key])
        reasons += [f"depends on {dep}, which runs"
                    for dep in _running_dependencies(roots, direct, root)]
        if reasons:
            found.append(Selection(root.key, True, _capped(reasons)))
        else:
            found.append(Selection(root.key, False, ("no change to its files",)))
    return tuple(found)


def _capped(reasons: list[str]) -> tuple[str, ...]:
    if len(reasons) <= MAX_REASONS:
        return tuple(reasons)
    return (*reasons[:MAX_REASONS], f"and {len(reasons) - MAX_REASONS} more")


def _own_reasons(root: RootFiles, paths: Sequence[str]) -> list[str]:
    reasons: list[str] = []
    for path in dict.fromkeys(paths):
        if _inside(path, root.directory):
            reasons.append(f"{path} changed")
        elif path in root.var_files:
            reasons.append(f"var file {path} changed")
        elif module := next((m for m in root.modules if _inside(path, m)), None):
            reasons.append(f"{path} changed in module {module}")
        elif pattern := next((g for g in root.watch if glob_matches(g, path)), None):
            reasons.append(f"{path} changed (watch {pattern})")
    return reasons


def _running_dependencies(roots: Sequence[RootFiles], direct: dict[str, list[str]],
                          root: RootFiles) -> Iterable[str]:
    """The direct dependencies of ``root`` that run (directly or through their own)."""
    by_key = {r.key: r for r in roots}

    def runs(key: str, seen: frozenset[str]) -> bool:
        if key not in by_key or key in seen:
            return False
        return bool(direct[key]) or any(runs(d, seen | {key}) for d in by_key[key].depends_on)

    return [d for d in root.depends_on if runs(d, frozenset({root.key}))]


def _inside(path: str, directory: str) -> bool:
    directory = directory.strip("/")
    return directory in ("", ".") or path == directory or path.startswith(directory + "/")


def glob_matches(pattern: str, path: str) -> bool:
    """Whether repository-relative ``path`` matches ``pattern``: ``*`` and ``?`` within one
    path segment, ``**`` across any number of them (none included); a pattern ending in ``/``
    matches everything below it."""
    return _compiled(pattern).fullmatch(path) is not None


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("/"):
        pattern += "**"
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))
