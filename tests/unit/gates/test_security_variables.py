"""SEC032: a ``codebuild.secrets`` entry ``TF_VAR_<name>`` needs ``variable "<name>"`` to be
sensitive. The plan's configuration says so; the ``*.tf`` files only when the plan does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from gates_helpers import PLANS, invoke, load_fixture, make_repo, plan_document, write_plan

from lmi_delivery.config.model import SecurityGate
from lmi_delivery.gates import security
from lmi_delivery.gates.plan_json import Plan
from lmi_delivery.gates.sources import SourceIndex

SECRETS = ("TF_VAR_api_token", "DEPLOY_DB_PASSWORD")
PLAIN_TF = """\
variable "region" {
  type = string
}

variable "api_token" {
  type = string
  validation {
    condition     = length(var.api_token) > 8
    error_message = "too short: {}"
  }
}
"""
SENSITIVE_TF = PLAIN_TF.replace("  type = string\n  validation",
                                "  type      = string\n  sensitive = true # never printed\n"
                                "  validation")


def check(root: Path, plan: Plan, secrets: tuple[str, ...] = SECRETS) -> list[str]:
    found = security.check(plan, SecurityGate(), SourceIndex(root / "terraform", root, plan),
                           secrets=secrets)
    return [f"{f.rule_id} {f.address} {f.location}" for f in found if f.rule_id == "SEC032"]


@pytest.mark.parametrize(("tf", "expected"), [
    (PLAIN_TF, ["SEC032 var.api_token terraform/main.tf:5:1"]),
    (SENSITIVE_TF, []),
    ('variable "api_token" { sensitive = true }\n', []),
    ('variable "other" {\n  sensitive = true\n}\n', []),
], ids=["not sensitive", "sensitive", "one line", "not declared"])
def test_without_the_plan_saying_the_tf_files_decide(tmp_path: Path, tf: str,
                                                    expected: list[str]) -> None:
    make_repo(tmp_path, tf=tf)
    assert check(tmp_path, Plan(plan_document([]))) == expected


def test_the_plan_wins_over_the_tf_files_and_the_finding_points_at_them(tmp_path: Path) -> None:
    make_repo(tmp_path, tf=SENSITIVE_TF)  # stale sources: the plan is what Terraform evaluated
    plan, _ = load_fixture(PLANS / "security" / "positive" / "build-secret-not-sensitive.json")
    assert check(tmp_path, plan) == ["SEC032 var.api_token terraform/main.tf:5:1"]
    make_repo(tmp_path, tf=PLAIN_TF)
    plan, _ = load_fixture(PLANS / "security" / "negative" / "build-secret-sensitive.json")
    assert check(tmp_path, plan) == []


def test_the_finding_names_the_secret_never_its_value() -> None:
    plan, data = load_fixture(PLANS / "security" / "positive" / "build-secret-not-sensitive.json")
    [found] = [f for f in security.check(plan, SecurityGate(), secrets=data["//secrets"])
               if f.rule_id == "SEC032"]
    assert found.severity == "high"
    assert found.location is None
    assert "TF_VAR_api_token" in found.message
    assert "example-token-value" not in found.message


def test_only_tf_var_secrets_are_checked(tmp_path: Path) -> None:
    make_repo(tmp_path, tf=PLAIN_TF)
    assert check(tmp_path, Plan(plan_document([])), ("API_TOKEN", "TF_VAR_")) == []


def test_the_security_command_refuses_a_plain_variable_secret(tmp_path: Path) -> None:
    config = make_repo(tmp_path, tf=PLAIN_TF)
    text = config.read_text().replace(
        "  artifacts: s3://shop-artifacts/plans\n",
        "  artifacts: s3://shop-artifacts/plans\n  secrets:\n"
        '    TF_VAR_api_token: "ssm:/shop/{env}/api-token"\n')
    config.write_text(text)
    plan = write_plan(tmp_path / "plan.json", plan_document([]))
    code, out, _ = invoke(["security", "--plan-json", str(plan), "--config", str(config)],
                          env={"PATH": ""})
    assert code == 3, out
    assert "terraform/main.tf:5:1: HIGH SEC032 var.api_token" in out
