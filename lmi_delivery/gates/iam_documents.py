"""IAM policy documents as the security gate reads them: from JSON, or from the parts of a
``data "aws_iam_policy_document"`` that are known while planning.

A policy document data source that Terraform reads during the apply (one of its arguments
references a resource the same plan creates) has an unknown ``json``, but its ``statement``
blocks are usually known, all but the ARNs. :func:`from_data_source` rebuilds the statements
as the provider merges them: ``source_policy_documents`` (and the older ``source_json``) first,
then the ``statement`` blocks, which replace a source statement of the same ``sid``, then
``override_policy_documents`` (and ``override_json``), which replace by ``sid`` too. What stays
unknown (the statement blocks themselves, a source document, a statement's actions or effect)
is listed in :attr:`Document.unreadable`, so the gate can say it could not read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lmi_delivery.gates.plan_json import Resource, blocks


@dataclass(frozen=True)
class Statement:
    label: str
    """``statement SID`` (or its position when it has no sid)."""
    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    sid: str = ""


@dataclass(frozen=True)
class Document:
    statements: tuple[Statement, ...] = ()
    unreadable: tuple[str, ...] = ()
    """Why parts of the document are known only after the apply (empty: read whole)."""


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def from_json(text: str) -> Document:
    """The statements of a JSON policy (``Statement``, ``Action``… as string or list)."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return Document()
    if not isinstance(document, Mapping):
        return Document()
    found = []
    for index, item in enumerate(blocks(document.get("Statement"))):
        sid = str(item.get("Sid") or "")
        found.append(Statement(
            f"statement {sid or index}", str(item.get("Effect", "Allow")),
            _strings(item.get("Action")), "NotAction" in item,
            _strings(item.get("Resource")), "NotResource" in item, sid))
    return Document(tuple(found))


def _merge(base: list[Statement], extra: list[Statement]) -> list[Statement]:
    """``extra`` replaces the statements of ``base`` with the same sid, the rest is appended."""
    merged = list(base)
    for statement in extra:
        same = next((i for i, s in enumerate(merged) if statement.sid and s.sid == statement.sid),
                    None)
        if same is None:
            merged.append(statement)
        else:
            merged[same] = statement
    return merged


def _documents(resource: Resource, many: str, one: str) -> tuple[list[Statement], list[str]]:
    """Statements of ``source_policy_documents``-like arguments, and what is unknown of them."""
    values, unknown = resource.values, resource.unknown
    statements: list[Statement] = []
    unreadable: list[str] = []
    if unknown.get(many) is True or unknown.get(one) is True:
        unreadable.append(f"its {many if unknown.get(many) is True else one} are known only "
                          "after the apply")
    marks = unknown.get(many)
    flags: list[Any] = marks if isinstance(marks, list) else []
    for index, text in enumerate(values.get(many) or []):
        if isinstance(text, str):
            statements = _merge(statements, list(from_json(text).statements))
        elif index < len(flags) and flags[index] is True:
            unreadable.append(f"its {many}[{index}] is known only after the apply")
    if isinstance(values.get(one), str) and values.get(one):
        statements = _merge(statements, list(from_json(str(values[one])).statements))
    return statements, unreadable


def _blocks(resource: Resource) -> tuple[list[Statement], list[str]]:
    unknown = resource.unknown.get("statement")
    if unknown is True:
        return [], ["its statement blocks are known only after the apply"]
    flags = unknown if isinstance(unknown, list) else []
    found: list[Statement] = []
    unreadable: list[str] = []
    for index, block in enumerate(blocks(resource.values.get("statement"))):
        sid = str(block.get("sid") or "")
        label = f"statement {sid or index}"
        flag = flags[index] if index < len(flags) and isinstance(flags[index], Mapping) else {}
        for key in ("actions", "not_actions", "effect"):
            if _unknown(flag.get(key)):
                unreadable.append(f"the {key} of its {label} are known only after the apply")
        found.append(Statement(
            label, str(block.get("effect") or "Allow"), _strings(block.get("actions")),
            bool(block.get("not_actions")) or _unknown(flag.get("not_actions")),
            _strings(block.get("resources")),
            bool(block.get("not_resources")) or _unknown(flag.get("not_resources")), sid))
    return found, unreadable


def _unknown(flag: Any) -> bool:
    return flag is True or (isinstance(flag, list) and any(f is True for f in flag))


def from_data_source(resource: Resource) -> Document:
    """The document an ``aws_iam_policy_document`` renders, from its ``json`` when known, from
    its known parts otherwise."""
    text = resource.values.get("json")
    if isinstance(text, str) and text:
        return from_json(text)
    sources, unreadable = _documents(resource, "source_policy_documents", "source_json")
    own, unknown_blocks = _blocks(resource)
    overrides, unknown_overrides = _documents(resource, "override_policy_documents",
                                              "override_json")
    statements = _merge(_merge(sources, own), overrides)
    return Document(tuple(statements), (*unreadable, *unknown_blocks, *unknown_overrides))


def allows(document: Document) -> Iterator[Statement]:
    """The Allow statements of a document."""
    yield from (s for s in document.statements if s.effect == "Allow")
