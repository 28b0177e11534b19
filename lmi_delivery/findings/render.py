"""Findings as text: the one line of a finding, and the counts a summary is made of.

A line is ``FILE:LINE:COL: SEVERITY RULE address: message``, where what is not known is left
out: the place (a ``fallback``, such as the plan file, stands for it), the address (a finding
about a file has none) and, for checks that do not show it, the severity (doctor's lines are
``FILE:LINE:COL: RULE message``). After the message come the marks: where a scanner finding's
severity came from, and whether the finding is waived, suppressed or advisory. No line ever
carries more of the checked input than the check's message does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lmi_delivery.config.model import Severity
from lmi_delivery.findings.model import SEVERITIES, Finding, Level


def describe(finding: Finding, *, severity: bool = True) -> str:
    """``SEVERITY RULE address: message`` and its marks: the line without its place."""
    head = f"{finding.severity.upper()} {finding.rule_id}" if severity else finding.rule_id
    text = f"{head} {finding.address}: {finding.message}" if finding.address \
        else f"{head} {finding.message}"
    if finding.severity_from:
        text += f" (severity from {finding.severity_from})"
    if finding.waived is not None:
        label = "suppressed" if finding.suppression == "automatic" else "waived"
        text += f" [{label}: {finding.waived}]"
    if finding.advisory:
        text += " [advisory: not blocking]"
    return text


def line(finding: Finding, fallback: str = "", *, severity: bool = True) -> str:
    """``FILE:LINE:COL: SEVERITY RULE address: message`` (``fallback`` when it has no place)."""
    where = str(finding.location) if finding.location else fallback
    text = describe(finding, severity=severity)
    return f"{where}: {text}" if where else text


@dataclass(frozen=True)
class Counts:
    """How many findings of each severity and level, and how many block or are accepted."""

    severities: dict[Severity, int]
    levels: dict[Level, int]
    blocking: int
    waived: int
    suppressed: int
    advisory: int


def count(findings: Iterable[Finding], fail_on: Severity) -> Counts:
    """The counts of ``findings`` with ``fail_on`` as the threshold."""
    items = list(findings)
    severities: dict[Severity, int] = dict.fromkeys(SEVERITIES, 0)
    levels: dict[Level, int] = dict.fromkeys(("error", "warning", "note"), 0)
    for item in items:
        severities[item.severity] += 1
        levels[item.level] += 1
    accepted = [f for f in items if f.waived is not None]
    return Counts(
        severities=severities,
        levels=levels,
        blocking=sum(1 for f in items if f.blocks(fail_on)),
        waived=sum(1 for f in accepted if f.suppression == "waiver"),
        suppressed=sum(1 for f in accepted if f.suppression == "automatic"),
        advisory=sum(1 for f in items if f.advisory),
    )

