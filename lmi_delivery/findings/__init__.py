"""The one model of what a check found, for the gates and for doctor: :class:`Rule` and
:class:`Finding`, the ordered severities and the ``fail_on`` threshold (:mod:`.model`), the
SARIF 2.1.0 writer and its schema check (:mod:`.sarif`), and the text line and counts of
findings (:mod:`.render`). It owns how a finding is described, ordered, counted and written;
it never decides what is a finding, never reads a file a check looks at, and never prints,
exits or raises a refusal: the gates and doctor do that with what it gives them.
"""

from __future__ import annotations

from lmi_delivery.config.model import Severity
from lmi_delivery.findings.model import (
    LEVELS,
    SEVERITIES,
    Finding,
    Level,
    Rule,
    Source,
    Suppression,
    blocking,
    by_place,
    by_severity,
    rank,
)
from lmi_delivery.findings.render import Counts, count, describe, line
from lmi_delivery.findings.sarif import schema_errors, to_sarif

__all__ = [
    "LEVELS",
    "SEVERITIES",
    "Counts",
    "Finding",
    "Level",
    "Rule",
    "Severity",
    "Source",
    "Suppression",
    "blocking",
    "by_place",
    "by_severity",
    "count",
    "describe",
    "line",
    "rank",
    "schema_errors",
    "to_sarif",
]
