"""Findings as SARIF 2.1.0, the format GitHub code scanning uploads: one writer for every check.

One run, one tool (``tool``: ``lmi-delivery`` for the gates, ``lmi-delivery doctor`` for doctor;
code scanning tells analyses apart by it) whose rules are the rules of the findings, each with
its title, help, default level and tags; a rule tagged ``security`` also carries
``properties.security-severity``, the number GitHub maps to its severity levels. Each result
has a level, a message (``address: message`` when it is about an address), a location (the
finding's, else ``fallback_uri``) with a region (line 1 when the line is unknown: code scanning
needs ``region.startLine`` on every result), and, when it is about an address, a
``partialFingerprints`` entry made of the rule, the address and the finding's ``key``, never of
lines or wording, so a finding keeps its identity when lines move and two findings never merge.
A finding about a place only (doctor's) has no fingerprint of ours: code scanning computes one
from the line's content. A waived (or automatically suppressed) finding is kept with an accepted
external suppression carrying the reason; an advisory one is a ``note``.

:func:`schema_errors` checks a document against the official schema this package ships
(``lmi_delivery/schemas/sarif-2.1.0.schema.json``, OASIS errata 01).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from lmi_delivery.config.model import Severity
from lmi_delivery.findings.model import LEVELS, Finding, Rule

SCHEMA_URI = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
              "sarif-schema-2.1.0.json")
FINGERPRINT_KEY = "lmiDelivery/ruleAddressKey/v2"
SECURITY_SEVERITY: dict[Severity, str] = {
    "low": "2.0", "medium": "5.5", "high": "8.0", "critical": "9.5",
}


def fingerprint(finding: Finding) -> str:
    """sha256 of rule, address and key: stable across line moves and rewording."""
    text = f"{finding.rule_id}\0{finding.address}\0{finding.key}"
    return hashlib.sha256(text.encode()).hexdigest()


def to_sarif(findings: Sequence[Finding], *, tool: str, version: str,
             fallback_uri: str = "lmi-delivery.yml") -> dict[str, Any]:
    """The SARIF log of ``findings``, in their order, reported by ``tool`` at ``version``."""
    rules: dict[str, dict[str, Any]] = {}
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for item in findings:
        if item.rule_id not in rules:
            index[item.rule_id] = len(rules)
            rules[item.rule_id] = _rule(item.rule)
        results.append(_result(item, index[item.rule_id], fallback_uri))
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": tool,
                "version": version,
                "semanticVersion": version,
                "rules": list(rules.values()),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def _pascal(title: str) -> str:
    return "".join(w.capitalize() for w in title.replace("-", " ").split() if w.isalnum())


def _rule(rule: Rule) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name or _pascal(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.help},
        "help": {"text": rule.help},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": [*rule.tags, rule.source]},
    }
    if "security" in rule.tags:
        descriptor["properties"]["security-severity"] = SECURITY_SEVERITY[rule.severity]
    if rule.help_uri:
        descriptor["helpUri"] = rule.help_uri
    if not descriptor["name"]:
        del descriptor["name"]
    return descriptor


def _result(item: Finding, rule_index: int, fallback_uri: str) -> dict[str, Any]:
    where = item.location
    physical = {
        "artifactLocation": {"uri": where.file if where else fallback_uri},
        "region": {"startLine": max(where.line, 1) if where else 1,
                   "startColumn": max(where.column, 1) if where else 1},
    }
    location: dict[str, Any] = {"physicalLocation": physical}
    result: dict[str, Any] = {
        "ruleId": item.rule_id,
        "ruleIndex": rule_index,
        "level": item.level,
        "message": {"text": f"{item.address}: {item.message}" if item.address
                    else item.message},
        "locations": [location],
    }
    if item.address:
        location["logicalLocations"] = [{"fullyQualifiedName": item.address,
                                         "kind": "resource"}]
        result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(item)}
    result["properties"] = {"severity": item.severity, "source": item.source}
    if item.severity_from:
        result["properties"]["severityFrom"] = item.severity_from
    if item.advisory:
        result["properties"]["advisory"] = True
    if item.waived is not None:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": item.waived,
                                   "properties": {"by": item.suppression}}]
    return result


@cache
def schema() -> Mapping[str, Any]:
    """The SARIF 2.1.0 JSON Schema shipped with the package."""
    text = (files("lmi_delivery") / "schemas" / "sarif-2.1.0.schema.json").read_text("utf-8")
    loaded: Mapping[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Any:
    import jsonschema  # deferred: only checks and tests validate

    cls = jsonschema.validators.validator_for(schema())
    return cls(schema(), format_checker=jsonschema.FormatChecker())


def schema_errors(document: Mapping[str, Any]) -> list[str]:
    """What makes ``document`` invalid SARIF 2.1.0 (empty: valid), each with its JSON path."""
    return sorted(f"{error.json_path}: {error.message}"
                  for error in _validator().iter_errors(document))
