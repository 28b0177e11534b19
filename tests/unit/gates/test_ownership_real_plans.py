"""One owner per knob on real plans: the embedded Terraform 1.12.2 plans each knob's second owner.

Each case is a repository with the agent-platform's ``lmi-delivery.yml`` and a Terraform root
in its shape (names from locals and the environment's tfvars, the alias from the function's
version); the AWS provider is :mod:`aws_stand_in`. The security gate reads ``terraform show
-json`` of the plan; doctor reads the same ``.tf`` files. Both must name the same resources.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import aws_stand_in
import pytest
from gates_helpers import AGENT_PLATFORM, invoke

from lmi_delivery.config import load
from lmi_delivery.doctor import diagnose
from lmi_delivery.gates import ownership
from lmi_delivery.gates.plan_json import Plan
from lmi_delivery.gates.sources import SourceIndex

pytestmark = pytest.mark.xdist_group("stand-in-aws")

MAIN = """\
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "environment" {
  type = string
}

locals {
  router_name = "agent-core-${var.environment}-clm-router"
}

resource "aws_lambda_function" "router" {
  function_name = local.router_name
  runtime       = "python3.13"
  handler       = "handler.handler"
  memory_size   = 2048
  publish       = true
  publish_to    = "LATEST_PUBLISHED"
}
"""
ALIAS = """\
resource "aws_lambda_alias" "router_live" {
  name             = "live"
  function_name    = aws_lambda_function.router.function_name
  function_version = aws_lambda_function.router.version
%s}
"""
ONE_OWNER = "\n  lifecycle {\n    ignore_changes = [function_version, routing_config]\n  }\n"
SCALING = """\
resource "aws_lambda_function_scaling_config" "router" {
  function_name = aws_lambda_function.router.arn
  qualifier     = "$LATEST.PUBLISHED"

  function_scaling_config = [{
    min_execution_environments = 3
    max_execution_environments = 12
  }]
}
"""
#: examples/agent-platform/terraform/warm.tf before the fix.
WARM = """\
resource "aws_cloudwatch_event_rule" "router_warm" {
  name                = "${local.router_name}-warm"
  description         = "Warm-up invocations of ${local.router_name}:live"
  schedule_expression = "rate(5 minutes)"
}

resource "aws_cloudwatch_event_target" "router_warm" {
  rule  = aws_cloudwatch_event_rule.router_warm.name
  arn   = aws_lambda_alias.router_live.arn
  input = jsonencode({ "lmi-delivery-warm" = true })
}

