"""Doctor's findings as text (``FILE:LINE:COL: RULE message``), JSON or SARIF 2.1.0."""

from __future__ import annotations

import json
from typing import Any

from lmi_delivery import __version__
from lmi_delivery.doctor.model import RULES, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning"}


def summary(findings: list[Finding]) -> str:
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if not findings:
        return "doctor: no findings"
    return f"doctor: {errors} error(s), {warnings} warning(s)"


def to_text(findings: list[Finding]) -> str:
    return "".join(f"{f}\n" for f in findings)


def to_json(findings: list[Finding]) -> str:
    rows = [{"file": f.location.file, "line": f.location.line, "column": f.location.column,
             "rule": f.rule, "name": f.name, "severity": f.severity, "message": f.message}
            for f in findings]
    return json.dumps({"findings": rows, "summary": summary(findings)}, indent=2) + "\n"


def to_sarif(findings: list[Finding]) -> str:
    rules = [{"id": r.id, "name": r.name, "shortDescription": {"text": r.summary},
              "defaultConfiguration": {"level": _LEVEL[r.severity]}}
             for r in RULES.values()]
    results: list[dict[str, Any]] = []
    for f in findings:
        region = {"startLine": max(f.location.line, 1), "startColumn": max(f.location.column, 1)}
        results.append({
            "ruleId": f.rule,
            "level": _LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.location.file},
                "region": region,
            }}],
        })
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "lmi-delivery doctor", "version": __version__,
                                "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def render(findings: list[Finding], fmt: str) -> str:
    if fmt == "json":
        return to_json(findings)
    if fmt == "sarif":
        return to_sarif(findings)
    return to_text(findings)
