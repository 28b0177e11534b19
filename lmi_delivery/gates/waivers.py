"""Waivers: ``gates.security.waivers`` accept one rule on one address until a date.

A waived finding stays in the report, marked with the waiver's reason, and never blocks. A
waiver past its ``expires`` date no longer applies, and is itself reported as a low finding
(GATE002). A finding lmi-delivery suppresses on its own (checkov's "Lambda in a VPC" on an LMI
function) is kept the same way, with ``suppression = "automatic"`` and the reason
(:mod:`lmi_delivery.gates.scanners`). The findings themselves are :mod:`lmi_delivery.findings`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import replace

from lmi_delivery.config.model import Waiver
from lmi_delivery.errors import Location
from lmi_delivery.findings import Finding, by_severity
from lmi_delivery.gates.rules import RULES

WAIVER_EXPIRED = "GATE002"


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver],
                  today: datetime.date, *, where: Location | None = None) -> list[Finding]:
    """Mark the findings a current waiver accepts; report each expired waiver as a finding.

    A waiver is current through its ``expires`` day. ``where`` locates the waivers (the
    configuration file) for the expired-waiver findings. The result is sorted, most severe
    first.
    """
    current: dict[tuple[str, str], Waiver] = {}
    result: list[Finding] = []
    for waiver in waivers:
        if _expires(waiver) >= today:
            current.setdefault((waiver.rule, waiver.address), waiver)
            continue
        result.append(RULES[WAIVER_EXPIRED].finding(
            f"the waiver of {waiver.rule} expired on {waiver.expires} and no longer applies",
            address=waiver.address, location=where))
    for finding in findings:
        accepted = current.get((finding.rule_id, finding.address))
        if accepted is not None and finding.waived is None:
            finding = replace(finding, waived=accepted.reason, suppression="waiver")
        result.append(finding)
    return sorted(result, key=by_severity)


def _expires(waiver: Waiver) -> datetime.date:
    try:
        return datetime.date.fromisoformat(waiver.expires)
    except ValueError:  # the config schema checks the format; be safe: an odd date has expired
        return datetime.date.min
