"""The validation gate: Lambda Managed Instances constraints checked on the plan (LMI001-LMI016).

What AWS (or the Serverless Framework's LMI validation) would refuse later is refused here,
before anything reaches AWS: memory per vCPU, concurrency, function memory (2,048 MB to 32 GB on
LMI, above the 10,240 MB of standard functions), the provider's vCPU bound, instance types
(allowed xor excluded, family, size, architecture), unsupported AZs, scaling mode against
scaling policies, VPC or file-system config on an LMI function (the block's presence: its ids
are usually known only after the apply), a standard function switched to LMI in place,
runtimes, publishing (:mod:`~lmi_delivery.gates.lmi_publishing`: LMI015, LMI016) and a
capacity provider deleted while versions are bound to it
(:mod:`~lmi_delivery.gates.lmi_providers`: LMI013, which reads AWS through an injected client).
Values known only after the apply are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from lmi_delivery.config.model import ValidationGate
from lmi_delivery.findings import Finding
from lmi_delivery.gates import lmi_providers, lmi_publishing
from lmi_delivery.gates.plan_json import Plan, Resource, blocks, first, strings
from lmi_delivery.gates.rules import finding
from lmi_delivery.gates.sources import SourceIndex, place

MEMORY_PER_VCPU = (2, 4, 8)
CONCURRENCY = (1, 1600)
MIN_MEMORY_MB = 2048
MAX_MEMORY_MB = 32 * 1024
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


def check(plan: Plan, gate: ValidationGate, sources: SourceIndex | None = None, *,
          aliased: Collection[str] = (), bound: lmi_providers.BoundVersions | None = None,
          retire_command: str = "lmi-delivery prune --retire-capacity-provider {name}",
          ) -> list[Finding]:
    """``aliased``: the function names the config gives an alias (LMI015); ``bound`` lists
    the versions bound to a capacity provider (LMI013; ``None``: no AWS access here);
    ``retire_command`` is the command LMI013 names, ``{name}`` the provider's."""
    found: list[Finding] = []
    functions = [f for f in plan.resources("aws_lambda_function")
                 if f.mode == "managed" and is_lmi(f)]
    for function in functions:
        found += _check_function(function)
    found += _check_switch(plan)
    for provider in plan.resources("aws_lambda_capacity_provider"):
        if provider.mode == "managed":
            found += _check_instances(provider)
            found += _check_scaling(provider)
    found += _check_azs(plan, gate.unsupported_azs)
    found += lmi_publishing.check(plan, functions, aliased)
    found += lmi_providers.check(plan, bound, retire_command)
    return place(plan, found, sources)


def lmi_config(values: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``lambda_managed_instances_capacity_provider_config`` of a function, if it has one."""
    config = first(values.get("capacity_provider_config"))
    if not config:
        return None
    return first(config.get("lambda_managed_instances_capacity_provider_config"))


def is_lmi(function: Resource) -> bool:
    """Whether a function runs on a capacity provider (its config block known, or unknown)."""
    return lmi_config(function.values) is not None or \
        _unknown(function.unknown.get("capacity_provider_config"))


def _unknown(flag: Any) -> bool:
    """Whether an ``after_unknown`` entry marks anything unknown."""
    if flag is True:
        return True
    if isinstance(flag, Mapping):
        return any(_unknown(v) for v in flag.values())
    if isinstance(flag, list):
        return any(_unknown(v) for v in flag)
    return False


def _block_present(values: Mapping[str, Any], unknown: Mapping[str, Any], attribute: str,
                   keys: Sequence[str]) -> str | None:
    """Whether a function sets a block: some key known non-empty (``"set"``) or known only
    after the apply (``"unknown"``); ``None`` when absent or all its keys are known empty."""
    flags = unknown.get(attribute)
    if flags is True:
        return "unknown"
    given = blocks(values.get(attribute))
    marks = blocks(flags)
    for index in range(max(len(given), len(marks))):
        block = given[index] if index < len(given) else {}
        mark = marks[index] if index < len(marks) else {}
        if any(block.get(k) for k in keys):
            return "set"
        if any(_unknown(mark.get(k)) for k in keys):
            return "unknown"
    return None


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
    if memory is not None and memory > MAX_MEMORY_MB:
        yield finding("LMI014", address, f"memory_size is {memory:g} MB; a function on managed "
                      f"instances takes at most {MAX_MEMORY_MB} MB (32 GB)")
    for attribute, keys in (("vpc_config", ("subnet_ids", "security_group_ids")),
                            ("file_system_config", ("arn", "local_mount_path"))):
        present = _block_present(values, function.unknown, attribute, keys)
        if present is not None:
            known = "" if present == "set" else \
                f" (its {' and '.join(keys)} are known only after the apply)"
            yield finding("LMI009", address, f"sets {attribute}{known}, which a function on a "
                          "capacity provider cannot have (the provider owns networking)",
                          key=attribute)
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
                          "offered for managed instances (C, M, R families, large and up)",
                          key=instance_type)
        needed = "arm64" if match.group("attrs").startswith("g") else "x86_64"
        if architectures and needed not in architectures:
            yield finding("LMI006", provider.address, f"instance type {instance_type} runs "
                          f"{needed} but architectures is {', '.join(architectures)}",
                          key=instance_type)


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
