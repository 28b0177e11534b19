"""Rules, findings and severities: the one model of what a check found.

A :class:`Rule` is what a check looks for: its id (``SEC010``, ``LMI003``, ``LMD001``, or a
scanner's own, such as checkov's ``CKV_AWS_117``), its default severity, a title, the help text
that says how to fix what it finds, and who wrote it (``source``). A :class:`Finding` is one case
of a rule: its severity (the rule's, unless a check or the configuration decided another), the
message, where it is written (:class:`~lmi_delivery.errors.Location`, or ``None`` when unknown)
and, for findings about a Terraform plan, the address it is about and a ``key``: what tells it
apart from other findings of its rule on that address (two open ports of one security group).

Severities are ordered ``low`` < ``medium`` < ``high`` < ``critical``; a threshold (``fail_on``)
is the lowest severity that blocks. A finding accepted by a waiver or suppressed automatically
(``waived`` holds the reason) never blocks, nor does an *advisory* one (a check that could not be
completed). Each severity has a level, the word SARIF and GitHub show: ``note`` (low),
``warning`` (medium) or ``error`` (high, critical); an advisory finding is a ``note``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from lmi_delivery.config.model import Severity
from lmi_delivery.errors import Location

Level = Literal["note", "warning", "error"]
Source = Literal["lmi-delivery", "checkov", "trivy"]
Suppression = Literal["waiver", "automatic"]

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
LEVELS: dict[Severity, Level] = {
    "low": "note", "medium": "warning", "high": "error", "critical": "error",
}


def rank(severity: Severity) -> int:
    """``low`` 0 … ``critical`` 3."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    """The severity of its findings unless a check says otherwise."""
    title: str
    """One line: what it finds."""
    help: str
    """Why it matters and how to fix it."""
    name: str = ""
    """A short kebab-case name (doctor's ``name-drift``), if the rule has one."""
    source: Source = "lmi-delivery"
    """Who wrote the rule: lmi-delivery, or the scanner that reported it."""
    tags: tuple[str, ...] = ()
    """``security`` for a security rule (GitHub then ranks its alerts by severity)."""
    help_uri: str = ""

    def finding(self, message: str, *, address: str = "", location: Location | None = None,
                severity: Severity | None = None, key: str = "",
                advisory: bool = False) -> Finding:
        """A finding of this rule, at the rule's severity unless told otherwise."""
        return Finding(self, severity or self.severity, message, location, address=address,
                       key=key, advisory=advisory)


@dataclass(frozen=True)
class Finding:
    rule: Rule
    severity: Severity
    message: str
    location: Location | None = None
    address: str = ""
    """The Terraform address the finding is about (empty when it is about a file)."""
    key: str = ""
    """What distinguishes this finding from others of its rule on its address (stable words:
    the port and source of an ingress rule, a statement id, a variable name); part of the SARIF
    fingerprint."""
    waived: str | None = None
    """The reason this finding is accepted (a waiver's, or an automatic suppression's)."""
    suppression: Suppression = "waiver"
    """Who accepted it, when ``waived`` is set: a configured waiver or lmi-delivery itself."""
    severity_from: str = ""
    """For scanner findings: where the severity came from (the scanner, lmi-delivery's table,
    the configuration, or the default)."""
    advisory: bool = False
    """The check could not be completed here: reported, never blocking."""

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def source(self) -> Source:
        return self.rule.source

    @property
    def level(self) -> Level:
        return "note" if self.advisory else LEVELS[self.severity]

    def blocks(self, fail_on: Severity) -> bool:
        return self.waived is None and not self.advisory and rank(self.severity) >= rank(fail_on)


def blocking(findings: Iterable[Finding], fail_on: Severity) -> list[Finding]:
    """The findings at or above ``fail_on`` that are neither waived nor advisory."""
    return [f for f in findings if f.blocks(fail_on)]


def by_severity(finding: Finding) -> tuple[Any, ...]:
    """Sort key: the most severe first, then by file, line, rule, address and key."""
    where = finding.location or Location("")
    return (-rank(finding.severity), where.file, where.line, finding.rule_id, finding.address,
            finding.key)


def by_place(finding: Finding) -> tuple[Any, ...]:
    """Sort key: by file, line and column, then rule, address, key and message."""
    return (finding.location or Location(""), finding.rule_id, finding.address, finding.key,
            finding.message)
