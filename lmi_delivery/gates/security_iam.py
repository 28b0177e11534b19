"""IAM policies that grant too much (SEC001-SEC003), and those the gate cannot read (SEC004).

Policies are JSON strings in ``policy`` attributes (``aws_iam_policy``, ``aws_iam_role_policy``,
``aws_iam_user_policy``, ``aws_iam_group_policy``), ``aws_iam_role.inline_policy[*].policy`` and
``aws_ssoadmin_permission_set_inline_policy.inline_policy``. When the string is known only after
the apply, the ``data.aws_iam_policy_document`` its expression leads to (through module
variables and outputs too, the same module instance and index first) is read instead: its
``json`` when Terraform read it while planning, else its known statements, source and override
documents (:mod:`~lmi_delivery.gates.iam_documents`). A policy that still cannot be read, or
that has parts known only after the apply, is reported as SEC004 (low): the gate says what it
could not check instead of passing it silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lmi_delivery.findings import Finding
from lmi_delivery.gates import iam_documents
from lmi_delivery.gates.iam_documents import Document
from lmi_delivery.gates.plan_json import Plan, Reference, Resource, blocks
from lmi_delivery.gates.rules import finding

POLICY_TYPES = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy",
                "aws_iam_group_policy")
SSO_INLINE = "aws_ssoadmin_permission_set_inline_policy"
_SERVICE_WILDCARD = re.compile(r"^[A-Za-z0-9-]+:\*$")
_DOCUMENT_REF = re.compile(
    r'^data\.aws_iam_policy_document\.([\w-]+)((?:\[(?:"[^"]*"|[^\]"])*\])?)')
_OWN_INDEX = re.compile(r'(\[(?:"[^"]*"|[^\]"])*\])$')

Documents = dict[str, Resource]
"""Address → every ``aws_iam_policy_document`` data source of the plan."""


def check(plan: Plan) -> list[Finding]:
    found: list[Finding] = []
    documents: Documents = {r.address: r for r in plan.resources("aws_iam_policy_document")
                            if r.mode == "data"}
    for resource in plan.resources(*POLICY_TYPES, SSO_INLINE):
        if resource.mode != "managed":
            continue
        attribute = "inline_policy" if resource.type == SSO_INLINE else "policy"
        found += _check_attribute(plan, resource, documents, attribute,
                                  resource.values.get(attribute),
                                  resource.unknown.get(attribute) is True, "")
    for resource in plan.resources("aws_iam_role"):
        if resource.mode != "managed":
            continue
        flags = resource.unknown.get("inline_policy")
        flags = flags if isinstance(flags, list) else []
        for i, inline in enumerate(blocks(resource.values.get("inline_policy"))):
            flag = flags[i] if i < len(flags) and isinstance(flags[i], Mapping) else {}
            name = inline.get("name") or str(i)
            found += _check_attribute(plan, resource, documents, "inline_policy",
                                      inline.get("policy"), flag.get("policy") is True,
                                      f" (inline policy {name})")
    return found


def _check_attribute(plan: Plan, resource: Resource, documents: Documents, attribute: str,
                     text: Any, unknown: bool, where: str) -> list[Finding]:
    if isinstance(text, str) and text:
        return _check_document(resource.address, iam_documents.from_json(text), where, "")
    if not unknown:
        return []
    sources = _documents_for(plan, resource, attribute, documents)
    if not sources:
        return [finding("SEC004", resource.address,
                        f"the policy{where} is known only after the apply and comes from no "
                        "aws_iam_policy_document read while planning: it cannot be checked "
                        "for wildcards at plan time", key=f"policy{where}")]
    found: list[Finding] = []
    for document in sources:
        via = f" (from {document.address})"
        read = iam_documents.from_data_source(document)
        found += _check_document(resource.address, read, where, via)
        for reason in read.unreadable:
            found.append(finding("SEC004", resource.address,
                                 f"the policy{where} cannot be read whole at plan time: "
                                 f"{document.address}: {reason}",
                                 key=f"policy{where} {document.address} {reason}"))
    return found


def _documents_for(plan: Plan, resource: Resource, attribute: str,
                   documents: Documents) -> list[Resource]:
    """The policy documents an attribute's expression leads to: the indexed instance it names,
    else every instance (only the resource's own index when that one exists)."""
    references: set[Reference] = plan.traced_references(resource, attribute)
    chosen: dict[str, Resource] = {}
    indexed: set[str] = set()
    bare: set[str] = set()
    for instance, reference in references:
        match = _DOCUMENT_REF.match(reference)
        if match is None:
            continue
        base = f"{instance}." if instance else ""
        base += f"data.aws_iam_policy_document.{match.group(1)}"
        if match.group(2):
            indexed.add(base)
            if base + match.group(2) in documents:
                chosen[base + match.group(2)] = documents[base + match.group(2)]
        else:
            bare.add(base)
    for base in bare - indexed:
        chosen.update(_instances(documents, base, resource))
    return [chosen[a] for a in sorted(chosen)]


def _instances(documents: Documents, base: str, resource: Resource) -> Documents:
    """Every instance of ``base``; only the one with the resource's own index when it has one
    (``count.index``/``each.key`` references name no index)."""
    instances = {a: d for a, d in documents.items() if a == base or a.startswith(base + "[")}
    own = _OWN_INDEX.search(resource.address)
    if own is not None and base + own.group(1) in instances:
        return {base + own.group(1): instances[base + own.group(1)]}
    return instances


def _check_document(address: str, document: Document, where: str, via: str) -> list[Finding]:
    found: list[Finding] = []
    for statement in iam_documents.allows(document):
        label = f"{statement.label}{where}{via}"
        key = f"{statement.label}{where}"
        if "*" in statement.actions:
            found.append(finding("SEC001", address, f'{label} allows Action "*"', key=key))
        services = sorted(a for a in statement.actions if _SERVICE_WILDCARD.match(a))
        if services and ("*" in statement.resources or statement.not_resource):
            found.append(finding("SEC002", address,
                                 f"{label} allows {', '.join(services)} on every resource",
                                 key=key))
        if statement.not_action:
            found.append(finding("SEC003", address,
                                 f"{label} allows every action except its NotAction list",
                                 key=key))
    return found
