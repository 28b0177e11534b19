"""A :class:`GateReport` as text, JSON or SARIF.

Text is one ``FILE:LINE:COL: SEVERITY RULE address: message`` line per finding (waived ones
marked; the plan file stands for an unknown place), then a summary line. SARIF is
:func:`lmi_delivery.findings.to_sarif` as tool ``lmi-delivery``, the configuration file
standing for an unknown place. No format ever carries an attribute value of the plan.
"""

from __future__ import annotations

import json
from typing import Any

from lmi_delivery import __version__
from lmi_delivery.findings import Finding, count, line, to_sarif
from lmi_delivery.gates.evaluate import GateReport

FORMATS = ("text", "json", "sarif")
JSON_SCHEMA_ID = "lmi-delivery/gate-report@1"
TOOL = "lmi-delivery"


def render(report: GateReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2) + "\n"
    if fmt == "sarif":
        sarif = to_sarif(report.findings, tool=TOOL, version=__version__,
                         fallback_uri=report.config_file)
        return json.dumps(sarif, indent=2) + "\n"
    return text(report)


def text(report: GateReport) -> str:
    if not report.enabled:
        return f"{report.gate}: disabled in the configuration\n"
    lines = [line(f, report.plan_path) for f in report.findings]
    counts = count(report.findings, report.fail_on)
    verdict = "passed" if report.passed else "refused"
    summary = (f"{report.gate}: {verdict}: {len(report.findings)} finding(s), "
               f"{counts.blocking} blocking (fail_on: {report.fail_on}), {counts.waived} waived")
    if counts.suppressed:
        summary += f", {counts.suppressed} suppressed"
    if counts.advisory:
        summary += f", {counts.advisory} advisory"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def to_dict(report: GateReport) -> dict[str, Any]:
    counts = count(report.findings, report.fail_on)
    return {
        "schema": JSON_SCHEMA_ID,
        "gate": report.gate,
        "enabled": report.enabled,
        "environment": report.environment,
        "passed": report.passed,
        "fail_on": report.fail_on,
        "counts": {**counts.severities, "blocking": counts.blocking, "waived": counts.waived,
                   "suppressed": counts.suppressed, "advisory": counts.advisory},
        "findings": [
            {**_finding_dict(f), "blocking": f.blocks(report.fail_on)} for f in report.findings
        ],
    }


def _finding_dict(finding: Finding) -> dict[str, Any]:
    """One finding of the JSON report: its rule, severity, address, message and place."""
    where = finding.location
    data: dict[str, Any] = {
        "rule": finding.rule_id, "severity": finding.severity, "address": finding.address,
        "message": finding.message, "source": finding.source,
        "location": None if where is None else {
            "file": where.file, "line": where.line, "column": where.column,
        },
    }
    if finding.key:
        data["key"] = finding.key
    if finding.severity_from:
        data["severity_from"] = finding.severity_from
    if finding.waived is not None:
        data["waived"] = finding.waived
        data["suppression"] = finding.suppression
    if finding.advisory:
        data["advisory"] = True
    return data
