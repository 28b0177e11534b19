"""IAM policies that grant too much (SEC001-SEC003).

Policies are JSON strings in ``policy`` attributes (``aws_iam_policy``, ``aws_iam_role_policy``,
``aws_iam_user_policy``, ``aws_iam_group_policy``, ``aws_iam_role.inline_policy[*].policy``).
When the string is known only after the apply (rendered from a data source read during the
apply), the ``json`` of the ``data.aws_iam_policy_document`` the expression references is read
instead. ``Statement``, ``Action``, ``NotAction`` and ``Resource`` may each be a string or a list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from lmi_delivery.gates.findings import Finding
from lmi_delivery.gates.plan_json import Plan, Resource, blocks, strings
from lmi_delivery.gates.rules import finding

POLICY_TYPES = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy",
                "aws_iam_group_policy")
_SERVICE_WILDCARD = re.compile(r"^[A-Za-z0-9-]+:\*$")
_DOCUMENT_REF = re.compile(r"^data\.aws_iam_policy_document\.([\w-]+)")


def check(plan: Plan) -> list[Finding]:
    found: list[Finding] = []
    documents = _documents(plan)
    for resource in plan.resources(*POLICY_TYPES):
        policy = _policy_text(plan, resource, documents)
        if policy is not None:
            found += _check_policy(resource.address, policy, "")
    for resource in plan.resources("aws_iam_role"):
        for i, inline in enumerate(blocks(resource.values.get("inline_policy"))):
            text = inline.get("policy")
            if isinstance(text, str) and text:
                name = inline.get("name") or str(i)
                found += _check_policy(resource.address, text, f" (inline policy {name})")
    return found


def _documents(plan: Plan) -> dict[tuple[str, str], str]:
    """(module, name) → rendered JSON of every ``aws_iam_policy_document`` read while planning."""
    docs: dict[tuple[str, str], str] = {}
    for resource in plan.resources("aws_iam_policy_document"):
        text = resource.values.get("json")
        if resource.mode == "data" and isinstance(text, str):
            docs.setdefault((resource.module, resource.name), text)
    return docs


def _policy_text(plan: Plan, resource: Resource,
                 documents: Mapping[tuple[str, str], str]) -> str | None:
    text = resource.values.get("policy")
    if isinstance(text, str) and text:
        return text
    for reference in plan.references(resource, "policy"):
        match = _DOCUMENT_REF.match(reference)
        if match and (resource.module, match.group(1)) in documents:
            return documents[(resource.module, match.group(1))]
    return None


def _check_policy(address: str, text: str, where: str) -> list[Finding]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return []
    found: list[Finding] = []
    for index, statement in enumerate(_statements(document)):
        if str(statement.get("Effect", "Allow")) != "Allow":
            continue
        label = f"statement {statement.get('Sid') or index}{where}"
        actions = strings(statement.get("Action"))
        resources = strings(statement.get("Resource"))
        if "*" in actions:
            found.append(finding("SEC001", address, f'{label} allows Action "*"'))
        services = sorted(a for a in actions if _SERVICE_WILDCARD.match(a))
        if services and ("*" in resources or "NotResource" in statement):
            found.append(finding(
                "SEC002", address,
                f"{label} allows {', '.join(services)} on every resource"))
        if "NotAction" in statement:
            found.append(finding(
                "SEC003", address, f"{label} allows every action except its NotAction list"))
    return found


def _statements(document: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return
    yield from blocks(document.get("Statement"))
