"""Findings as SARIF 2.1.0, the format GitHub code scanning uploads.

One run, one tool (``lmi-delivery``) whose rules are every rule that has a finding, with
``properties.security-severity`` (the number GitHub maps to its severity levels). Each result
has a level, a message, a repository-relative location (``fallback_uri`` when the finding has
none: GitHub needs a location on every result) and a ``partialFingerprints`` entry made of the
rule, the address and the finding's ``key`` (what distinguishes two findings of one rule on one
address, such as two open ports of one security group), never of lines or wording, so a
finding keeps its identity when lines move and two findings never merge. A waived (or
automatically suppressed) finding is kept with an accepted external suppression carrying the
reason; an advisory one is a ``note``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from lmi_delivery.config.model import Severity
from lmi_delivery.gates.findings import Finding
from lmi_delivery.gates.rules import RULES

SCHEMA_URI = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
              "sarif-schema-2.1.0.json")
FINGERPRINT_KEY = "lmiDelivery/ruleAddressKey/v2"
SECURITY_SEVERITY: dict[Severity, str] = {
    "low": "2.0", "medium": "5.5", "high": "8.0", "critical": "9.5",
}
LEVEL: dict[Severity, str] = {
    "low": "note", "medium": "warning", "high": "error", "critical": "error",
}


def fingerprint(finding: Finding) -> str:
    """sha256 of rule, address and key: stable across line moves and rewording."""
    text = f"{finding.rule_id}\0{finding.address}\0{finding.key}"
    return hashlib.sha256(text.encode()).hexdigest()


def to_sarif(findings: Sequence[Finding], tool_version: str,
             fallback_uri: str = "lmi-delivery.yml") -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for item in findings:
        if item.rule_id not in rules:
            index[item.rule_id] = len(rules)
            rules[item.rule_id] = _rule(item)
        results.append(_result(item, index[item.rule_id], fallback_uri))
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "lmi-delivery",
                "version": tool_version,
                "semanticVersion": tool_version,
                "rules": list(rules.values()),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def _rule(item: Finding) -> dict[str, Any]:
    own = RULES.get(item.rule_id) if item.source == "lmi-delivery" else None
    title = own.title if own else item.title or item.rule_id
    help_text = own.help if own else item.title or item.message or item.rule_id
    severity = own.severity if own else item.severity
    rule: dict[str, Any] = {
        "id": item.rule_id,
        "name": "".join(w.capitalize() for w in title.replace("-", " ").split() if w.isalnum()),
        "shortDescription": {"text": title},
        "fullDescription": {"text": help_text},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "tags": ["security", item.source],
        },
    }
    if item.help_uri:
        rule["helpUri"] = item.help_uri
    if not rule["name"]:
        del rule["name"]
    return rule


def _result(item: Finding, rule_index: int, fallback_uri: str) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {
        "uri": item.location.file if item.location else fallback_uri,
    }}
    if item.location and item.location.line > 0:
        physical["region"] = {"startLine": item.location.line,
                              "startColumn": max(item.location.column, 1)}
    result: dict[str, Any] = {
        "ruleId": item.rule_id,
        "ruleIndex": rule_index,
        "level": "note" if item.advisory else LEVEL[item.severity],
        "message": {"text": f"{item.address}: {item.message}"},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{"fullyQualifiedName": item.address, "kind": "resource"}],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(item)},
        "properties": {"severity": item.severity, "source": item.source},
    }
    if item.severity_from:
        result["properties"]["severityFrom"] = item.severity_from
    if item.advisory:
        result["properties"]["advisory"] = True
    if item.waived is not None:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": item.waived,
                                   "properties": {"by": item.suppression}}]
    return result
