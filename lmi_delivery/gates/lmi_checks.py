"""The validation gate: Lambda Managed Instances constraints checked on the plan (LMI001-LMI012).

What AWS (or the Serverless Framework's LMI validation) would refuse later is refused here,
before anything reaches AWS: memory per vCPU, concurrency, function memory, the provider's vCPU
bound, instance types (allowed xor excluded, family, size, architecture), unsupported AZs,
scaling mode against scaling policies, VPC or file-system config on an LMI function, a standard
function switched to LMI in place, and runtimes. Values known only after the apply are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from lmi_delivery.config.model import ValidationGate
from lmi_delivery.gates.findings import Finding
from lmi_delivery.gates.plan_json import Plan, Resource, blocks, first, strings
from lmi_delivery.gates.rules import finding
from lmi_delivery.gates.sources import SourceIndex, place

MEMORY_PER_VCPU = (2, 4, 8)
CONCURRENCY = (1, 1600)
MIN_MEMORY_MB = 2048
MAX_VCPU = (12, 15000)
FAMILIES = ("c", "m", "r")
SMALL_SIZES = ("nano", "micro", "small", "medium")
_INSTANCE = re.compile(r"^(?P<family>[a-z]+)(?P<gen>\d+)(?P<attrs>[a-z0-9-]*)\.(?P<size>[\w*]+)$")
_RUNTIMES = (
    (re.compile(r"^python3\.(\d+)$"), 13, "Python 3.13"),
    (re.compile(r"^nodejs(\d+)\.x$"), 22, "Node.js 22"),
    (re.compile(r"^java(\d+)$"), 21, "Java 21"),
    (re.compile(r"^dotnet(\d+)$"), 8, ".NET 8"),
)
_REPLACE = (("delete", "create"), ("create", "delete"))


def check(plan: Plan, gate: ValidationGate, sources: SourceIndex | None = None) -> list[Finding]:
    found: list[Finding] = []
    for function in plan.resources("aws_lambda_function"):
        if function.mode == "managed" and lmi_config(function.values) is not None:
            found += _check_function(function)
    found += _check_switch(plan)
    for provider in plan.resources("aws_lambda_capacity_provider"):
        if provider.mode == "managed":
            found += _check_instances(provider)
            found += _check_scaling(provider)
    found += _check_azs(plan, gate.unsupported_azs)
    return place(plan, found, sources)


def lmi_config(values: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``lambda_managed_instances_capacity_provider_config`` of a function, if it has one."""
    config = first(values.get("capacity_provider_config"))
    if not config:
        return None
    return first(config.get("lambda_managed_instances_capacity_provider_config"))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _check_function(function: Resource) -> Iterator[Finding]:
    values, address = function.values, function.address
    config = lmi_config(values) or {}
    per_vcpu = _number(config.get("execution_environment_memory_gib_per_vcpu"))
    if per_vcpu is not None and per_vcpu not in MEMORY_PER_VCPU:
        yield finding("LMI001", address, f"execution_environment_memory_gib_per_vcpu is "
                      f"{per_vcpu:g}; it must be 2, 4 or 8")
    concurrency = _number(config.get("per_execution_environment_max_concurrency"))
    if concurrency is not None and not CONCURRENCY[0] <= concurrency <= CONCURRENCY[1]:
        yield finding("LMI002", address, f"per_execution_environment_max_concurrency is "
                      f"{concurrency:g}; it must be between 1 and 1600")
    memory = _number(values.get("memory_size"))
    if memory is not None and memory < MIN_MEMORY_MB:
        yield finding("LMI003", address, f"memory_size is {memory:g} MB; a function on managed "
                      f"instances needs at least {MIN_MEMORY_MB} MB")
    for attribute, keys in (("vpc_config", ("subnet_ids", "security_group_ids")),
                            ("file_system_config", ("arn", "local_mount_path"))):
        if any(block.get(k) for block in blocks(values.get(attribute)) for k in keys):
            yield finding("LMI009", address, f"sets {attribute}, which a function on a "
                          "capacity provider cannot have (the provider owns networking)")
    runtime = values.get("runtime")
    if isinstance(runtime, str) and runtime and not _runtime_supported(runtime):
        yield finding("LMI011", address, f"runtime {runtime} is not supported on managed "
                      "instances (Python 3.13+, Node.js 22+, Java 21+, .NET 8+, provided.al2023)")


