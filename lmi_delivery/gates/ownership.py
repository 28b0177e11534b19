"""One owner per knob, on the plan (OWN001-OWN003): Terraform managing what post-deploy manages.

The knobs post-deploy owns come from the configuration (:mod:`lmi_delivery.gates.knobs`); the
plan's values tell which resources are the same objects:

- OWN001: an ``aws_lambda_function_scaling_config`` of a function with ``scaling:`` (any
  qualifier: post-deploy sets the config of every version it publishes);
- OWN002: an ``aws_cloudwatch_event_rule`` named as post-deploy's warm-up rule, or an
  ``aws_cloudwatch_event_target`` on that rule (or with post-deploy's target id), for a
  function with ``warm.schedule``;
- OWN003: an ``aws_lambda_alias`` of a function whose alias post-deploy moves, unless its
  ``lifecycle { ignore_changes }`` lists ``function_version`` and ``routing_config`` (or is
  ``all``). The plan JSON carries no ``lifecycle``: it is read from the resource's block in the
  ``.tf`` files. A block the gate cannot read (a remote module) is reported as advisory, unless
  the plan itself moves the alias's routing.

A function is recognised by its name, or, where the name is known only after the apply, by a
reference to an ``aws_lambda_function`` whose name the plan knows. Every finding is placed at
the Terraform resource and names the ``lmi-delivery.yml`` key beside it. They are high: the
security gate refuses at its default ``fail_on``, and ``gates.security.waivers`` can accept one
(rule and address) until a date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from lmi_delivery.config.model import Config
from lmi_delivery.doctor import hcl
from lmi_delivery.findings import Finding
from lmi_delivery.gates.knobs import ALIAS_ROUTING, WARM_TARGET_ID, Knob, knobs
from lmi_delivery.gates.plan_json import Plan, Resource
from lmi_delivery.gates.rules import finding
from lmi_delivery.gates.sources import SourceIndex, place

_REF = re.compile(r'^(aws_lambda_function|aws_cloudwatch_event_rule)\.([\w-]+)'
                  r'(?:\[(?:"[^"]*"|[^\]"])*\])?(?:\.([\w-]+))?')
_DEFAULT_BUS = ("", "default")


def check(plan: Plan, config: Config, environment: str | None = None,
          sources: SourceIndex | None = None) -> list[Finding]:
    """Every knob the plan manages that post-deploy manages too (``environment``: the one
    the plan is for; ``None``: any of the configuration's)."""
    owned = knobs(config, environment)
    if not owned:
        return []
    found = [*_scaling(plan, [k for k in owned if k.kind == "scaling"]),
             *_warm(plan, [k for k in owned if k.kind == "warm"]),
             *_alias(plan, [k for k in owned if k.kind == "alias"], sources)]
    return place(plan, found, sources)


def _managed(plan: Plan, rtype: str) -> Iterator[Resource]:
    return (r for r in plan.resources(rtype) if r.mode == "managed")


def _scaling(plan: Plan, owned: Sequence[Knob]) -> Iterator[Finding]:
    by_name = {k.function: k for k in owned}
    for resource in _managed(plan, "aws_lambda_function_scaling_config"):
        for name in sorted(_names(plan, resource, "function_name", "aws_lambda_function")):
            knob = by_name.get(name)
            if knob is None:
                continue
            qualifier = resource.values.get("qualifier") or "its versions"
            yield finding("OWN001", resource.address, (
                f"Terraform sets the scaling config of {name} ({qualifier}) and so does "
                f"post-deploy, from {knob.config_place()}: each apply and each deploy puts "
                "back its own minimum; keep one owner (remove this resource, or remove "
                f"{knob.config_key} from the configuration)"), key=name)


def _warm(plan: Plan, owned: Sequence[Knob]) -> Iterator[Finding]:
    by_rule = {k.target: k for k in owned}
    by_function = {k.function: k for k in owned}
    message = ("every warm-up fires twice and Terraform reports drift on what post-deploy "
               "writes; keep one owner (remove it from Terraform, or remove {key} from the "
               "configuration and let Terraform own the schedule)")
    for rule in _managed(plan, "aws_cloudwatch_event_rule"):
        name = rule.values.get("name")
        knob = by_rule.get(name) if isinstance(name, str) else None
        if knob is not None and _default_bus(rule):
            yield finding("OWN002", rule.address, (
                f"Terraform manages the EventBridge rule {name}, post-deploy's warm-up rule "
                f"of {knob.function} ({knob.config_place()}): "
                + message.format(key=knob.config_key)), key=f"rule {name}")
    for target in _managed(plan, "aws_cloudwatch_event_target"):
        if not _default_bus(target):
            continue
        rules = _names(plan, target, "rule", "aws_cloudwatch_event_rule", "name")
        knob = next((by_rule[r] for r in sorted(rules) if r in by_rule), None)
        if knob is None and target.values.get("target_id") == WARM_TARGET_ID:
            knob = by_function.get(_function_of_arn(target.values.get("arn")) or "")
        if knob is not None:
            yield finding("OWN002", target.address, (
                f"Terraform manages a target of {knob.target}, post-deploy's warm-up rule of "
                f"{knob.function} ({knob.config_place()}), which puts its own target there: "
                + message.format(key=knob.config_key)), key=f"target {knob.target}")


def _alias(plan: Plan, owned: Sequence[Knob], sources: SourceIndex | None,
           ) -> Iterator[Finding]:
    by_alias = {(k.function, k.target): k for k in owned}
    for alias in _managed(plan, "aws_lambda_alias"):
        name = str(alias.values.get("name") or "")
        knob = next((by_alias[(f, name)] for f in sorted(
            _names(plan, alias, "function_name", "aws_lambda_function"))
            if (f, name) in by_alias), None)
        if knob is None:
            continue
        block = _block(alias, sources)
        ignored = hcl.ignore_changes(*block) if block is not None else None
        moved = _routing_moved(alias)
        if ignored is not None and ("all" in ignored or set(ALIAS_ROUTING) <= ignored):
            continue
        missing = [a for a in ALIAS_ROUTING if ignored is None or a not in ignored]
        where = f"{knob.function}:{knob.target}"
        owners = (f"post-deploy moves {where} ({knob.config_place()}) and Terraform "
                  "puts it back")
        if block is None and not moved:
            yield finding("OWN003", alias.address, (
                f"{owners} unless this alias's lifecycle ignores changes to "
                f"{' and '.join(ALIAS_ROUTING)}, which the gate could not read (the block "
                "is not in the working directory's files)"), advisory=True, key=where)
            continue
        yield finding("OWN003", alias.address, (
            f"{owners} on every apply: lifecycle {{ ignore_changes }} does not list "
            f"{' and '.join(missing)}; add lifecycle {{ ignore_changes = "
            f"[{', '.join(ALIAS_ROUTING)}] }}"
            + (" (this plan moves its routing)" if moved else "")), key=where)


def _names(plan: Plan, resource: Resource, attribute: str, target_type: str,
           target_attribute: str = "function_name") -> set[str]:
    """The names ``attribute`` holds: its value (a function's or rule's ARN cut to the name),
    or where it is known only after the apply, the names of the resources it references."""
    value = resource.values.get(attribute)
    if isinstance(value, str) and value:
        return {_function_of_arn(value) or value.rsplit(":rule/", 1)[-1]}
    found: set[str] = set()
    for instance, reference in plan.traced_references(resource, attribute):
        match = _REF.match(reference)
        if match is None or match.group(1) != target_type:
            continue
        for other in _managed(plan, target_type):
            if other.name == match.group(2) and other.module_instance == instance:
                known = other.values.get(target_attribute)
                if isinstance(known, str) and known:
                    found.add(known)
    return found


def _function_of_arn(value: Any) -> str | None:
    """``NAME`` of ``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``."""
    if not isinstance(value, str) or ":function:" not in value:
        return None
    return value.split(":function:", 1)[1].split(":", 1)[0] or None


def _default_bus(resource: Resource) -> bool:
    return resource.values.get("event_bus_name") in (None, *_DEFAULT_BUS)


def _routing_moved(alias: Resource) -> bool:
    """Whether the plan changes a routing attribute of an alias that exists already."""
    before: Mapping[str, Any] = alias.before or {}
    if "update" not in alias.actions:
        return False
    return any(before.get(a) != alias.values.get(a) or alias.unknown.get(a)
               for a in ALIAS_ROUTING)


def _block(resource: Resource, sources: SourceIndex | None,
           ) -> tuple[str, str, hcl.Block] | None:
    """The text, masked text and block of ``resource "TYPE" "NAME"`` where sources put it."""
    if sources is None:
        return None
    where = sources.locate(resource)
    if where is None or where.line <= 0:
        return None
    try:
        text = (sources.repo_root / where.file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    shape = hcl.masked(text)
    for block in hcl.blocks(text, shape):
        line = text.count("\n", 0, block.start) + 1
        if line == where.line and block.type == "resource" and \
                block.labels == (resource.type, resource.name):
            return text, shape, block
    return None
