"""The SARIF the commands really write, checked against the bundled SARIF 2.1.0 schema.

``gates security`` and ``gates validate`` over every plan fixture (as ``examples/agent-platform``
configures them, with checkov missing, and with the recorded output of checkov 3.3.30 standing
in for it, and with waivers), and ``doctor`` over the repository with every anti-pattern and over
the examples. Each document must be valid and must say what the command's JSON says: as many
results as findings, with their rules and levels, so a writer that broke the format or dropped
results fails here.
"""

from __future__ import annotations

import json
import shutil
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from lmi_delivery.cli.commands.doctor import doctor_command
from lmi_delivery.cli.commands.gates import gates_group
from lmi_delivery.doctor import RULES as DOCTOR_RULES
from lmi_delivery.errors import LmiError
from lmi_delivery.findings import LEVELS, schema_errors
from lmi_delivery.gates.rules import RULES as GATE_RULES

REPO = Path(__file__).resolve().parents[3]
PLANS = REPO / "tests" / "data" / "plans"
AGENT_PLATFORM = REPO / "examples" / "agent-platform"
RECORDED_CHECKOV = REPO / "tests" / "unit" / "gates" / "samples" / "checkov-agent-platform.json"
BAD_REPO = REPO / "tests" / "data" / "doctor" / "bad-repo"
PLAN_FIXTURES = sorted([*PLANS.glob("security/*/*.json"), *PLANS.glob("lmi/*/*.json"),
                        *PLANS.glob("ownership/*/*.json"), *PLANS.glob("shapes/read/*.json")])
WAIVERS = """\
    waivers:
      - {rule: SEC020, address: aws_lambda_capacity_provider.shared, reason: shared VPC,
         expires: '2099-12-31'}
      - {rule: SEC001, address: aws_iam_policy.old, reason: gone, expires: '2001-01-01'}
"""


def _run(command: click.Command, args: Sequence[str], path: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(command, list(args), env={"PATH": path},
                                standalone_mode=False)
    error = result.exception
    if isinstance(error, LmiError):
        return error.exit_code, result.stdout
    if error is not None and not isinstance(error, SystemExit):
        raise error
    code = result.return_value if isinstance(result.return_value, int) else result.exit_code
    return code, result.stdout


def _gate(gate: str, plan: Path, config: Path, fmt: str, path: str = "") -> tuple[int, str]:
    return _run(gates_group, [gate, "--plan-json", str(plan), "--config", str(config),
                              "--env", "dev", "--format", fmt], path)


def _check(sarif_text: str, report: list[dict[str, Any]], tool: str) -> dict[str, Any]:
    """The document is valid SARIF and has one result per finding of the JSON report."""
    sarif: dict[str, Any] = json.loads(sarif_text)
    assert schema_errors(sarif) == []
    [run] = sarif["runs"]
    assert run["tool"]["driver"]["name"] == tool
    results = run["results"]
    assert [r["ruleId"] for r in results] == [f["rule"] for f in report]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] for r in results)
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
               for r in results)
    return sarif


def _gate_sarif(gate: str, plan: Path, config: Path, path: str = "") -> dict[str, Any]:
    code, sarif_text = _gate(gate, plan, config, "sarif", path)
    json_code, json_text = _gate(gate, plan, config, "json", path)
    assert code == json_code
    assert code in (0, 3)
    findings = json.loads(json_text)["findings"]
    sarif = _check(sarif_text, findings, "lmi-delivery")
    for result, finding in zip(sarif["runs"][0]["results"], findings, strict=True):
        assert result["properties"]["severity"] == finding["severity"]
        level = "note" if finding.get("advisory") else LEVELS[finding["severity"]]
        assert result["level"] == level
        assert ("suppressions" in result) == ("waived" in finding)
    return sarif


