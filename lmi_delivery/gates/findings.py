"""What a gate found: :class:`Finding`, waivers, and the ``fail_on`` threshold.

A finding names a rule, a severity, the Terraform address it is about, a message and where the
resource is written (``Location`` or ``None``), plus a ``key``: what tells it apart from other
findings of the same rule on the same address (two open ports of one security group). Findings
never carry attribute values: a rule that looks at secrets reports key names only.

Waivers (``gates.security.waivers``) accept one rule on one address until a date. A waived
finding stays in the report, marked with the waiver's reason, and never blocks. A waiver past
its ``expires`` date no longer applies, and is itself reported as a low finding. A finding
lmi-delivery suppresses on its own (checkov's "Lambda in a VPC" on an LMI function) is kept the
same way, with ``suppression = "automatic"`` and the reason. An *advisory* finding is a check
that could not be completed (no AWS access to list what a rule needs): reported, never blocking.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from lmi_delivery.config.model import Severity, Waiver
from lmi_delivery.errors import GateRefused, Location

Source = Literal["lmi-delivery", "checkov", "trivy"]
Suppression = Literal["waiver", "automatic"]

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
WAIVER_EXPIRED = "GATE002"


def rank(severity: Severity) -> int:
    """``low`` 0 … ``critical`` 3."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    address: str
    message: str
    location: Location | None = None
    source: Source = "lmi-delivery"
    title: str = ""
    """Short description of the rule (scanner findings carry their check's name here)."""
    help_uri: str = ""
    waived: str | None = None
    """The reason this finding is accepted (a waiver's, or an automatic suppression's)."""
    suppression: Suppression = "waiver"
    """Who accepted it, when ``waived`` is set: a configured waiver or lmi-delivery itself."""
    key: str = ""
    """What distinguishes this finding from others of its rule on its address (stable words:
    the port and source of an ingress rule, a statement id, a variable name); part of the SARIF
    fingerprint."""
    severity_from: str = ""
    """For scanner findings: where the severity came from (the scanner, lmi-delivery's table,
    the configuration, or the default)."""
    advisory: bool = False
    """The check could not be completed here: reported, never blocking."""

    def blocks(self, fail_on: Severity) -> bool:
        return self.waived is None and not self.advisory and rank(self.severity) >= rank(fail_on)

    def sort_key(self) -> tuple[Any, ...]:
        where = self.location or Location("")
        return (-rank(self.severity), where.file, where.line, self.rule_id, self.address,
                self.key)

    def line(self, fallback: str = "") -> str:
        """``FILE:LINE:COL: SEVERITY RULE address: message`` (the text format of every gate)."""
        where = str(self.location) if self.location else fallback
        prefix = f"{where}: " if where else ""
        text = f"{prefix}{self.severity.upper()} {self.rule_id} {self.address}: {self.message}"
        if self.severity_from:
            text += f" (severity from {self.severity_from})"
        if self.waived is not None:
            label = "suppressed" if self.suppression == "automatic" else "waived"
            text += f" [{label}: {self.waived}]"
        if self.advisory:
            text += " [advisory: not blocking]"
        return text

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule_id, "severity": self.severity, "address": self.address,
            "message": self.message, "source": self.source,
            "location": None if self.location is None else {
                "file": self.location.file, "line": self.location.line,
                "column": self.location.column,
            },
        }
        if self.key:
            data["key"] = self.key
        if self.severity_from:
            data["severity_from"] = self.severity_from
        if self.waived is not None:
            data["waived"] = self.waived
            data["suppression"] = self.suppression
        if self.advisory:
            data["advisory"] = True
        return data


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver],
                  today: datetime.date, *, where: Location | None = None) -> list[Finding]:
    """Mark the findings a current waiver accepts; report each expired waiver as a finding.

    A waiver is current through its ``expires`` day. ``where`` locates the waivers (the
    configuration file) for the expired-waiver findings.
    """
    current: dict[tuple[str, str], Waiver] = {}
    result: list[Finding] = []
    for waiver in waivers:
        if _expires(waiver) >= today:
            current.setdefault((waiver.rule, waiver.address), waiver)
            continue
        result.append(Finding(
            WAIVER_EXPIRED, "low", waiver.address,
            f"the waiver of {waiver.rule} expired on {waiver.expires} and no longer applies",
            location=where, title="Expired waiver",
        ))
    for finding in findings:
        accepted = current.get((finding.rule_id, finding.address))
        if accepted is not None and finding.waived is None:
            finding = replace(finding, waived=accepted.reason, suppression="waiver")
        result.append(finding)
    return sorted(result, key=Finding.sort_key)


def _expires(waiver: Waiver) -> datetime.date:
    try:
        return datetime.date.fromisoformat(waiver.expires)
    except ValueError:  # the config schema checks the format; be safe: an odd date has expired
        return datetime.date.min


def blocking(findings: Iterable[Finding], fail_on: Severity) -> list[Finding]:
    return [f for f in findings if f.blocks(fail_on)]


def enforce(gate: str, findings: Sequence[Finding], fail_on: Severity,
            *, fallback: str = "") -> None:
    """Raise :class:`GateRefused` (exit 3) listing every finding at or above ``fail_on``."""
    blockers = blocking(findings, fail_on)
    if not blockers:
        return
    lines = "\n".join(f"  {f.line(fallback)}" for f in blockers)
    raise GateRefused(
        f"the {gate} gate refused: {len(blockers)} finding(s) at or above {fail_on}:\n{lines}",
        context={"gate": gate, "rules": sorted({f.rule_id for f in blockers})},
    )