resource "aws_lambda_permission" "router_warm" {
  statement_id  = "AllowWarmUpFromEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.router.function_name
  qualifier     = aws_lambda_alias.router_live.name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.router_warm.arn
}
"""


@pytest.fixture(scope="module")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return aws_stand_in.install(tmp_path_factory.mktemp("stand-in"))


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    (repo / "terraform" / "env").mkdir(parents=True)
    shutil.copy(AGENT_PLATFORM / "lmi-delivery.yml", repo / "lmi-delivery.yml")
    for env in ("dev", "qa", "prod"):
        (repo / "terraform" / "env" / f"{env}.tfvars").write_text(
            f'environment = "{env}"\n', encoding="utf-8")
    for name, text in {"main.tf": MAIN, **files}.items():
        (repo / "terraform" / name).write_text(text, encoding="utf-8")
    return repo


def _gate(repo: Path, env: dict[str, str]) -> tuple[list[Any], dict[str, Any]]:
    document = aws_stand_in.plan(repo / "terraform", env, "-var-file=env/dev.tfvars")
    plan = Plan(document, "plan.json")
    config = load(repo / "lmi-delivery.yml")
    found = ownership.check(plan, config, "dev",
                            SourceIndex(repo / "terraform", repo, plan))
    return found, document


def _key(repo: Path, *path: str) -> str:
    """``lmi-delivery.yml:LINE:COL`` of ``functions.clm-router.<path>``."""
    where = load(repo / "lmi-delivery.yml").location("functions", "clm-router", *path)
    return f"lmi-delivery.yml:{where.line}:{where.column}"


def _places(found: list[Any]) -> list[tuple[str, str, str]]:
    return sorted((f.rule_id, f.address, str(f.location)) for f in found)


def _doctor(repo: Path) -> list[tuple[str, str]]:
    findings = diagnose(load(repo / "lmi-delivery.yml"))
    return sorted((f.rule_id, f"{Path(f.location.file).relative_to(repo)}:{f.location.line}")
                  for f in findings if f.rule_id == "LMD012")


def test_the_fixed_example_s_shape_has_one_owner_per_knob(
        tmp_path: Path, terraform_env: dict[str, str]) -> None:
    repo = _repo(tmp_path, {"alias.tf": ALIAS % ONE_OWNER})
    found, document = _gate(repo, terraform_env)
    assert {r["type"] for r in document["resource_changes"]} == {"aws_lambda_function",
                                                                 "aws_lambda_alias"}
    assert found == []
    assert _doctor(repo) == []


def test_a_scaling_config_in_terraform_too(tmp_path: Path,
                                           terraform_env: dict[str, str]) -> None:
    repo = _repo(tmp_path, {"alias.tf": ALIAS % ONE_OWNER, "scaling.tf": SCALING})
    found, document = _gate(repo, terraform_env)
    [change] = [r for r in document["resource_changes"]
                if r["type"] == "aws_lambda_function_scaling_config"]
    assert change["change"]["after_unknown"]["function_name"] is True, \
        "the function's ARN is known only after the apply: the gate follows the reference"
    assert _places(found) == [("OWN001", "aws_lambda_function_scaling_config.router",
                               "terraform/scaling.tf:1:1")]
    assert f"{_key(repo, 'scaling')} functions.clm-router.scaling" in found[0].message
    assert _doctor(repo) == [("LMD012", "terraform/scaling.tf:1")]


def test_the_old_example_s_warm_up_rule_and_target(tmp_path: Path,
                                                   terraform_env: dict[str, str]) -> None:
    repo = _repo(tmp_path, {"alias.tf": ALIAS % ONE_OWNER, "warm.tf": WARM})
    found, _ = _gate(repo, terraform_env)
    assert _places(found) == [
        ("OWN002", "aws_cloudwatch_event_rule.router_warm", "terraform/warm.tf:1:1"),
        ("OWN002", "aws_cloudwatch_event_target.router_warm", "terraform/warm.tf:7:1"),
    ]
    where = _key(repo, "warm", "schedule")
    assert all(f"{where} functions.clm-router.warm.schedule" in f.message for f in found)
    assert _doctor(repo) == [("LMD012", "terraform/warm.tf:1"), ("LMD012", "terraform/warm.tf:7")]


@pytest.mark.parametrize("lifecycle", [
    "", "\n  lifecycle {\n    ignore_changes = [routing_config]\n  }\n"])
def test_an_alias_whose_version_terraform_manages(tmp_path: Path, terraform_env: dict[str, str],
                                                  lifecycle: str) -> None:
    repo = _repo(tmp_path, {"alias.tf": ALIAS % lifecycle})
    found, _ = _gate(repo, terraform_env)
    assert _places(found) == [("OWN003", "aws_lambda_alias.router_live",
                               "terraform/alias.tf:1:1")]
    assert "does not list function_version" in found[0].message
    assert _doctor(repo) == [("LMD012", "terraform/alias.tf:1")]


def test_the_security_gate_refuses_the_real_plan_naming_both_places(
        tmp_path: Path, terraform_env: dict[str, str]) -> None:
    repo = _repo(tmp_path, {"alias.tf": ALIAS % ONE_OWNER, "scaling.tf": SCALING})
    _, document = _gate(repo, terraform_env)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(document), encoding="utf-8")
    code, _, err = invoke(["security", "--plan-json", str(plan), "--config",
                           str(repo / "lmi-delivery.yml"), "--env", "dev"], env={"PATH": ""})
    assert code == 3
    assert ("terraform/scaling.tf:1:1: HIGH OWN001 aws_lambda_function_scaling_config.router: "
            "Terraform sets the scaling config of agent-core-dev-clm-router") in err
    assert f"{_key(repo, 'scaling')} functions.clm-router.scaling" in err