def _runtime_supported(runtime: str) -> bool:
    if runtime == "provided.al2023":
        return True
    for pattern, minimum, _ in _RUNTIMES:
        match = pattern.match(runtime)
        if match:
            return int(match.group(1)) >= minimum
    return False


def _check_switch(plan: Plan) -> Iterator[Finding]:
    for change in plan.changes("aws_lambda_function"):
        if change.before is None or lmi_config(change.before) is not None:
            continue
        if lmi_config(change.values) is None:
            continue
        if change.actions in _REPLACE:
            yield finding("LMI010", change.address, "a standard function is replaced to join a "
                          "capacity provider: the replacement deletes the function, its versions "
                          "and aliases; create a new function instead")
        elif "update" in change.actions:
            yield finding("LMI010", change.address, "a standard function cannot be switched to "
                          "a capacity provider in place (AWS refuses); create a new function")


def _check_instances(provider: Resource) -> Iterator[Finding]:
    requirements = first(provider.values.get("instance_requirements"))
    allowed = strings(requirements.get("allowed_instance_types"))
    excluded = strings(requirements.get("excluded_instance_types"))
    if allowed and excluded:
        yield finding("LMI005", provider.address, "instance_requirements sets both "
                      "allowed_instance_types and excluded_instance_types; keep one")
    architectures = strings(requirements.get("architectures"))
    for instance_type in allowed:
        match = _INSTANCE.match(instance_type)
        if match is None:
            continue
        if match.group("family") not in FAMILIES or match.group("size") in SMALL_SIZES:
            yield finding("LMI012", provider.address, f"instance type {instance_type} is not "
                          "offered for managed instances (C, M, R families, large and up)")
        needed = "arm64" if match.group("attrs").startswith("g") else "x86_64"
        if architectures and needed not in architectures:
            yield finding("LMI006", provider.address, f"instance type {instance_type} runs "
                          f"{needed} but architectures is {', '.join(architectures)}")


def _check_scaling(provider: Resource) -> Iterator[Finding]:
    scaling = first(provider.values.get("capacity_provider_scaling_config"))
    max_vcpu = _number(scaling.get("max_vcpu_count"))
    if max_vcpu is not None and not MAX_VCPU[0] <= max_vcpu <= MAX_VCPU[1]:
        yield finding("LMI004", provider.address, f"max_vcpu_count is {max_vcpu:g}; it must be "
                      f"between {MAX_VCPU[0]} and {MAX_VCPU[1]}")
    mode = str(scaling.get("scaling_mode") or "Auto")
    policies = blocks(scaling.get("scaling_policies"))
    unknown = first(provider.unknown.get("capacity_provider_scaling_config"))
    if mode == "Manual" and not policies and unknown.get("scaling_policies") is not True:
        yield finding("LMI008", provider.address, "scaling_mode is Manual but no scaling "
                      "policy is given")
    elif mode == "Auto" and policies:
        yield finding("LMI008", provider.address, f"scaling_mode is Auto but {len(policies)} "
                      "scaling policy(ies) are given; policies apply only in Manual mode")


def _check_azs(plan: Plan, unsupported: Sequence[str]) -> Iterator[Finding]:
    if not unsupported:
        return
    for subnet in plan.resources("aws_subnet"):
        zone = subnet.values.get("availability_zone")
        if zone in unsupported:
            yield finding("LMI007", subnet.address, f"subnet is in {zone}, which does not "
                          "offer Lambda Managed Instances (gates.validation.unsupported_azs)")
