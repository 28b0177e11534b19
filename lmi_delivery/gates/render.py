"""A :class:`GateReport` as text, JSON or SARIF.

Text is one ``FILE:LINE:COL: SEVERITY RULE address: message`` line per finding (waived ones
marked), then a summary line. No format ever carries an attribute value of the plan.
"""

from __future__ import annotations

import json
from typing import Any

from lmi_delivery import __version__
from lmi_delivery.gates.findings import SEVERITIES
from lmi_delivery.gates.runner import GateReport
from lmi_delivery.gates.sarif import to_sarif

FORMATS = ("text", "json", "sarif")
JSON_SCHEMA_ID = "lmi-delivery/gate-report@1"


def render(report: GateReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2) + "\n"
    if fmt == "sarif":
        sarif = to_sarif(report.findings, __version__, fallback_uri=report.config_file)
        return json.dumps(sarif, indent=2) + "\n"
    return text(report)


def text(report: GateReport) -> str:
    if not report.enabled:
        return f"{report.gate}: disabled in the configuration\n"
    lines = [f.line(report.plan_path) for f in report.findings]
    waived = sum(1 for f in report.findings if f.waived is not None and f.suppression == "waiver")
    suppressed = sum(1 for f in report.findings
                     if f.waived is not None and f.suppression == "automatic")
    advisory = sum(1 for f in report.findings if f.advisory)
    blockers = len(report.blocking)
    verdict = "passed" if report.passed else "refused"
    summary = (f"{report.gate}: {verdict}: {len(report.findings)} finding(s), {blockers} "
               f"blocking (fail_on: {report.fail_on}), {waived} waived")
    if suppressed:
        summary += f", {suppressed} suppressed"
    if advisory:
        summary += f", {advisory} advisory"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def to_dict(report: GateReport) -> dict[str, Any]:
    counts: dict[str, int] = {s: 0 for s in SEVERITIES}
    for item in report.findings:
        counts[item.severity] += 1
    return {
        "schema": JSON_SCHEMA_ID,
        "gate": report.gate,
        "enabled": report.enabled,
        "environment": report.environment,
        "passed": report.passed,
        "fail_on": report.fail_on,
        "counts": {**counts, "blocking": len(report.blocking),
                   "waived": sum(1 for f in report.findings
                                 if f.waived is not None and f.suppression == "waiver"),
                   "suppressed": sum(1 for f in report.findings
                                     if f.waived is not None and f.suppression == "automatic"),
                   "advisory": sum(1 for f in report.findings if f.advisory)},
        "findings": [
            {**f.to_dict(), "blocking": f.blocks(report.fail_on)} for f in report.findings
        ],
    }
