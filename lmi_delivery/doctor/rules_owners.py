"""LMD012: a knob Terraform manages that post-deploy manages too, read from the sources.

The same three knobs as the security gate's OWN001-OWN003 (:mod:`lmi_delivery.gates.knobs`),
found without running Terraform: an ``aws_lambda_function_scaling_config`` of a function with
``scaling:``, an ``aws_cloudwatch_event_rule`` named as post-deploy's warm-up rule (or an
``aws_cloudwatch_event_target`` on it) for a function with ``warm.schedule``, an
``aws_lambda_alias`` of an alias post-deploy moves whose ``lifecycle { ignore_changes }`` does
not list ``function_version`` and ``routing_config``.

Names are worked out the way Terraform would for each environment, as far as plain text allows:
string literals and their ``${…}`` interpolations, ``local.*``, ``var.*`` (the environment's
``terraform.var_files``, else the variable's default) and other resources' attributes
(``aws_lambda_function.r.function_name``, an alias's or function's ``arn``). A name built from
anything else (functions, data sources, module inputs) is not judged here: the gate, which
reads the plan's values, still is. Each finding is at the resource and names the
``lmi-delivery.yml`` key.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from lmi_delivery.config import naming
from lmi_delivery.doctor.hcl import (
    Block,
    attributes,
    blocks,
    ignore_changes,
    masked,
    top_attributes,
)
from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.sources import Repo, TextFile
from lmi_delivery.findings import Finding
from lmi_delivery.gates.knobs import ALIAS_ROUTING, WARM_TARGET_ID, Knob, knobs

TYPES = ("aws_lambda_function", "aws_lambda_function_scaling_config", "aws_lambda_alias",
         "aws_cloudwatch_event_rule", "aws_cloudwatch_event_target")
_REFERENCE = re.compile(r"^([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?$")
_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")
_DEPTH = 8


@dataclass(frozen=True)
class _Resource:
    file: TextFile
    block: Block
    type: str
    name: str
    expressions: Mapping[str, str]
    ignored: frozenset[str] | None


@dataclass
class _Module:
    """One directory's resources, locals and variable defaults."""

    resources: dict[tuple[str, str], _Resource] = field(default_factory=dict)
    locals: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)


def check(repo: Repo) -> Iterator[Finding]:
    root = posixpath.normpath(repo.config.terraform.working_directory)
    modules: dict[str, _Module] = {}
    for file in repo.terraform:
        directory = posixpath.normpath(posixpath.dirname(file.relative) or ".")
        if root == "." or directory == root or directory.startswith(f"{root}/"):
            _read(file, modules.setdefault(directory, _Module()))
    reported: set[tuple[str, int]] = set()
    for env in repo.config.environments.values():
        owned = knobs(repo.config, env.name)
        if not owned:
            continue
        variables = _tfvars(repo, env.name, root)
        for directory, module in sorted(modules.items()):
            scope = _Scope(module, variables if directory == root else {})
            for resource, knob, message in _double(scope, owned):
                place = (resource.file.name, resource.block.start)
                if place not in reported:
                    reported.add(place)
                    yield finding("LMD012", resource.file.at(resource.block.start),
                                  f'resource "{resource.type}" "{resource.name}": {message} '
                                  f"({knob.config_place()}); keep one owner")


def _read(file: TextFile, module: _Module) -> None:
    shape = masked(file.text)
    for block in blocks(file.text, shape):
        if block.type == "locals":
            module.locals.update({a.name: a.value for a in attributes(file.text, shape, block)})
        elif block.type == "variable" and block.labels:
            for attribute in attributes(file.text, shape, block):
                if attribute.name == "default":
                    module.defaults[block.labels[0]] = attribute.value
        elif block.type == "resource" and len(block.labels) == 2 and block.labels[0] in TYPES:
            values = {a.name: a.value for a in attributes(file.text, shape, block)}
            module.resources[(block.labels[0], block.labels[1])] = _Resource(
                file, block, block.labels[0], block.labels[1], values,
                ignore_changes(file.text, shape, block))


def _tfvars(repo: Repo, env: str, root: str) -> dict[str, str]:
    """The assignments of the environment's var files (later files win)."""
    config = repo.config
    values: dict[str, str] = {}
    by_path = {posixpath.normpath(f.relative): f for f in repo.tfvars}
    for template in config.terraform.var_files:
        try:
            rendered = naming.render(template, **naming.values(config, config.environment(env)))
        except KeyError:
            continue
        file = by_path.get(posixpath.normpath(posixpath.join(root, rendered)))
        if file is not None:
            values.update({a.name: a.value
                           for a in top_attributes(file.text, masked(file.text))})
    return values


