"""``gates security`` and ``gates validate``: exit codes, formats, bad input, and a canary:
secret values of the plan never appear in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gates_helpers import (
    AGENT_PLATFORM,
    PLANS,
    change,
    invoke,
    make_repo,
    plan_document,
    write_plan,
)

OPEN_SG = change("aws_security_group.web", {"ingress": [
    {"cidr_blocks": ["0.0.0.0/0"], "from_port": 22, "to_port": 22, "protocol": "tcp"}]})
TF = 'variable "environment" {\n  type = string\n}\n\nresource "aws_security_group" "web" {\n}\n'
NO_PATH = {"PATH": ""}


def test_blocking_findings_refuse_with_exit_3(tmp_path: Path) -> None:
    config = make_repo(tmp_path, tf=TF)
    plan = write_plan(tmp_path / "plan.json", plan_document([OPEN_SG]))
    code, out, err = invoke(["security", "--plan-json", str(plan), "--config", str(config)])
    assert code == 3
    assert out.splitlines()[0] == ("terraform/main.tf:5:1: HIGH SEC010 aws_security_group.web: "
                                   "allows inbound port 22/tcp from 0.0.0.0/0")
    assert "security: refused" in out
    assert "terraform/main.tf:5:1: HIGH SEC010" in err


def test_fail_on_critical_lets_a_high_finding_pass(tmp_path: Path) -> None:
    config = make_repo(tmp_path, "  security: {fail_on: critical}", tf=TF)
    plan = write_plan(tmp_path / "plan.json", plan_document([OPEN_SG]))
    code, out, _ = invoke(["security", "--plan-json", str(plan), "--config", str(config)])
    assert code == 0
    assert "security: passed: 1 finding(s), 0 blocking (fail_on: critical), 0 waived" in out


def test_waivers_through_the_config_valid_and_expired(tmp_path: Path) -> None:
    gates = ("  security:\n    waivers:\n"
             "      - {rule: SEC010, address: aws_security_group.web, reason: bastion,"
             " expires: '2099-12-31'}\n"
             "      - {rule: SEC001, address: aws_iam_policy.old, reason: gone,"
             " expires: '2001-01-01'}\n")
    config = make_repo(tmp_path, gates, tf=TF)
    plan = write_plan(tmp_path / "plan.json", plan_document([OPEN_SG]))
    code, out, _ = invoke(["security", "--plan-json", str(plan), "--config", str(config),
                           "--format", "json"])
    assert code == 0
    report = json.loads(out)
    assert report["passed"] is True
    found = {f["rule"]: f for f in report["findings"]}
    assert found["SEC010"]["waived"] == "bastion"
    assert found["SEC010"]["blocking"] is False
    assert found["GATE002"]["severity"] == "low"
    assert found["GATE002"]["location"]["file"] == "lmi-delivery.yml"
    assert report["counts"]["waived"] == 1


def test_sarif_output_to_a_file_is_written_before_the_refusal(tmp_path: Path) -> None:
    config = make_repo(tmp_path, tf=TF)
    plan = write_plan(tmp_path / "plan.json", plan_document([OPEN_SG]))
    out_file = tmp_path / "security.sarif"
    code, out, _ = invoke(["security", "--plan-json", str(plan), "--config", str(config),
                           "--format", "sarif", "--output", str(out_file)])
    assert code == 3
    assert out == ""
    sarif = json.loads(out_file.read_text())
    result = sarif["runs"][0]["results"][0]
    assert result["ruleId"] == "SEC010"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "terraform/main.tf"


@pytest.mark.parametrize(("content", "message"), [
    ('{"format_version": "1.2",\n  "resource_changes": [}', "plan.json:2:24: malformed plan JSON"),
    ("[]", "plan.json:1:1: a plan JSON document must be an object"),
    ('{"format_version": "0.1"}', "plan.json: has no `planned_values` or `resource_changes` "
     "(its keys: format_version): not `terraform show -json PLANFILE` output"),
])
def test_malformed_plan_json_is_bad_input(tmp_path: Path, content: str, message: str) -> None:
    config = make_repo(tmp_path)
    plan = tmp_path / "plan.json"
    plan.write_text(content)
    for gate in ("security", "validate"):
        code, _, err = invoke([gate, "--plan-json", str(plan), "--config", str(config)])
        assert code == 2
        assert message in err


def test_missing_plan_json_is_bad_input(tmp_path: Path) -> None:
    config = make_repo(tmp_path)
    code, _, err = invoke(["validate", "--plan-json", str(tmp_path / "nope.json"),
                           "--config", str(config)])
    assert code == 2
    assert "nope.json: no such file" in err


def test_unknown_environment_is_bad_input(tmp_path: Path) -> None:
    config = make_repo(tmp_path)
    plan = write_plan(tmp_path / "plan.json", plan_document([]))
    code, _, err = invoke(["validate", "--plan-json", str(plan), "--config", str(config),
                           "--env", "staging"])
    assert code == 2
    assert "unknown environment 'staging'" in err


def test_validate_refuses_any_lmi_finding(tmp_path: Path) -> None:
    config = make_repo(tmp_path)
    code, out, err = invoke(["validate", "--plan-json",
                             str(PLANS / "lmi" / "positive" / "memory-size.json"),
                             "--config", str(config)])
    assert code == 3
    assert "HIGH LMI003 aws_lambda_function.router: memory_size is 1024 MB" in out
    assert "the validate gate refused: 1 finding(s)" in err
    clean = PLANS / "lmi" / "negative" / "seed-platform.json"
    code, out, _ = invoke(["validate", "--plan-json", str(clean), "--config", str(config)])
    assert code == 0
    assert "validate: passed: 0 finding(s)" in out


def test_agent_platform_passes_both_gates_with_its_findings_reported() -> None:
    plan = PLANS / "security" / "positive" / "default-vpc.json"
    config = AGENT_PLATFORM / "lmi-delivery.yml"
    code, out, _ = invoke(["security", "--plan-json", str(plan), "--config", str(config),
                           "--env", "dev"], env=NO_PATH)
    assert code == 0, out
    lines = out.splitlines()
    assert "terraform/capacity_provider.tf:1:1: MEDIUM SEC020 aws_lambda_capacity_provider." \
        "shared: is placed in the default VPC (through data.aws_subnets.default)" in lines
    assert any(line.startswith("lmi-delivery.yml:") and "MEDIUM GATE001 scanner.checkov: "
               "scanner checkov configured but not installed" in line for line in lines)
    code, out, _ = invoke(["validate", "--plan-json",
                           str(PLANS / "lmi" / "negative" / "seed-platform.json"),
                           "--config", str(config), "--env", "dev", "--format", "json"])
    assert code == 0
    assert json.loads(out)["passed"] is True


CANARIES = ("canary-Pa55w0rd-do-not-print", "canary-sk-live-0001",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARYKEY1", "MIIEcanary", "CANARY")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_secret_values_never_reach_any_output(tmp_path: Path, fmt: str) -> None:
    config = make_repo(tmp_path)
    for name in ("lambda-secret-name", "lambda-secret-value"):
        plan = PLANS / "security" / "positive" / f"{name}.json"
        code, out, err = invoke(["security", "--plan-json", str(plan), "--config",
                                 str(config), "--format", fmt])
        assert code == 3
        assert "SEC03" in out
        for canary in CANARIES:
            assert canary not in out
            assert canary not in err


SHAPES = PLANS / "shapes"
REFUSED = {
    "state": "state.json: is a Terraform state (`terraform show -json` of a state, or run "
             "without a plan file): it has `values` but no `planned_values` or "
             "`resource_changes`",
    "provider-schemas": "provider-schemas.json: is `terraform providers schema -json` output",
    "binary-plan": "binary-plan.json: is a binary plan file (a zip archive), not its JSON",
    "resource-changes-null": "resource-changes-null.json: resource_changes[0] is null, where "
                             "Terraform writes an object (resource change)",
    "change-string": "change-string.json: resource_changes[0].change is a string, where "
                     "Terraform writes an object (the change)",
    "actions-string": "actions-string.json: resource_changes[0].change.actions is a string, "
                      "where Terraform writes a list of actions",
    "after-string": "after-string.json: resource_changes[0].change.after is a string, where "
                    "Terraform writes an object",
    "memory-size-string": "memory-size-string.json: resource_changes[0].change.after."
                          "memory_size is a string, where Terraform writes a number",
    "cidr-blocks-string": "cidr-blocks-string.json: resource_changes[1].change.after."
                          "ingress[0].cidr_blocks is a string, where Terraform writes a list "
                          "of strings",
    "format-2.0": "format-2.0.json: plan format_version 2.0 is newer than this lmi-delivery "
                  "reads (0.1, 0.2 and 1.x)",
    "no-format-version": "no-format-version.json: has no format_version",
    "text-after": "text-after.json:2:1: malformed plan JSON: Extra data after the JSON document",
    "text-before": "text-before.json:1:1: malformed plan JSON: text before the JSON document",
    "empty": "empty.json:1:1: is empty",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_is_not_a_plan_is_refused_with_the_reason(tmp_path: Path, name: str) -> None:
    """Exit 2 with a precise reason, never an internal error and never a silent pass."""
    config = make_repo(tmp_path)
    plan = SHAPES / "refused" / f"{name}.json"
    for gate in ("security", "validate"):
        for fmt in ("text", "json", "sarif"):
            code, out, err = invoke([gate, "--plan-json", str(plan), "--config", str(config),
                                     "--format", fmt])
            assert (code, out) == (2, "")
            assert REFUSED[name] in err
    assert sorted(p.stem for p in (SHAPES / "refused").iterdir()) == sorted(REFUSED)


@pytest.mark.parametrize("path", sorted((SHAPES / "read").iterdir()), ids=lambda p: p.stem)
def test_what_terraform_and_its_wrappers_write_is_read(tmp_path: Path, path: Path) -> None:
    """Formats 0.1 and 0.2, UTF-16 and UTF-8 with byte-order marks, setup-terraform's wrapper."""
    from lmi_delivery.config.model import SecurityGate
    from lmi_delivery.gates import security
    from lmi_delivery.gates.plan_load import load

    plan = load(path)
    expected = plan.data["//expect"]
    assert sorted(f"{f.rule_id} {f.address}"
                  for f in security.check(plan, SecurityGate())) == expected
    config = make_repo(tmp_path)
    code, out, err = invoke(["security", "--plan-json", str(path), "--config", str(config),
                             "--format", "json"], env=NO_PATH)
    assert code == 3, err
    assert sorted(f"{f['rule']} {f['address']}" for f in json.loads(out)["findings"]) == \
        expected
    code, _, _ = invoke(["validate", "--plan-json", str(path), "--config", str(config)])
    assert code == 0


def test_two_open_ports_of_one_group_are_two_sarif_results(tmp_path: Path) -> None:
    config = make_repo(tmp_path)
    plan = PLANS / "security" / "positive" / "sg-two-open-ports.json"
    code, out, _ = invoke(["security", "--plan-json", str(plan), "--config", str(config),
                           "--format", "sarif"])
    assert code == 3
    results = json.loads(out)["runs"][0]["results"]
    assert [r["message"]["text"] for r in results] == [
        "module.edge.aws_security_group.web[0]: allows inbound port 22/tcp from 0.0.0.0/0",
        "module.edge.aws_security_group.web[0]: allows inbound port 443/tcp from 0.0.0.0/0"]
    prints = {json.dumps(r["partialFingerprints"]) for r in results}
    assert len(prints) == 2
