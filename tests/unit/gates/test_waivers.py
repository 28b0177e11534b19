"""Waivers, and a gate report's refusal of the findings at or above its fail_on."""

from __future__ import annotations

import datetime

import pytest

from lmi_delivery.config.model import Waiver
from lmi_delivery.errors import EXIT_REFUSED, GateRefused, Location
from lmi_delivery.findings import blocking
from lmi_delivery.gates.evaluate import GateReport
from lmi_delivery.gates.rules import RULES
from lmi_delivery.gates.waivers import apply_waivers

TODAY = datetime.date(2026, 6, 1)
OPEN_SG = RULES["SEC010"].finding("allows inbound port 22/tcp", address="aws_security_group.web",
                                  location=Location("terraform/network.tf", 28, 1))
DEFAULT_VPC = RULES["SEC020"].finding("is in the default VPC", address="aws_security_group.web")


def test_a_current_waiver_marks_the_finding_and_keeps_it() -> None:
    waiver = Waiver("SEC010", "aws_security_group.web", "bastion until VPN lands", "2026-06-01")
    result = apply_waivers([OPEN_SG, DEFAULT_VPC], [waiver], TODAY)
    waived = [f for f in result if f.rule_id == "SEC010"]
    assert [(f.waived, f.suppression) for f in waived] == [("bastion until VPN lands", "waiver")]
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
    assert (expired.location, expired.address, expired.rule.title) == \
        (where, "aws_security_group.web", "Expired waiver")
    assert "expired on 2026-05-31" in expired.message
    assert blocking(result, "high") == [OPEN_SG]


def test_an_unreadable_expiry_date_counts_as_expired() -> None:
    waiver = Waiver("SEC010", "aws_security_group.web", "r", "next week")
    result = apply_waivers([OPEN_SG], [waiver], TODAY)
    assert [f.rule_id for f in result] == ["SEC010", "GATE002"]
    assert result[0].waived is None


def test_enforce_refuses_with_exit_3_listing_the_blocking_findings() -> None:
    report = GateReport("security", "high", [OPEN_SG, DEFAULT_VPC], plan_path="plan.json")
    assert not report.passed
    with pytest.raises(GateRefused) as caught:
        report.enforce()
    assert caught.value.exit_code == EXIT_REFUSED
    assert caught.value.context == {"gate": "security", "rules": ["SEC010"]}
    message = str(caught.value)
    assert message.startswith("the security gate refused: 1 finding(s) at or above high:\n")
    assert "  terraform/network.tf:28:1: HIGH SEC010 aws_security_group.web" in message
    assert "SEC020" not in message


def test_enforce_names_the_plan_for_a_finding_without_a_place() -> None:
    report = GateReport("security", "medium", [DEFAULT_VPC], plan_path="plan.json")
    with pytest.raises(GateRefused, match=r"  plan\.json: MEDIUM SEC020 aws_security_group\.web"):
        report.enforce()


def test_enforce_passes_below_the_threshold() -> None:
    report = GateReport("security", "high", [DEFAULT_VPC])
    assert report.passed
    report.enforce()
