"""Network exposure: security groups open to the internet (SEC010), the default VPC (SEC020).

Open inbound access is read from ``aws_security_group.ingress``, ``aws_security_group_rule``
of type ``ingress`` and ``aws_vpc_security_group_ingress_rule`` (``cidr_ipv4``/``cidr_ipv6``).

The default VPC, a heuristic: a ``data "aws_vpc"`` with ``default = true`` (in the configuration
or in what was read) is the default VPC. Data sources whose configuration references it (the
``aws_subnets`` filtered on its id, say) lead to it too, transitively within their module. A
managed resource is placed in the default VPC when its configuration references one of those,
or when its ``vpc_id`` equals the id read for the default VPC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from lmi_delivery.gates.findings import Finding
from lmi_delivery.gates.plan_json import Plan, blocks, references_in, strings
from lmi_delivery.gates.rules import finding

OPEN = ("0.0.0.0/0", "::/0")
_DATA_REF = re.compile(r"^(data\.[\w-]+\.[\w-]+)")


def check_open_ingress(plan: Plan) -> list[Finding]:
    found: list[Finding] = []
    for resource in plan.resources("aws_security_group"):
        for rule in blocks(resource.values.get("ingress")):
            cidrs = _open(strings(rule.get("cidr_blocks")) + strings(rule.get("ipv6_cidr_blocks")))
            if cidrs:
                found.append(_open_finding(resource.address, rule, cidrs))
    for resource in plan.resources("aws_security_group_rule"):
        values = resource.values
        if values.get("type") != "ingress":
            continue
        cidrs = _open(strings(values.get("cidr_blocks")) + strings(values.get("ipv6_cidr_blocks")))
        if cidrs:
            found.append(_open_finding(resource.address, values, cidrs))
    for resource in plan.resources("aws_vpc_security_group_ingress_rule"):
        values = resource.values
        cidrs = _open([str(values.get("cidr_ipv4") or ""), str(values.get("cidr_ipv6") or "")])
        if cidrs:
            found.append(_open_finding(resource.address, values, cidrs))
    return found


def _open(cidrs: list[str]) -> list[str]:
    return [c for c in OPEN if c in cidrs]


def _open_finding(address: str, rule: Mapping[str, Any], cidrs: list[str]) -> Finding:
    protocol = str(rule.get("protocol") or rule.get("ip_protocol") or "")
    low, high = rule.get("from_port"), rule.get("to_port")
    if protocol in ("-1", "all"):
        ports = "all traffic"
    elif low is None or low == high:
        ports = f"port {low}/{protocol}" if low is not None else f"{protocol or 'any'} traffic"
    else:
        ports = f"ports {low}-{high}/{protocol}"
    return finding("SEC010", address, f"allows inbound {ports} from {' and '.join(cidrs)}")


def check_default_vpc(plan: Plan) -> list[Finding]:
    tainted, ids = _default_vpc(plan)
    if not tainted and not ids:
        return []
    found: list[Finding] = []
    for resource in plan.resources():
        if resource.mode == "data":
            continue
        via = sorted(r for r in _data_refs(plan.all_references(resource))
                     if (resource.module, r) in tainted)
        if via:
            found.append(finding("SEC020", resource.address,
                                 f"is placed in the default VPC (through {', '.join(via)})"))
        elif str(resource.values.get("vpc_id") or "") in ids:
            found.append(finding("SEC020", resource.address,
                                 "is placed in the default VPC (its vpc_id)"))
    return found


def _default_vpc(plan: Plan) -> tuple[set[tuple[str, str]], set[str]]:
    """(module, ``data.TYPE.NAME``) of data sources leading to the default VPC; its ids."""
    tainted: set[tuple[str, str]] = set()
    ids: set[str] = set()
    for resource in plan.resources("aws_vpc"):
        if resource.mode == "data" and resource.values.get("default") is True:
            tainted.add((resource.module, f"data.aws_vpc.{resource.name}"))
            if resource.values.get("id"):
                ids.add(str(resource.values["id"]))
    data_sources = list(_config_data_sources(plan, "", plan.module_config("")))
    for module, address, config in data_sources:
        expressions = config.get("expressions") or {}
        if address.startswith("data.aws_vpc.") and \
                (expressions.get("default") or {}).get("constant_value") is True:
            tainted.add((module, address))
    changed = True
    while changed:  # data sources that reference a tainted one, to a fixed point
        changed = False
        for module, address, config in data_sources:
            if (module, address) in tainted:
                continue
            refs = _data_refs(references_in(config.get("expressions")))
            if any((module, r) in tainted for r in refs):
                tainted.add((module, address))
                changed = True
    return tainted, ids


def _config_data_sources(plan: Plan, module: str, config: Mapping[str, Any]
                         ) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for item in config.get("resources") or []:
        if item.get("mode") == "data":
            yield module, str(item.get("address", "")), item
    for name, call in (config.get("module_calls") or {}).items():
        child = f"{module}.module.{name}" if module else f"module.{name}"
        yield from _config_data_sources(plan, child, call.get("module") or {})


def _data_refs(references: Iterator[str] | list[str]) -> set[str]:
    return {m.group(1) for r in references if (m := _DATA_REF.match(r))}