class _Scope:
    """Works out string values of one module's expressions, as far as the text allows."""

    def __init__(self, module: _Module, variables: Mapping[str, str]) -> None:
        self.module = module
        self.variables = variables

    def value(self, expression: str | None, depth: int = 0) -> str | None:
        if expression is None or depth > _DEPTH:
            return None
        text = expression.strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            return self._template(text[1:-1], depth)
        return self._reference(text, depth)

    def _template(self, body: str, depth: int) -> str | None:
        parts: list[str] = []
        last = 0
        for match in _INTERPOLATION.finditer(body):
            inner = self._reference(match.group(1).strip(), depth)
            if inner is None:
                return None
            parts += [body[last:match.start()], inner]
            last = match.end()
        rest = body[last:]
        return None if "${" in rest or "%{" in rest else "".join([*parts, rest])

    def _reference(self, text: str, depth: int) -> str | None:
        match = _REFERENCE.match(text)
        if match is None:
            return None
        first, second, attribute = match.groups()
        if first == "local" and attribute is None:
            return self.value(self.module.locals.get(second), depth + 1)
        if first == "var" and attribute is None:
            given = self.variables.get(second, self.module.defaults.get(second))
            return self.value(given, depth + 1)
        resource = self.module.resources.get((first, second))
        if resource is None or attribute is None:
            return None
        return self.attribute(resource, attribute, depth + 1)

    def attribute(self, resource: _Resource, attribute: str, depth: int = 0) -> str | None:
        """A resource's attribute: as written, or an ARN or id Terraform derives from it."""
        if attribute in resource.expressions:
            return self.value(resource.expressions[attribute], depth)
        if resource.type == "aws_lambda_function" and attribute in ("arn", "id",
                                                                     "qualified_arn"):
            name = self.attribute(resource, "function_name", depth + 1)
            return None if name is None else f"arn:aws:lambda:::function:{name}"
        if resource.type == "aws_lambda_alias" and attribute == "arn":
            function = _function_of(self.attribute(resource, "function_name", depth + 1))
            alias = self.attribute(resource, "name", depth + 1)
            return None if function is None or alias is None \
                else f"arn:aws:lambda:::function:{function}:{alias}"
        if resource.type == "aws_cloudwatch_event_rule" and attribute == "id":
            return self.attribute(resource, "name", depth + 1)
        return None


def _function_of(value: str | None) -> str | None:
    """A function's name from its name or ARN (qualifier dropped)."""
    if value is None:
        return None
    if ":function:" in value:
        return value.split(":function:", 1)[1].split(":", 1)[0] or None
    return value or None


def _double(scope: _Scope, owned: list[Knob]) -> Iterator[tuple[_Resource, Knob, str]]:
    by_kind = {kind: [k for k in owned if k.kind == kind] for kind in ("scaling", "warm",
                                                                       "alias")}
    for resource in scope.module.resources.values():
        function = _function_of(scope.attribute(resource, "function_name"))
        if resource.type == "aws_lambda_function_scaling_config":
            for knob in by_kind["scaling"]:
                if knob.function == function:
                    yield resource, knob, (f"Terraform sets the scaling config of {function} "
                                           "and so does post-deploy")
        elif resource.type == "aws_cloudwatch_event_rule":
            name = scope.attribute(resource, "name")
            for knob in by_kind["warm"]:
                if knob.target == name and "event_bus_name" not in resource.expressions:
                    yield resource, knob, (f"Terraform manages {name}, post-deploy's warm-up "
                                           "rule: every warm-up fires twice")
        elif resource.type == "aws_cloudwatch_event_target":
            yield from _target(scope, resource, by_kind["warm"])
        elif resource.type == "aws_lambda_alias":
            ignored = resource.ignored or frozenset()
            if "all" in ignored or set(ALIAS_ROUTING) <= ignored:
                continue
            alias = scope.attribute(resource, "name")
            missing = " and ".join(a for a in ALIAS_ROUTING if a not in ignored)
            for knob in by_kind["alias"]:
                if (knob.function, knob.target) == (function, alias):
                    yield resource, knob, (
                        f"post-deploy moves {function}:{alias} and Terraform moves it back: "
                        f"lifecycle {{ ignore_changes }} does not list {missing}")


def _target(scope: _Scope, resource: _Resource,
            owned: list[Knob]) -> Iterator[tuple[_Resource, Knob, str]]:
    if "event_bus_name" in resource.expressions:
        return
    rule = scope.attribute(resource, "rule")
    target_id = scope.attribute(resource, "target_id")
    function = _function_of(scope.attribute(resource, "arn"))
    for knob in owned:
        if knob.target == rule or (target_id == WARM_TARGET_ID and knob.function == function):
            yield resource, knob, (f"Terraform manages a target of {knob.target}, post-deploy's "
                                   "warm-up rule: every warm-up fires twice")
