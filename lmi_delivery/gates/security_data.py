"""Data protection: secrets in Lambda environments (SEC030, SEC031), missing KMS keys (SEC040).

Secrets: a variable whose *name* says secret (PASSWORD, SECRET, TOKEN, API_KEY, PRIVATE_KEY, ...)
holding a value rather than a pointer (an ARN, a parameter name), or whose *value* looks like a
credential (an AWS secret or access key, a PEM private key, a GitHub or Slack token). Findings
name the variable, never its value: values must not reach any report.

KMS, only with ``gates.security.require_kms``: ``kms_key_arn`` of capacity providers and
functions, ``kms_key_id`` of log groups, and for S3 buckets an ``aws:kms`` default encryption
(the legacy block on the bucket, or an ``aws_s3_bucket_server_side_encryption_configuration``
naming or referencing the bucket). A key known only after the apply counts as set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lmi_delivery.findings import Finding
from lmi_delivery.gates.plan_json import Plan, Resource, blocks, first
from lmi_delivery.gates.rules import finding

_SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH_?KEY",
    re.IGNORECASE,
)
_POINTER_NAME = re.compile(r"_(ARN|NAME|ID|PATH|PARAM|PARAMETER|SSM|REF|URL|TTL)$", re.IGNORECASE)
_POINTER_VALUE = ("arn:", "{{resolve:", "/aws/reference/")
_CREDENTIAL = (
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("an AWS secret access key",
     re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]*[0-9])(?=[A-Za-z0-9/+=]*[a-z])"
                r"(?=[A-Za-z0-9/+=]*[A-Z])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")),
)


def check_secrets(plan: Plan) -> list[Finding]:
    found: list[Finding] = []
    for resource in plan.resources("aws_lambda_function"):
        variables = first(resource.values.get("environment")).get("variables")
        unknown = first(resource.unknown.get("environment")).get("variables")
        names = set(variables) if isinstance(variables, Mapping) else set()
        if isinstance(unknown, Mapping):
            names |= {k for k, v in unknown.items() if v is True}
        for name in sorted(names):
            value = variables.get(name) if isinstance(variables, Mapping) else None
            found += _check_variable(resource.address, str(name), value)
    return found


def _check_variable(address: str, name: str, value: Any) -> list[Finding]:
    if isinstance(value, str):
        for what, pattern in _CREDENTIAL:
            if pattern.search(value):
                return [finding("SEC031", address,
                                f"environment variable {name} holds what looks like {what}",
                                key=name)]
        if not value or value.startswith(_POINTER_VALUE):
            return []
    if _SECRET_NAME.search(name) and not _POINTER_NAME.search(name):
        return [finding("SEC030", address,
                        f"environment variable {name} looks like a secret stored in plain text",
                        key=name)]
    return []


def check_kms(plan: Plan) -> list[Finding]:
    found: list[Finding] = []
    for rtype, attribute, what in (
        ("aws_lambda_capacity_provider", "kms_key_arn", "capacity provider"),
        ("aws_lambda_function", "kms_key_arn", "function"),
        ("aws_cloudwatch_log_group", "kms_key_id", "log group"),
    ):
        for resource in plan.resources(rtype):
            if resource.mode == "managed" and not _set(resource, attribute):
                found.append(finding("SEC040", resource.address,
                                     f"{what} has no customer-managed KMS key ({attribute})"))
    encrypted = _kms_encrypted_buckets(plan)
    names = _encrypted_names(plan)
    for resource in plan.resources("aws_s3_bucket"):
        if resource.mode != "managed" or _legacy_kms(resource.values):
            continue
        name = str(resource.values.get("bucket") or "")
        if (resource.module, resource.name) in encrypted or name in names:
            continue
        found.append(finding("SEC040", resource.address,
                             "bucket has no default encryption with a customer-managed KMS key"))
    return found


def _set(resource: Resource, attribute: str) -> bool:
    return bool(resource.values.get(attribute)) or resource.unknown.get(attribute) is True


def _legacy_kms(values: Mapping[str, Any]) -> bool:
    for config in blocks(values.get("server_side_encryption_configuration")):
        if _rules_use_kms(config.get("rule")):
            return True
    return False


def _rules_use_kms(rules: Any) -> bool:
    for rule in blocks(rules):
        for default in blocks(rule.get("apply_server_side_encryption_by_default")):
            if str(default.get("sse_algorithm") or "").startswith("aws:kms"):
                return True
    return False


def _kms_configurations(plan: Plan) -> list[Resource]:
    return [r for r in plan.resources("aws_s3_bucket_server_side_encryption_configuration")
            if _rules_use_kms(r.values.get("rule"))]


def _kms_encrypted_buckets(plan: Plan) -> set[tuple[str, str]]:
    """(module, bucket resource name) of buckets a KMS encryption configuration references."""
    found: set[tuple[str, str]] = set()
    for config in _kms_configurations(plan):
        for reference in plan.references(config, "bucket"):
            parts = reference.split(".")
            if len(parts) >= 2 and parts[0] == "aws_s3_bucket":
                found.add((config.module, parts[1].split("[")[0]))
    return found


def _encrypted_names(plan: Plan) -> set[str]:
    """Bucket names a KMS encryption configuration names literally."""
    return {str(c.values.get("bucket")) for c in _kms_configurations(plan)
            if c.values.get("bucket")}
