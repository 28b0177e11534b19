"""What a plan document must look like before any rule reads it.

:func:`check` refuses (``ConfigError``, exit 2) what is not ``terraform show -json PLANFILE``
output, saying what was given: a state (``show -json`` without a plan file: ``values``, no
``planned_values`` or ``resource_changes``), provider schemas, an object of some other kind, a
``format_version`` this reader does not know (0.1 and 0.2, Terraform 0.12 to 1.0, and every 1.x
are read), and malformed shapes: a ``null`` or a string where Terraform writes an object, actions
that are not a list of words, and, for the attributes the rules read (:data:`ATTRIBUTES`), a
value of the wrong JSON type (``memory_size: "big"``). A rule therefore never meets a shape it
cannot read, and never passes one silently.

Errors name the JSON path and the types, never a value: plans hold secrets.
Hand-written plans of other tools' tests that leave out ``mode``, ``name`` or
``provider_name`` are read (``mode`` defaults to ``managed``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from lmi_delivery.errors import ConfigError

Kind = Literal["number", "string", "bool", "strings", "blocks", "map"]
_VERSION = re.compile(r"^(\d+)\.(\d+)$")
READ_MAJORS = (0, 1)

_IAM_POLICY: dict[str, Kind] = {"policy": "string"}
_PORTS: dict[str, Kind] = {"from_port": "number", "to_port": "number"}
_LMI = "capacity_provider_config[].lambda_managed_instances_capacity_provider_config"
_SCALING = "capacity_provider_scaling_config"
_STATEMENT: dict[str, Kind] = {
    f"statement[].{name}": "strings"
    for name in ("actions", "not_actions", "resources", "not_resources")
}

#: resource type → attribute path (``[]`` after a block) → the JSON type Terraform writes.
#: Only what the rules read; ``null`` is always accepted (unset or known after the apply).
ATTRIBUTES: dict[str, dict[str, Kind]] = {
    "aws_lambda_function": {
        "function_name": "string", "runtime": "string", "memory_size": "number",
        "publish": "bool", "publish_to": "string", "kms_key_arn": "string",
        "capacity_provider_config": "blocks", _LMI: "blocks",
        f"{_LMI}[].capacity_provider_arn": "string",
        f"{_LMI}[].execution_environment_memory_gib_per_vcpu": "number",
        f"{_LMI}[].per_execution_environment_max_concurrency": "number",
        "vpc_config": "blocks", "vpc_config[].subnet_ids": "strings",
        "vpc_config[].security_group_ids": "strings", "vpc_config[].vpc_id": "string",
        "file_system_config": "blocks", "file_system_config[].arn": "string",
        "file_system_config[].local_mount_path": "string",
        "environment": "blocks", "environment[].variables": "map",
    },
    "aws_lambda_capacity_provider": {
        "name": "string", "arn": "string", "kms_key_arn": "string",
        "instance_requirements": "blocks",
        "instance_requirements[].architectures": "strings",
        "instance_requirements[].allowed_instance_types": "strings",
        "instance_requirements[].excluded_instance_types": "strings",
        _SCALING: "blocks", f"{_SCALING}[].max_vcpu_count": "number",
        f"{_SCALING}[].scaling_mode": "string", f"{_SCALING}[].scaling_policies": "blocks",
        "vpc_config": "blocks", "vpc_config[].subnet_ids": "strings",
    },
    "aws_lambda_alias": {"function_name": "string", "function_version": "string"},
    "aws_security_group": {
        "vpc_id": "string", "ingress": "blocks", "ingress[].cidr_blocks": "strings",
        "ingress[].ipv6_cidr_blocks": "strings", "ingress[].protocol": "string",
        **{f"ingress[].{k}": v for k, v in _PORTS.items()},
    },
    "aws_security_group_rule": {
        "type": "string", "cidr_blocks": "strings", "ipv6_cidr_blocks": "strings",
        "protocol": "string", **_PORTS,
    },
    "aws_vpc_security_group_ingress_rule": {
        "cidr_ipv4": "string", "cidr_ipv6": "string", "ip_protocol": "string", **_PORTS,
    },
    "aws_iam_policy": _IAM_POLICY, "aws_iam_role_policy": _IAM_POLICY,
    "aws_iam_user_policy": _IAM_POLICY, "aws_iam_group_policy": _IAM_POLICY,
    "aws_ssoadmin_permission_set_inline_policy": {"inline_policy": "string"},
    "aws_iam_role": {"inline_policy": "blocks", "inline_policy[].policy": "string",
                     "inline_policy[].name": "string"},
    "aws_iam_policy_document": {
        "json": "string", "source_policy_documents": "strings",
        "override_policy_documents": "strings", "source_json": "string",
        "override_json": "string", "statement": "blocks", "statement[].effect": "string",
        "statement[].sid": "string", **_STATEMENT,
    },
    "aws_vpc": {"default": "bool", "id": "string"},
    "aws_default_vpc": {"id": "string"},
    "aws_subnet": {"id": "string", "vpc_id": "string", "availability_zone": "string",
                   "default_for_az": "bool"},
    "aws_default_subnet": {"id": "string", "vpc_id": "string"},
    "aws_subnets": {"ids": "strings"},
    "aws_cloudwatch_log_group": {"kms_key_id": "string"},
    "aws_s3_bucket": {"bucket": "string"},
}

_WRITES: dict[Kind, str] = {
    "number": "a number", "string": "a string", "bool": "true or false",
    "strings": "a list of strings", "blocks": "a list of objects (blocks)",
    "map": "an object of strings",
}


def json_type(value: Any) -> str:
    """The JSON type of a value, in words (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, value: Any, expected: str) -> ConfigError:
        return ConfigError.at(self.file, f"{path} is {json_type(value)}, where Terraform writes "
                              f"{expected}: not a plan `terraform show -json` wrote")

    def mapping(self, value: Any, path: str, expected: str = "an object") -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(path, value, expected)
        return value

    def items(self, value: Any, path: str, what: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """The objects of a list that may be absent; ``null`` or a non-object is an error."""
        if value is None:
            return
        if not isinstance(value, list):
            raise self.fail(path, value, f"a list of {what}")
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, Mapping):
                raise self.fail(where, item, f"an object ({what[:-1]})")
            yield where, item

    def string(self, item: Mapping[str, Any], key: str, path: str, *,
               required: bool = False) -> None:
        value = item.get(key)
        if (value is None and required) or (value is not None and not isinstance(value, str)):
            raise self.fail(f"{path}.{key}", value, "a string")

    def resource(self, item: Mapping[str, Any], path: str) -> None:
        self.string(item, "address", path, required=True)
        self.string(item, "type", path, required=True)
        for key in ("mode", "name", "module_address", "provider_name"):
            self.string(item, key, path)

    def attributes(self, rtype: str, values: Mapping[str, Any], path: str) -> None:
        for attribute, kind in ATTRIBUTES.get(rtype, {}).items():
            for where, value in _at(values, attribute.split("."), path, self):
                if not _fits(value, kind):
                    raise self.fail(where, value, _WRITES[kind])

    def module(self, module: Mapping[str, Any], path: str) -> None:
        for where, item in self.items(module.get("resources"), f"{path}.resources", "resources"):
            self.resource(item, where)
            values = self.mapping(item.get("values"), f"{where}.values")
            self.attributes(str(item["type"]), values, f"{where}.values")
        for where, child in self.items(module.get("child_modules"), f"{path}.child_modules",
                                       "modules"):
            self.module(child, where)

    def changes(self, data: Mapping[str, Any]) -> None:
        for where, item in self.items(data.get("resource_changes"), "resource_changes",
                                      "resource changes"):
            self.resource(item, where)
            change = item.get("change")
            if not isinstance(change, Mapping):
                raise self.fail(f"{where}.change", change, "an object (the change)")
            actions = change.get("actions")
            if not isinstance(actions, list) or not actions or \
                    not all(isinstance(a, str) for a in actions):
                raise self.fail(f"{where}.change.actions", actions,
                                'a list of actions (["create"], ["delete", "create"], ...)')
            for key in ("before", "after"):
                values = self.mapping(change.get(key), f"{where}.change.{key}")
                self.attributes(str(item["type"]), values, f"{where}.change.{key}")
            unknown = change.get("after_unknown")
            if unknown is not None and not isinstance(unknown, Mapping | bool):
                raise self.fail(f"{where}.change.after_unknown", unknown, "an object")

    def configuration(self, module: Mapping[str, Any], path: str) -> None:
        for where, item in self.items(module.get("resources"), f"{path}.resources", "resources"):
            self.string(item, "address", where, required=True)
            self.mapping(item.get("expressions"), f"{where}.expressions")
        calls = self.mapping(module.get("module_calls"), f"{path}.module_calls")
        for name, call in calls.items():
            where = f"{path}.module_calls.{name}"
            call = self.mapping(call, where)
            self.string(call, "source", where)
            self.mapping(call.get("expressions"), f"{where}.expressions")
            self.configuration(self.mapping(call.get("module"), f"{where}.module"),
                               f"{where}.module")


