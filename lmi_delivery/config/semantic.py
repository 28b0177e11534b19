"""Checks a JSON Schema cannot express, each reported at the node it is about.

References between sections, scaling bounds, branches used twice, the placeholders of every name
template, and the names the naming rule derives for every environment against AWS's limits.
Checks on the files the configuration points at live in :mod:`lmi_delivery.config.paths`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

from lmi_delivery.config import naming, roots_check
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.config.paths import check_paths
from lmi_delivery.config.schema import suggest
from lmi_delivery.config.yamlpos import PathKey, dotted
from lmi_delivery.errors import Diagnostic


@dataclass(frozen=True)
class NameRule:
    """What AWS accepts for one kind of name."""

    kind: str
    service: str
    pattern: re.Pattern[str]
    allowed: str
    min_length: int
    max_length: int


#: Lambda: a function name alone is limited to 64 characters (botocore's FunctionName docs).
FUNCTION_NAME = NameRule("function", "Lambda", re.compile(r"[A-Za-z0-9_-]+"),
                         "letters, digits, '-' and '_'", 1, 64)
#: botocore lambda model, shape ``CapacityProviderName``: length 1-140, ``[a-zA-Z0-9-_]+``.
CAPACITY_PROVIDER_NAME = NameRule("capacity provider", "Lambda", re.compile(r"[A-Za-z0-9_-]+"),
                                  "letters, digits, '-' and '_'", 1, 140)
#: CodeBuild project names: ``[A-Za-z0-9][A-Za-z0-9\-_]{1,254}``.
PROJECT_NAME = NameRule("CodeBuild project", "CodeBuild",
                        re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,254}"),
                        "a letter or digit, then letters, digits, '-' and '_'", 2, 255)


def check(config: Config) -> list[Diagnostic]:
    """Every semantic problem of ``config``."""
    found = [
        *_references(config),
        *_scaling(config),
        *_rollouts(config),
        *_branches(config),
        *_prune_scope(config),
    ]
    template_problems = list(_templates(config))
    found += template_problems
    if not template_problems:
        for env in config.environments.values():
            found += _derived_names(config, env)
    found += check_paths(config, templates_ok=not template_problems)
    found += roots_check.check(config, templates_ok=not template_problems)
    return found


def _at(config: Config, path: PathKey, message: str) -> Diagnostic:
    return Diagnostic(config.location(*path), message, dotted(path))


def _references(config: Config) -> Iterator[Diagnostic]:
    known = sorted(config.capacity_providers)
    for key, function in config.functions.items():
        ref = function.capacity_provider
        if ref is None or ref in config.capacity_providers:
            continue
        defined = f" (defined: {', '.join(known)})" if known else " (none is defined)"
        yield _at(config, ("functions", key, "capacity_provider"),
                  f"unknown capacity provider {ref!r}{suggest(ref, known)}{defined}")


def _prune_scope(config: Config) -> Iterator[Diagnostic]:
    if config.post_deploy.prune_scope == "capacity-provider" and not config.capacity_providers:
        yield _at(config, ("post_deploy", "prune", "scope"),
                  "prune scope capacity-provider prunes the functions bound to this file's "
                  "capacity providers, but capacity_providers defines none")


def _scaling(config: Config) -> Iterator[Diagnostic]:
    for key, function in config.functions.items():
        scaling = function.scaling
        if scaling is None:
            continue
        at = ("functions", key, "scaling", "min")
        if scaling.min > scaling.max:
            yield _at(config, at, f"scaling min {scaling.min} is greater than max {scaling.max}")
        elif scaling.min == 0 and scaling.max > 0:
            yield _at(config, at, f"scaling min 0 requires max 0 (it deactivates the version), "
                                  f"got max {scaling.max}")
        if scaling.floor is not None and scaling.floor > scaling.max:
            yield _at(config, ("functions", key, "scaling", "floor"),
                      f"scaling floor {scaling.floor} is greater than max {scaling.max}")


def _rollouts(config: Config) -> Iterator[Diagnostic]:
    for key, function in config.functions.items():
        if function.canary is not None and ("functions", key, "rollout") in config.locations:
            yield _at(config, ("functions", key, "canary"),
                      "canary is deprecated and cannot be combined with rollout: move it to "
                      "rollout: {canary: {weight, bake_minutes}, alarms: [...]}")
        both = [("functions", key, "rollout", k) for k in ("canary", "linear")]
        if all(path in config.locations for path in both):
            yield _at(config, both[1], "rollout takes canary or linear, not both")


def _branches(config: Config) -> Iterator[Diagnostic]:
    owner: dict[str, str] = {}
    for name, env in config.environments.items():
        if env.branch in owner:
            yield _at(config, ("environments", name, "branch"),
                      f"branch {env.branch!r} is already used by environment {owner[env.branch]!r}")
        else:
            owner[env.branch] = name


def templates(config: Config) -> Iterator[tuple[PathKey, str]]:
    """Every name template of the configuration, with its path."""
    yield ("naming",), config.naming
    for key, provider in config.capacity_providers.items():
        if provider.name:
            yield ("capacity_providers", key, "name"), provider.name
    for key, function in config.functions.items():
        if function.name:
            yield ("functions", key, "name"), function.name
    for key, template in config.codebuild.projects.items():
        yield ("codebuild", "projects", key), template
    for i, template in enumerate(config.terraform.var_files):
        yield ("terraform", "var_files", i), template
    for i, template in enumerate(config.terraform.backend_config):
        yield ("terraform", "backend_config", i), template
    for key, root in config.terraform.roots.items():
        for i, template in enumerate(root.var_files or ()):
            yield ("terraform", "roots", key, "var_files", i), template
        for i, template in enumerate(root.backend_config or ()):
            yield ("terraform", "roots", key, "backend_config", i), template
    for i, template in enumerate(config.terraform.manages.pass_roles):
        yield ("terraform", "manages", "pass_roles", i), template
    for name, reference in config.codebuild.secrets.items():
        yield ("codebuild", "secrets", name), reference
    for i, notification in enumerate(config.notifications):
        yield ("notifications", i, "url"), notification.url


def template_problem(template: str) -> str | None:
    """Why ``template`` cannot be rendered by the naming rule, or ``None``."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        return (f"malformed braces in {template!r} ({exc}); "
                "write {{ and }} for literal braces")
    known = sorted(naming.PLACEHOLDERS)
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in naming.PLACEHOLDERS:
            return (f"unknown placeholder {{{field}}} in {template!r}{suggest(field, known)} "
                    f"(known: {', '.join('{' + k + '}' for k in known)})")
        if spec or conversion:
            return f"placeholder {{{field}}} in {template!r} must not have a format or conversion"
    return None


