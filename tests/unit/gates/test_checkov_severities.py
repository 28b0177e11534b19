"""checkov without a Prisma Cloud key reports no severity: lmi-delivery's table supplies one,
the configuration can override it, and every finding says which mapping applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmi_delivery.gates import checkov_severities
from lmi_delivery.gates.checkov_severities import severity
from lmi_delivery.gates.scanners import LMI_VPC_REASON, parse_checkov, suppress_lmi_vpc

SAMPLES = Path(__file__).parent / "samples"
TABLE = f"lmi-delivery's checkov table ({checkov_severities.TABLE_VERSION})"


@pytest.mark.parametrize(("check", "expected", "source"), [
    ("CKV_AWS_63", "critical", TABLE),                     # Action "*", as SEC001
    ("CKV_AWS_24", "high", TABLE),                         # SSH from the internet, as SEC010
    ("CKV_AWS_45", "critical", f"{TABLE[:-1]}, category SECRETS)"),
    ("CKV_AWS_158", "medium", f"{TABLE[:-1]}, category ENCRYPTION)"),
    ("CKV_AWS_338", "low", f"{TABLE[:-1]}, category LOGGING)"),
    ("CKV_AWS_117", "low", TABLE),
    ("CKV_GCP_1", "medium", "default: not in lmi-delivery's checkov table"),
])
def test_the_table_gives_every_check_a_severity_and_says_so(check: str, expected: str,
                                                            source: str) -> None:
    assert severity(check) == (expected, source)


def test_checkov_s_own_severity_wins_over_the_table_and_the_config_over_both() -> None:
    assert severity("CKV_AWS_24", "low") == ("low", "checkov")
    assert severity("CKV_AWS_24", "low", {"CKV_AWS_24": "critical"}) == \
        ("critical", "gates.security.severities")


def test_every_chosen_check_exists_in_the_checkov_the_table_was_made_from() -> None:
    known = {c for checks in checkov_severities.BY_CATEGORY.values() for c in checks}
    assert set(checkov_severities.CHOSEN) <= known
    assert set(checkov_severities.CATEGORY_SEVERITY) >= set(checkov_severities.BY_CATEGORY)
    assert len(known) > 400


def test_without_a_key_a_configured_checkov_can_block_at_fail_on_high() -> None:
    """The recorded checkov 3.3.30 run on examples/agent-platform: severity null everywhere."""
    output = (SAMPLES / "checkov-agent-platform.json").read_text(encoding="utf-8")
    assert {c["severity"] for c in json.loads(output)["results"]["failed_checks"]} == {None}
    found = parse_checkov(output, Path("/repo/terraform"), Path("/repo"))
    assert all(f.severity_from.startswith("lmi-delivery's checkov table") for f in found)
    open_ssh = parse_checkov(json.dumps({"check_type": "terraform", "results": {
        "failed_checks": [{"check_id": "CKV_AWS_24", "check_name": "SSH open",
                           "resource": "aws_security_group.web", "severity": None,
                           "file_path": "/network.tf", "file_line_range": [1, 9]}]}}),
        Path("/repo/terraform"), Path("/repo"))
    assert open_ssh[0].blocks("high")


def test_ckv_aws_117_is_suppressed_on_lmi_functions_only() -> None:
    output = (SAMPLES / "checkov-agent-platform.json").read_text(encoding="utf-8")
    found = parse_checkov(output, Path("/repo/terraform"), Path("/repo"))
    vpc = next(f for f in found if f.rule_id == "CKV_AWS_117")
    other = vpc.__class__(**{**vpc.__dict__, "address": 'aws_lambda_function.standard["a"]'})
    result = suppress_lmi_vpc([vpc, other], ['aws_lambda_function.router'])
    assert (result[0].waived, result[0].suppression) == (LMI_VPC_REASON, "automatic")
    assert not result[0].blocks("low")
    assert result[1].waived is None
    by_key = suppress_lmi_vpc([other], ['aws_lambda_function.standard["b"]'])
    assert by_key[0].waived == LMI_VPC_REASON, "instance keys do not matter"


def test_the_config_key_reaches_the_gate(tmp_path: Path) -> None:
    from lmi_delivery.config import load
    from lmi_delivery.gates.evaluate import configured_severities

    source = Path(__file__).resolve().parents[3] / "examples" / "quickstart"
    config = tmp_path / "lmi-delivery.yml"
    config.write_text(
        (source / "lmi-delivery.yml").read_text(encoding="utf-8")
        + "gates:\n  security:\n    severities: {CKV_AWS_18: critical}\n", encoding="utf-8")
    import shutil

    shutil.copytree(source / "terraform", tmp_path / "terraform")
    assert configured_severities(load(config).gates.security) == {"CKV_AWS_18": "critical"}