def _at(node: Any, parts: list[str], path: str,
        checker: _Checker) -> Iterator[tuple[str, Any]]:
    """The values at ``parts`` below ``node`` (``name[]`` descends into every block)."""
    if not isinstance(node, Mapping):
        return
    head, rest = parts[0], parts[1:]
    name = head.removesuffix("[]")
    value = node.get(name)
    where = f"{path}.{name}"
    if not rest:
        yield where, value
        return
    if value is None:
        return
    if isinstance(value, Mapping):  # a bare object where a block list is usual: accepted
        yield from _at(value, rest, where, checker)
        return
    if not isinstance(value, list):
        raise checker.fail(where, value, _WRITES["blocks"])
    for index, block in enumerate(value):
        if block is not None and not isinstance(block, Mapping):
            raise checker.fail(f"{where}[{index}]", block, "an object (a block)")
        yield from _at(block, rest, f"{where}[{index}]", checker)


def _fits(value: Any, kind: Kind) -> bool:
    if value is None:
        return True
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "strings":
        return isinstance(value, list) and all(v is None or isinstance(v, str) for v in value)
    if kind == "blocks":
        return isinstance(value, Mapping) or (
            isinstance(value, list) and all(v is None or isinstance(v, Mapping) for v in value))
    return isinstance(value, Mapping) and all(v is None or isinstance(v, str)
                                              for v in value.values())


