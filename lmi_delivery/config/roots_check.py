"""The semantic checks of ``terraform.roots``, each reported at the node it is about.

One form or the other (``working_directory`` or ``roots``), references that exist (roots,
functions, environments), no cycle in ``depends_on``, a function claimed by one root at most, one
root per directory, directories and var files inside the repository, and ``watch`` globs that
cannot reach outside it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePosixPath

from lmi_delivery.config.model import Config, TerraformRoot
from lmi_delivery.config.paths import check_root_paths
from lmi_delivery.config.roots import for_root
from lmi_delivery.config.schema import suggest
from lmi_delivery.config.yamlpos import PathKey, dotted
from lmi_delivery.errors import Diagnostic


def check(config: Config, *, templates_ok: bool = True) -> list[Diagnostic]:
    """Every problem of ``terraform.roots`` (and of the choice between the two forms)."""
    terraform = config.terraform
    if not terraform.roots:
        if not terraform.working_directory:
            return [_at(config, ("terraform",), "terraform needs working_directory (one root "
                                                "module) or roots (several)")]
        return []
    if ("terraform", "working_directory") in config.locations:
        return [_at(config, ("terraform", "working_directory"),
                    "give terraform.working_directory or terraform.roots, not both: with roots, "
                    "each root has its own working_directory")]
    roots = terraform.roots
    found = [*_references(config, roots), *_cycles(config, roots), *_claims(config, roots),
             *_directories(config, roots), *_watch(config, roots)]
    if not found:
        for key, root in roots.items():
            own = root.var_files is not None
            found += check_root_paths(
                for_root(config, key), _path(key, "working_directory"),
                f"root {key!r}: working directory", templates_ok=templates_ok,
                var_files_at=_path(key, "var_files") if own else ("terraform", "var_files"))
    return found


def _path(key: str, *rest: str | int) -> PathKey:
    return ("terraform", "roots", key, *rest)


def _at(config: Config, path: PathKey, message: str) -> Diagnostic:
    return Diagnostic(config.location(*path), message, dotted(path))


def _unknown(config: Config, path: PathKey, what: str, name: str,
             known: Sequence[str]) -> Diagnostic:
    listed = f" (known: {', '.join(known)})" if known else " (none is defined)"
    return _at(config, path, f"unknown {what} {name!r}{suggest(name, known)}{listed}")


def _references(config: Config, roots: Mapping[str, TerraformRoot]) -> Iterator[Diagnostic]:
    functions, environments = list(config.functions), list(config.environments)
    for key, root in roots.items():
        for i, other in enumerate(root.depends_on):
            if other == key:
                yield _at(config, _path(key, "depends_on", i), f"root {key!r} depends on itself")
            elif other not in roots:
                yield _unknown(config, _path(key, "depends_on", i), "root", other,
                               [k for k in roots if k != key])
        for i, function in enumerate(root.functions):
            if function not in config.functions:
                yield _unknown(config, _path(key, "functions", i), "function", function,
                               functions)
        for i, env in enumerate(root.environments or ()):
            if env not in config.environments:
                yield _unknown(config, _path(key, "environments", i), "environment", env,
                               environments)


def _cycles(config: Config, roots: Mapping[str, TerraformRoot]) -> Iterator[Diagnostic]:
    """One diagnostic per cycle, at the ``depends_on`` entry that closes it."""
    reported: set[frozenset[str]] = set()
    for start in roots:
        for cycle in _cycles_from(roots, start):
            members = frozenset(cycle)
            if members in reported or cycle[0] != start:
                continue
            reported.add(members)
            last, first = cycle[-1], cycle[0]
            index = roots[last].depends_on.index(first)
            chain = " -> ".join((*cycle, first))
            yield _at(config, _path(last, "depends_on", index),
                      f"roots depend on each other in a cycle: {chain}")


def _cycles_from(roots: Mapping[str, TerraformRoot], start: str) -> Iterator[list[str]]:
    """Simple cycles through ``start`` (self-references are reported as such, not here)."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        node, trail = stack.pop()
        for nxt in roots[node].depends_on:
            if nxt not in roots or nxt == node:
                continue
            if nxt == start:
                yield trail
            elif nxt not in trail:
                stack.append((nxt, [*trail, nxt]))


def _claims(config: Config, roots: Mapping[str, TerraformRoot]) -> Iterator[Diagnostic]:
    owner: dict[str, str] = {}
    for key, root in roots.items():
        for i, function in enumerate(root.functions):
            if function in owner:
                yield _at(config, _path(key, "functions", i),
                          f"function {function!r} is already claimed by root {owner[function]!r}:"
                          " a function's post-deploy follows one root")
            else:
                owner[function] = key


def _directories(config: Config, roots: Mapping[str, TerraformRoot]) -> Iterator[Diagnostic]:
    owner: dict[str, str] = {}
    for key, root in roots.items():
        normal = PurePosixPath(root.working_directory).as_posix().rstrip("/") or "."
        if normal in owner:
            yield _at(config, _path(key, "working_directory"),
                      f"root {key!r}: working directory {root.working_directory!r} is also the "
                      f"directory of root {owner[normal]!r} (each root has its own state and "
                      "plan file)")
        else:
            owner[normal] = key


def watch_problem(pattern: str) -> str | None:
    """Why a ``watch`` glob may not be used, or ``None``: it must stay inside the repository."""
    if pattern.startswith(("/", "\\")) or (len(pattern) > 1 and pattern[1] == ":"):
        return "must be relative to the repository root"
    if ".." in PurePosixPath(pattern.replace("\\", "/")).parts:
        return "must not use '..': it matches paths inside the repository only"
    return None


def _watch(config: Config, roots: Mapping[str, TerraformRoot]) -> Iterator[Diagnostic]:
    for key, root in roots.items():
        for i, pattern in enumerate(root.watch):
            problem = watch_problem(pattern)
            if problem:
                yield _at(config, _path(key, "watch", i),
                          f"root {key!r}: watch pattern {pattern!r} {problem}")
