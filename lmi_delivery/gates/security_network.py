"""Network exposure: security groups open to the internet (SEC010).

Open inbound access is read from ``aws_security_group.ingress``, ``aws_security_group_rule``
of type ``ingress`` and ``aws_vpc_security_group_ingress_rule`` (``cidr_ipv4``/``cidr_ipv6``).
Each open rule is its own finding, told apart by its protocol, ports and sources (its
``key``). The default VPC (SEC020) is :mod:`~lmi_delivery.gates.security_default_vpc`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmi_delivery.findings import Finding
from lmi_delivery.gates.plan_json import Plan, blocks, strings
from lmi_delivery.gates.rules import finding

OPEN = ("0.0.0.0/0", "::/0")


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
    sources = " and ".join(cidrs)
    return finding("SEC010", address, f"allows inbound {ports} from {sources}",
                   key=f"{ports} from {sources}")