def describe_other(data: Mapping[str, Any]) -> str:
    """What a JSON object without a plan's sections is, for the refusal."""
    if "values" in data:
        return ("is a Terraform state (`terraform show -json` of a state, or run without a "
                "plan file): it has `values` but no `planned_values` or `resource_changes`. "
                "Give the JSON of a saved plan: terraform plan -out=tfplan, then terraform show "
                "-json tfplan")
    if "provider_schemas" in data:
        return ("is `terraform providers schema -json` output, not a plan: give "
                "`terraform show -json PLANFILE`")
    keys = ", ".join(sorted(str(k) for k in data)[:8]) or "none"
    return (f"has no `planned_values` or `resource_changes` (its keys: {keys}): not "
            "`terraform show -json PLANFILE` output")


def check(data: Any, file: str) -> None:
    """Refuse (exit 2) anything that is not a plan, or a plan of a shape no rule can read."""
    if not isinstance(data, Mapping):
        raise ConfigError.at(file, "a plan JSON document must be an object", line=1, column=1)
    if "planned_values" not in data and "resource_changes" not in data:
        raise ConfigError.at(file, describe_other(data))
    version = data.get("format_version")
    match = _VERSION.match(version) if isinstance(version, str) else None
    if match is None:
        given = "no format_version" if version is None else \
            f"format_version {version!r}" if isinstance(version, str) else \
            f"a format_version that is {json_type(version)}"
        raise ConfigError.at(file, f"has {given}; `terraform show -json` writes one such as "
                             '"1.2"')
    if int(match.group(1)) not in READ_MAJORS:
        raise ConfigError.at(file, f"plan format_version {version} is newer than this "
                             "lmi-delivery reads (0.1, 0.2 and 1.x): upgrade lmi-delivery")
    checker = _Checker(file)
    checker.changes(data)
    planned = checker.mapping(data.get("planned_values"), "planned_values")
    checker.module(checker.mapping(planned.get("root_module"), "planned_values.root_module"),
                   "planned_values.root_module")
    prior = checker.mapping(data.get("prior_state"), "prior_state")
    values = checker.mapping(prior.get("values"), "prior_state.values")
    checker.module(checker.mapping(values.get("root_module"), "prior_state.values.root_module"),
                   "prior_state.values.root_module")
    configuration = checker.mapping(data.get("configuration"), "configuration")
    checker.configuration(checker.mapping(configuration.get("root_module"),
                                          "configuration.root_module"),
                          "configuration.root_module")
