"""Waivers, the fail_on threshold and the text line of a finding."""

from __future__ import annotations

import datetime

import pytest

from lmi_delivery.config.model import Waiver
from lmi_delivery.errors import EXIT_REFUSED, GateRefused, Location
from lmi_delivery.gates.findings import Finding, apply_waivers, blocking, enforce

TODAY = datetime.date(2026, 6, 1)
OPEN_SG = Finding("SEC010", "high", "aws_security_group.web", "allows inbound port 22/tcp",
                  Location("terraform/network.tf", 28, 1))
DEFAULT_VPC = Finding("SEC020", "medium", "aws_security_group.web", "is in the default VPC")
ADMIN = Finding("SEC001", "critical", "aws_iam_policy.admin", 'allows Action "*"')


def test_a_current_waiver_marks_the_finding_and_keeps_it() -> None:
    waiver = Waiver("SEC010", "aws_security_group.web", "bastion until VPN lands", "2026-06-01")
    result = apply_waivers([OPEN_SG, DEFAULT_VPC], [waiver], TODAY)
    waived = [f for f in result if f.rule_id == "SEC010"]
    assert [f.waived for f in waived] == ["bastion until VPN lands"]
    assert len(result) == 2
    assert blocking(result, "high") == []


def test_a_waiver_matches_rule_and_address_exactly() -> None:
    waivers = [Waiver("SEC010", "aws_security_group.other", "r", "2030-01-01"),
               Waiver("SEC020", "aws_security_group.web", "r", "2030-01-01")]
    result = apply_waivers([OPEN_SG], waivers, TODAY)
    assert [f.waived for f in result] == [None]


def test_an_expired_waiver_no_longer_applies_and_is_reported_low() -> None:
    waiver = Waiver("SEC010", "aws_security_group.web", "temporary", "2026-05-31")
    where = Location("lmi-delivery.yml", 40, 7)
    result = apply_waivers([OPEN_SG], [waiver], TODAY, where=where)
    assert [(f.rule_id, f.severity, f.waived) for f in result] == [
        ("SEC010", "high", None), ("GATE002", "low", None)]
    expired = result[1]
    assert expired.location == where
    assert "expired on 2026-05-31" in expired.message
    assert blocking(result, "high") == [OPEN_SG]


@pytest.mark.parametrize(("fail_on", "blockers"), [
    ("critical", ["SEC001"]),
    ("high", ["SEC001", "SEC010"]),
    ("medium", ["SEC001", "SEC010", "SEC020"]),
    ("low", ["SEC001", "SEC010", "SEC020"]),
])
def test_fail_on_is_the_lowest_blocking_severity(fail_on: str, blockers: list[str]) -> None:
    findings = [OPEN_SG, DEFAULT_VPC, ADMIN]
    assert sorted(f.rule_id for f in blocking(findings, fail_on)) == blockers  # type: ignore[arg-type]  # parametrized literal


def test_enforce_refuses_with_exit_3_listing_the_blocking_findings() -> None:
    with pytest.raises(GateRefused) as caught:
        enforce("security", [OPEN_SG, DEFAULT_VPC], "high", fallback="plan.json")
    assert caught.value.exit_code == EXIT_REFUSED
    message = str(caught.value)
    assert "terraform/network.tf:28:1: HIGH SEC010 aws_security_group.web" in message
    assert "SEC020" not in message


def test_enforce_passes_below_the_threshold() -> None:
    enforce("security", [DEFAULT_VPC], "high")


def test_line_format_with_and_without_a_location() -> None:
    assert OPEN_SG.line() == ("terraform/network.tf:28:1: HIGH SEC010 aws_security_group.web: "
                              "allows inbound port 22/tcp")
    assert DEFAULT_VPC.line("plan.json").startswith("plan.json: MEDIUM SEC020 ")
