"""``terraform.roots``: one config, several Terraform root modules, each seen as one config.

:func:`for_root` projects the config onto one root: its working directory, var files and
backend config become ``terraform``'s, its functions become ``functions``, its environments
``environments``. Everything downstream (the planner, the builds, the plan hand-off, post-deploy)
then works on one root exactly as it works on the one-root form, and the root's key travels with
it (``terraform.root``) into the build's variables and the keys of its plans.

The one-root form (``terraform.working_directory``) is the single root :data:`SINGLE`, projected
onto itself unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from lmi_delivery.config.model import Config, TerraformRoot
from lmi_delivery.errors import Location, UsageError

#: The key of the one root of a config without ``terraform.roots``.
SINGLE = ""
#: The build variable naming the Terraform root a build is for: the build takes the root's
#: directory, var files and functions from the config, never a path from a variable.
ROOT_VARIABLE = "LMI_DELIVERY_ROOT"


def has_roots(config: Config) -> bool:
    """Whether the config lists several roots (``terraform.roots``)."""
    return bool(config.terraform.roots)


def root_keys(config: Config) -> tuple[str, ...]:
    """The roots of the config in dependency order (a root after those it depends on; ties in
    the order the file lists them); ``(SINGLE,)`` for the one-root form."""
    if not has_roots(config):
        return (SINGLE,)
    return tuple(key for level in levels(config.terraform.roots) for key in level)


def levels(roots: Mapping[str, TerraformRoot]) -> tuple[tuple[str, ...], ...]:
    """The roots in waves: each wave depends only on earlier ones. Roots on a cycle (the
    semantic checks report them) come last, in one wave."""
    placed: set[str] = set()
    waves: list[tuple[str, ...]] = []
    left = list(roots)
    while left:
        wave = tuple(k for k in left
                     if all(d in placed or d not in roots for d in roots[k].depends_on))
        if not wave:
            wave = tuple(left)
        waves.append(wave)
        placed.update(wave)
        left = [k for k in left if k not in placed]
    return tuple(waves)


def dependents(roots: Mapping[str, TerraformRoot], key: str) -> tuple[str, ...]:
    """The roots that depend on ``key``, directly or not, in file order."""
    found: set[str] = set()
    frontier = {key}
    while frontier:
        frontier = {k for k, r in roots.items()
                    if k not in found and k != key and frontier & set(r.depends_on)}
        found |= frontier
    return tuple(k for k in roots if k in found)


def for_root(config: Config, key: str) -> Config:
    """``config`` as the one-root config of root ``key``; the config itself for :data:`SINGLE`.

    Raises :class:`UsageError` for a key the config does not list.
    """
    if key == SINGLE and not has_roots(config):
        return config
    roots = config.terraform.roots
    if key == SINGLE:
        raise UsageError(f"{config.path.name} has several Terraform roots ({', '.join(roots)}): "
                         "name the one to use (LMI_DELIVERY_ROOT, set by the orchestrator)")
    if key not in roots:
        known = ", ".join(roots) or "none: the config has one root (terraform.working_directory)"
        raise UsageError(f"unknown Terraform root {key!r} in {config.path.name} (roots: {known})")
    root = roots[key]
    terraform = replace(
        config.terraform, working_directory=root.working_directory,
        var_files=root.var_files if root.var_files is not None else config.terraform.var_files,
        backend_config=(root.backend_config if root.backend_config is not None
                        else config.terraform.backend_config),
        root=key)
    environments = {name: env for name, env in config.environments.items()
                    if root.deploys_to(name)}
    functions = {k: f for k, f in config.functions.items() if k in root.functions}
    return replace(config, terraform=terraform, environments=environments, functions=functions,
                   locations=_located(config.locations, key))


def _located(locations: Mapping[tuple[str | int, ...], Location],
             key: str) -> dict[tuple[str | int, ...], Location]:
    """The config's positions, with the root's own keys standing for ``terraform``'s."""
    moved = dict(locations)
    prefix = ("terraform", "roots", key)
    for path, where in locations.items():
        if path[:3] != prefix or len(path) < 4:
            continue
        name = path[3]
        if name in ("working_directory", "var_files", "backend_config"):
            moved[("terraform", *path[3:])] = where
    return moved


def root_of_function(config: Config, function: str) -> str | None:
    """The root whose apply the function's post-deploy follows, if any."""
    for key, root in config.terraform.roots.items():
        if function in root.functions:
            return key
    return None
