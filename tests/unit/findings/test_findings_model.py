"""Rules, findings, the order of severities and the fail_on threshold."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lmi_delivery.config.model import Severity
from lmi_delivery.errors import Location
from lmi_delivery.findings import (
    LEVELS,
    SEVERITIES,
    Rule,
    blocking,
    by_place,
    by_severity,
    rank,
)

OPEN_SG = Rule("SEC010", "high", "Security group open to the internet inbound", "Allow less.")
DEFAULT_VPC = Rule("SEC020", "medium", "Resource placed in the default VPC", "Own VPC.")
ADMIN = Rule("SEC001", "critical", "IAM policy allows every action", "List the actions.")
DOC_LINK = Rule("LMD007", "medium", "Doc reference to a file that does not exist", "Fix it.",
                name="broken-doc-reference")

FINDINGS = [
    OPEN_SG.finding("allows inbound port 22/tcp", address="aws_security_group.web",
                    location=Location("terraform/network.tf", 28, 1)),
    DEFAULT_VPC.finding("is in the default VPC", address="aws_security_group.web"),
    ADMIN.finding('allows Action "*"', address="aws_iam_policy.admin"),
]


def test_severities_are_ordered_and_each_has_a_level() -> None:
    assert [rank(s) for s in SEVERITIES] == [0, 1, 2, 3]
    assert SEVERITIES == ("low", "medium", "high", "critical")
    assert LEVELS == {"low": "note", "medium": "warning", "high": "error", "critical": "error"}


def test_a_finding_takes_its_rules_severity_unless_told_otherwise() -> None:
    default = OPEN_SG.finding("m", address="a")
    lowered = OPEN_SG.finding("m", address="a", severity="low")
    assert (default.severity, default.level, default.rule_id) == ("high", "error", "SEC010")
    assert (lowered.severity, lowered.level) == ("low", "note")
    assert default.source == "lmi-delivery"
    assert default.location is None


@pytest.mark.parametrize(("fail_on", "blockers"), [
    ("critical", ["SEC001"]),
    ("high", ["SEC001", "SEC010"]),
    ("medium", ["SEC001", "SEC010", "SEC020"]),
    ("low", ["SEC001", "SEC010", "SEC020"]),
])
def test_fail_on_is_the_lowest_blocking_severity(fail_on: Severity, blockers: list[str]) -> None:
    assert sorted(f.rule_id for f in blocking(FINDINGS, fail_on)) == blockers


def test_waived_and_advisory_findings_never_block() -> None:
    waived = replace(FINDINGS[2], waived="break-glass role")
    suppressed = replace(FINDINGS[2], waived="not on LMI", suppression="automatic")
    advisory = ADMIN.finding("could not be listed", address="x", advisory=True)
    assert blocking([waived, suppressed, advisory], "low") == []
    assert advisory.level == "note"
    assert waived.level == "error"


def test_by_severity_puts_the_most_severe_first_then_the_place() -> None:
    later = replace(FINDINGS[0], location=Location("terraform/network.tf", 40, 1),
                    address="aws_security_group.db")
    ordered = sorted([FINDINGS[1], later, FINDINGS[0], FINDINGS[2]], key=by_severity)
    assert [(f.rule_id, f.address) for f in ordered] == [
        ("SEC001", "aws_iam_policy.admin"), ("SEC010", "aws_security_group.web"),
        ("SEC010", "aws_security_group.db"), ("SEC020", "aws_security_group.web")]


def test_by_place_orders_by_file_line_and_column_then_rule() -> None:
    at = [DOC_LINK.finding("b", location=Location("README.md", 4, 2)),
          DOC_LINK.finding("a", location=Location("README.md", 4, 2)),
          OPEN_SG.finding("x", location=Location("README.md", 3, 9)),
          DOC_LINK.finding("c", location=Location("A.md", 9, 1))]
    assert [(f.location.file, f.message) for f in sorted(at, key=by_place)
            if f.location] == [("A.md", "c"), ("README.md", "x"), ("README.md", "a"),
                               ("README.md", "b")]


def test_findings_are_values() -> None:
    """Doctor collects findings in a set: the same finding twice is one."""
    one = DOC_LINK.finding("m", location=Location("README.md", 3, 1))
    assert {one, DOC_LINK.finding("m", location=Location("README.md", 3, 1))} == {one}
