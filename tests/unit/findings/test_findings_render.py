"""The text line of a finding, with and without its place, severity and marks; the counts."""

from __future__ import annotations

from dataclasses import replace

from lmi_delivery.errors import Location
from lmi_delivery.findings import Rule, count, describe, line

OPEN_SG = Rule("SEC010", "high", "Security group open to the internet inbound", "Allow less.")
DEFAULT_VPC = Rule("SEC020", "medium", "Resource placed in the default VPC", "Own VPC.")
CHECKOV = Rule("CKV_AWS_117", "low", "Lambda in a VPC", "Lambda in a VPC", source="checkov")
TFDIR = Rule("LMD005", "high", "Terraform outside terraform.working_directory", "Use -chdir.",
             name="terraform-directory")

SSH = OPEN_SG.finding("allows inbound port 22/tcp", address="aws_security_group.web",
                      location=Location("terraform/network.tf", 28, 1))
VPC = DEFAULT_VPC.finding("is in the default VPC", address="aws_security_group.web")


def test_line_format_with_and_without_a_location() -> None:
    assert line(SSH) == ("terraform/network.tf:28:1: HIGH SEC010 aws_security_group.web: "
                         "allows inbound port 22/tcp")
    assert line(VPC, "plan.json").startswith("plan.json: MEDIUM SEC020 ")
    assert line(VPC) == "MEDIUM SEC020 aws_security_group.web: is in the default VPC"


def test_a_line_without_severity_or_address_is_doctors() -> None:
    found = TFDIR.finding("terraform runs in other", location=Location("buildspecs/plan.yml", 11))
    assert line(found, severity=False) == "buildspecs/plan.yml:11:1: LMD005 terraform runs in other"
    assert describe(found, severity=False) == "LMD005 terraform runs in other"


def test_marks_say_where_the_severity_came_from_and_who_accepted_it() -> None:
    base = CHECKOV.finding("not in a VPC", address="aws_lambda_function.router")
    suppressed = replace(base, waived="runs on a capacity provider", suppression="automatic",
                         severity_from="lmi-delivery's checkov table")
    assert describe(suppressed) == (
        "LOW CKV_AWS_117 aws_lambda_function.router: not in a VPC (severity from "
        "lmi-delivery's checkov table) [suppressed: runs on a capacity provider]")
    assert describe(replace(base, waived="bastion")).endswith(" [waived: bastion]")
    advisory = replace(base, advisory=True)
    assert describe(advisory).endswith("not in a VPC [advisory: not blocking]")


def test_counts_by_severity_and_level_and_what_is_accepted() -> None:
    findings = [SSH, VPC, replace(SSH, waived="bastion"),
                replace(VPC, waived="shared", suppression="automatic"),
                replace(SSH, advisory=True)]
    counts = count(findings, "high")
    assert counts.severities == {"low": 0, "medium": 2, "high": 3, "critical": 0}
    assert counts.levels == {"error": 2, "warning": 2, "note": 1}
    assert (counts.blocking, counts.waived, counts.suppressed, counts.advisory) == (1, 1, 1, 1)
    assert count(findings, "medium").blocking == 2
    assert count([], "low").blocking == 0