def _templates(config: Config) -> Iterator[Diagnostic]:
    for path, template in templates(config):
        problem = template_problem(template)
        if problem:
            yield _at(config, path, problem)


def _derived_names(config: Config, env: Environment) -> Iterator[Diagnostic]:
    names = naming.derived_names(config, env)
    for key, name in names.functions.items():
        source = "name" if config.functions[key].name else None
        path = ("functions", key, source) if source else ("functions", key)
        yield from _name_limits(config, env, path, name, FUNCTION_NAME)
    yield from _collisions(config, env, "functions", names.functions)
    for key, name in names.capacity_providers.items():
        source = "name" if config.capacity_providers[key].name else None
        path = ("capacity_providers", key, source) if source else ("capacity_providers", key)
        yield from _name_limits(config, env, path, name, CAPACITY_PROVIDER_NAME)
    yield from _collisions(config, env, "capacity_providers", names.capacity_providers)
    for key, name in names.projects.items():
        yield from _name_limits(config, env, ("codebuild", "projects", key), name, PROJECT_NAME)


def _name_limits(config: Config, env: Environment, path: PathKey, name: str,
                 rule: NameRule) -> Iterator[Diagnostic]:
    where = f"environment {env.name!r}: {rule.kind} name {name!r}"
    if not rule.min_length <= len(name) <= rule.max_length:
        yield _at(config, path, f"{where} is {len(name)} characters long; {rule.service} allows "
                                f"{rule.min_length} to {rule.max_length}")
    elif not rule.pattern.fullmatch(name):
        yield _at(config, path, f"{where} is not a valid {rule.service} name ({rule.allowed})")


def _collisions(config: Config, env: Environment, section: str,
                names: dict[str, str]) -> Iterator[Diagnostic]:
    owner: dict[str, str] = {}
    for key, name in names.items():
        if name in owner:
            yield _at(config, (section, key),
                      f"environment {env.name!r}: derived name {name!r} is also the name of "
                      f"{owner[name]!r}")
        else:
            owner[name] = key