def _fake_checkov(bin_dir: Path) -> str:
    bin_dir.mkdir()
    fake = bin_dir / "checkov"
    fake.write_text(f"#!{sys.executable}\nimport sys\n"
                    f"sys.stdout.write(open({str(RECORDED_CHECKOV)!r}).read())\nsys.exit(1)\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return str(bin_dir)


@pytest.mark.parametrize("plan", PLAN_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_both_gates_write_valid_sarif_for_every_plan_fixture(plan: Path) -> None:
    config = AGENT_PLATFORM / "lmi-delivery.yml"
    security = _gate_sarif("security", plan, config)
    _gate_sarif("validate", plan, config)
    missing = [r for r in security["runs"][0]["results"] if r["ruleId"] == "GATE001"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in missing] == ["lmi-delivery.yml"], "checkov is not on PATH here"


def test_the_fixtures_reach_every_kind_of_result() -> None:
    """What the fixture runs above cover: most rules, every level, advisory findings."""
    config = AGENT_PLATFORM / "lmi-delivery.yml"
    results = [r for plan in PLAN_FIXTURES for gate in ("security", "validate")
               for r in _gate_sarif(gate, plan, config)["runs"][0]["results"]]
    reached = {r["ruleId"] for r in results}
    assert set(GATE_RULES) - reached == {"GATE002", "SEC032", "SEC040"}, "need configuration"
    assert {r["level"] for r in results} == {"error", "warning", "note"}
    assert any(r["properties"].get("advisory") for r in results)
    assert len({r["partialFingerprints"]["lmiDelivery/ruleAddressKey/v2"] for r in results
                if r["ruleId"] == "SEC010"}) > 1


def test_security_sarif_with_checkov_findings_and_waivers(tmp_path: Path) -> None:
    repo = tmp_path / "agent-platform"
    shutil.copytree(AGENT_PLATFORM, repo)
    config = repo / "lmi-delivery.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("    scanners: [checkov]\n",
                                   "    scanners: [checkov]\n" + WAIVERS), encoding="utf-8")
    path = _fake_checkov(tmp_path / "bin")
    sarif = _gate_sarif("security", PLANS / "security" / "positive" / "agent-platform.json",
                        config, path)
    run = sarif["runs"][0]
    by = {s["properties"]["by"] for r in run["results"] for s in r.get("suppressions", [])}
    assert by == {"waiver", "automatic"}
    assert "GATE002" in {r["ruleId"] for r in run["results"]}
    checkov = [r for r in run["tool"]["driver"]["rules"] if r["id"].startswith("CKV")]
    assert len(checkov) == 10
    assert all(r["properties"]["tags"] == ["security", "checkov"] for r in checkov)
    assert all(r["shortDescription"]["text"] != r["id"] for r in checkov), "checkov's names"


def _doctor(config: Path, fmt: str) -> tuple[int, str]:
    return _run(doctor_command, ["--config", str(config), "--format", fmt])


def test_doctor_writes_valid_sarif_for_every_rule() -> None:
    config = BAD_REPO / "lmi-delivery.yml"
    code, sarif_text = _doctor(config, "sarif")
    assert code == 3
    rows = json.loads(_doctor(config, "json")[1])["findings"]
    sarif = _check(sarif_text, rows, "lmi-delivery doctor")
    run = sarif["runs"][0]
    # Every rule a repository can break (LMD013-LMD016 judge a deployed plane: doctor --aws).
    deployed = {"LMD013", "LMD014", "LMD015", "LMD016"}
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == set(DOCTOR_RULES) - deployed
    assert [r["level"] for r in run["results"]] == [row["severity"] for row in rows]
    assert {r["level"] for r in run["results"]} == {"error", "warning"}
    for result, row in zip(run["results"], rows, strict=True):
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == row["file"]
        assert physical["region"]["startLine"] == max(row["line"], 1)
        assert result["message"]["text"] == row["message"]


@pytest.mark.parametrize("example", ["agent-platform", "quickstart"])
def test_doctor_sarif_of_a_clean_example_is_valid_and_empty(example: str) -> None:
    code, sarif_text = _doctor(REPO / "examples" / example / "lmi-delivery.yml", "sarif")
    assert code == 0
    sarif = _check(sarif_text, [], "lmi-delivery doctor")
    assert sarif["runs"][0]["tool"]["driver"]["rules"] == []


def test_a_broken_real_document_is_caught() -> None:
    """The check bites on the real output too, not only on hand-made documents."""
    sarif = json.loads(_doctor(BAD_REPO / "lmi-delivery.yml", "sarif")[1])
    sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] = {
        "startLine": "4"}
    assert schema_errors(sarif) == [
        "$.runs[0].results[0].locations[0].physicalLocation.region.startLine: "
        "'4' is not of type 'integer'"]
