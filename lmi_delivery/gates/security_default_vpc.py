"""Resources placed in the default VPC (SEC020), a heuristic over references and values.

What leads to the default VPC:

- a ``data "aws_vpc"`` with ``default = true`` (in the configuration or in what was read), and
  the data sources whose configuration references one that does (the ``aws_subnets`` filtered
  on its id, say), transitively, across module variables and outputs;
- the managed ``aws_default_vpc`` and ``aws_default_subnet`` resources (which adopt the default
  VPC and its subnets);
- the ids read for those: the default VPC's id, and the ids of its subnets (an
  ``aws_default_subnet``'s, a ``data "aws_subnet"`` that is ``default_for_az`` or in the default
  VPC, the ``ids`` of a ``data "aws_subnets"`` that leads to it).

A managed resource is placed in the default VPC when its configuration references one of those
(through module boundaries too), or when any ``vpc_id`` in its values, nested ones included
(``vpc_config.vpc_id`` of EKS clusters and Lambda functions), is the default VPC's id, or any of
its subnet ids (``subnet_id``, ``subnet_ids``, ``subnets``, nested in ``vpc_config`` or not:
instances, node groups, load balancers, functions) is one of the default VPC's subnets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from lmi_delivery.findings import Finding
from lmi_delivery.gates.plan_json import Plan, Resource, references_in, strings
from lmi_delivery.gates.rules import finding

_INDEX = re.compile(r'\[(?:"[^"]*"|[^\]"])*\]')
_DATA_REF = re.compile(r"^(data\.[\w-]+\.[\w-]+)")
_DEFAULT_REF = re.compile(r"^(aws_default_(?:vpc|subnet)\.[\w-]+)")
_SUBNET_KEYS = ("subnet_id", "subnet_ids", "subnets")

Tainted = set[tuple[str, str]]
"""(module, ``data.TYPE.NAME``) of the data sources that lead to the default VPC."""


def check(plan: Plan) -> list[Finding]:
    tainted = _tainted(plan)
    vpc_ids, subnet_ids = _ids(plan, tainted)
    found: list[Finding] = []
    for resource in plan.resources():
        if resource.mode == "data" or resource.type.startswith("aws_default_"):
            continue
        why = _through(plan, resource, tainted) or _by_value(resource, vpc_ids, subnet_ids)
        if why:
            found.append(finding("SEC020", resource.address,
                                 f"is placed in the default VPC ({why})"))
    return found


def _through(plan: Plan, resource: Resource, tainted: Tainted) -> str:
    via: set[str] = set()
    for instance, reference in plan.traced_references(resource):
        module = _INDEX.sub("", instance)
        data = _DATA_REF.match(reference)
        if data and (module, data.group(1)) in tainted:
            via.add(data.group(1))
        adopted = _DEFAULT_REF.match(reference)
        if adopted:
            via.add(adopted.group(1))
    return f"through {', '.join(sorted(via))}" if via else ""


def _by_value(resource: Resource, vpc_ids: set[str], subnet_ids: set[str]) -> str:
    for path, key, value in _leaves(resource.values, ""):
        if key == "vpc_id" and isinstance(value, str) and value in vpc_ids:
            return f"its {path}"
        if key in _SUBNET_KEYS and set(strings(value)) & subnet_ids:
            what = "is a subnet" if isinstance(value, str) else "are subnets"
            return f"its {path} {what} of the default VPC"
    return ""


def _leaves(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """(dotted path, key, value) of every keyed value below ``node`` (blocks walked)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            yield where, str(key), value
            yield from _leaves(value, where)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, Mapping):
                yield from _leaves(value, path)


def _tainted(plan: Plan) -> Tainted:
    tainted: Tainted = set()
    for resource in plan.resources("aws_vpc"):
        if resource.mode == "data" and resource.values.get("default") is True:
            tainted.add((resource.module, f"data.aws_vpc.{resource.name}"))
    data_sources = list(_config_data_sources(plan.module_config(""), ""))
    for module, address, config in data_sources:
        expressions = config.get("expressions") or {}
        if address.startswith("data.aws_vpc.") and \
                (expressions.get("default") or {}).get("constant_value") is True:
            tainted.add((module, address))
    traced = {(module, address): plan.trace({(module, r) for r in
                                             references_in(config.get("expressions"))})
              for module, address, config in data_sources}
    changed = True
    while changed:  # data sources that lead to a tainted one, to a fixed point
        changed = False
        for key, references in traced.items():
            if key in tainted:
                continue
            for instance, reference in references:
                data = _DATA_REF.match(reference)
                if data and (_INDEX.sub("", instance), data.group(1)) in tainted:
                    tainted.add(key)
                    changed = True
                    break
    return tainted


def _ids(plan: Plan, tainted: Tainted) -> tuple[set[str], set[str]]:
    """The ids of the default VPC, and of its subnets, as far as the plan knows them."""
    vpc_ids: set[str] = set()
    for resource in plan.resources("aws_vpc", "aws_default_vpc"):
        if resource.type == "aws_default_vpc" or (resource.mode == "data"
                                                  and resource.values.get("default") is True):
            vpc_ids |= set(strings(resource.values.get("id")))
    subnet_ids: set[str] = set()
    for resource in plan.resources("aws_default_subnet", "aws_subnet", "aws_subnets"):
        key = (resource.module, f"data.{resource.type}.{resource.name}")
        values = resource.values
        if resource.type == "aws_default_subnet":
            subnet_ids |= set(strings(values.get("id")))
        elif resource.mode != "data":
            continue
        elif resource.type == "aws_subnet" and (values.get("default_for_az") is True
                                                or values.get("vpc_id") in vpc_ids
                                                or key in tainted):
            subnet_ids |= set(strings(values.get("id")))
        elif resource.type == "aws_subnets" and (key in tainted or _filters_on(values, vpc_ids)):
            subnet_ids |= set(strings(values.get("ids")))
    return vpc_ids, subnet_ids


def _filters_on(values: Mapping[str, Any], vpc_ids: set[str]) -> bool:
    filters = values.get("filter")
    for item in filters if isinstance(filters, list) else []:
        if isinstance(item, Mapping) and item.get("name") == "vpc-id" and \
                set(strings(item.get("values"))) & vpc_ids:
            return True
    return False


def _config_data_sources(config: Mapping[str, Any], module: str
                         ) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for item in config.get("resources") or []:
        if item.get("mode") == "data":
            yield module, str(item.get("address", "")), item
    for name, call in (config.get("module_calls") or {}).items():
        child = f"{module}.module.{name}" if module else f"module.{name}"
        yield from _config_data_sources(call.get("module") or {}, child)
