"""One owner per knob on the plan (OWN001-OWN003), with examples/agent-platform's configuration.

The fixtures in tests/data/plans/ownership are plans of the agent-platform's names (the AWS
provider cannot be downloaded here, so they are written in ``terraform show -json`` 1.2's
shape); each lists the findings it expects in ``//expect``. The alias's lifecycle is not in
plan JSON, so the cases that turn on it read ``.tf`` files written per test.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from gates_helpers import (
    AGENT_PLATFORM,
    PLANS,
    change,
    fixture_id,
    invoke,
    keys,
    load_fixture,
    plan_document,
    write_plan,
)

from lmi_delivery.config import load
from lmi_delivery.config.model import Config
from lmi_delivery.gates import ownership
from lmi_delivery.gates.plan_json import Plan
from lmi_delivery.gates.rules import RULES
from lmi_delivery.gates.sources import SourceIndex

FIXTURES = sorted((PLANS / "ownership").glob("*/*.json"))
CONFIG = AGENT_PLATFORM / "lmi-delivery.yml"
ROUTER = "agent-core-dev-clm-router"
#: examples/agent-platform/terraform/warm.tf as it was: the rule post-deploy manages too.
OLD_WARM_TF = """\
# Recurring warm-up: primes each execution environment's runtime. On managed instances the
# minimum execution environments (scaling.min, set after deploy) is what keeps capacity warm.
resource "aws_cloudwatch_event_rule" "router_warm" {
  name                = "${local.router_name}-warm"
  description         = "Warm-up invocations of ${local.router_name}:${local.router_alias}"
  schedule_expression = var.warm_schedule
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
ALIAS = change("aws_lambda_alias.router_live", {"name": "live", "function_name": ROUTER})


def _config() -> Config:
    return load(CONFIG)


def _check(plan: Plan, root: Path = AGENT_PLATFORM, config: Config | None = None,
           ) -> list[Any]:
    config = config or _config()
    sources = SourceIndex(root / "terraform", root, plan)
    return ownership.check(plan, config, "dev", sources)


@pytest.mark.parametrize("path", FIXTURES, ids=fixture_id)
def test_fixture_yields_exactly_its_expected_findings(path: Path) -> None:
    plan, data = load_fixture(path)
    assert keys(_check(plan)) == sorted(data["//expect"])
    assert bool(data["//expect"]) == (path.parent.name == "positive")


def test_every_knob_has_a_positive_and_a_negative_fixture() -> None:
    positive = {e.split()[0] for p in FIXTURES if p.parent.name == "positive"
                for e in load_fixture(p)[1]["//expect"]}
    negative = {r for p in FIXTURES if p.parent.name == "negative"
                for r in load_fixture(p)[1]["//covers"]}
    own = {r for r in RULES if r.startswith("OWN")}
    assert positive == negative == own == {"OWN001", "OWN002", "OWN003"}


def test_each_finding_names_both_places_and_refuses() -> None:
    plan, _ = load_fixture(PLANS / "ownership" / "positive" / "scaling-config.json")
    config = _config()
    scaling = config.location("functions", "clm-router", "scaling")
    found = _check(plan)
    assert {f.severity for f in found} == {"high"}
    for item in found:
        assert item.address.startswith("aws_lambda_function_scaling_config.")
        assert f"lmi-delivery.yml:{scaling.line}:{scaling.column} " \
               "functions.clm-router.scaling" in item.message
        assert ROUTER in item.message
        assert not item.advisory


def test_the_old_agent_platform_fires_on_its_warm_up_rule_and_target(tmp_path: Path) -> None:
    """The example before the fix: warm.tf in Terraform and warm.schedule in the config."""
    repo = tmp_path / "agent-platform"
    shutil.copytree(AGENT_PLATFORM, repo)
    (repo / "terraform" / "warm.tf").write_text(OLD_WARM_TF, encoding="utf-8")
    plan, _ = load_fixture(PLANS / "ownership" / "positive" / "warm-rule.json")
    found = {f.address: f for f in _check(plan, repo, load(repo / "lmi-delivery.yml"))}
    rule = found["aws_cloudwatch_event_rule.router_warm"]
    target = found["aws_cloudwatch_event_target.router_warm"]
    assert (str(rule.location), str(target.location)) == ("terraform/warm.tf:3:1",
                                                          "terraform/warm.tf:9:1")
    schedule_key = _config().location("functions", "clm-router", "warm", "schedule")
    for item in (rule, target):
        assert f"lmi-delivery.yml:{schedule_key.line}:{schedule_key.column} " \
               "functions.clm-router.warm.schedule" in item.message
        assert "every warm-up fires twice" in item.message


def test_the_fixed_agent_platform_plan_has_no_second_owner() -> None:
    plan, _ = load_fixture(PLANS / "security" / "positive" / "agent-platform.json")
    assert _check(plan) == []
    assert not (AGENT_PLATFORM / "terraform" / "warm.tf").exists()


def _alias_repo(tmp_path: Path, lifecycle: str) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(AGENT_PLATFORM, repo)
    (repo / "terraform" / "function.tf").write_text(
        'resource "aws_lambda_alias" "router_live" {\n'
        '  name          = "live"\n'
        f'  function_name = "{ROUTER}"\n'
        f"{lifecycle}"
        "}\n", encoding="utf-8")
    return repo


@pytest.mark.parametrize(("lifecycle", "missing"), [
    ("", "function_version and routing_config"),
    ("  lifecycle {\n    create_before_destroy = true\n  }\n",
     "function_version and routing_config"),
    ("  lifecycle {\n    ignore_changes = [function_version] # routing_config\n  }\n",
     "routing_config"),
    ('  lifecycle {\n    ignore_changes = [\n      tags["routing_config"],\n'
     "      routing_config,\n    ]\n  }\n", "function_version"),
])
def test_an_alias_whose_routing_terraform_manages(tmp_path: Path, lifecycle: str,
                                                  missing: str) -> None:
    repo = _alias_repo(tmp_path, lifecycle)
    [found] = _check(Plan(plan_document([ALIAS])), repo, load(repo / "lmi-delivery.yml"))
    assert (found.rule_id, str(found.location), found.advisory) == \
        ("OWN003", "terraform/function.tf:1:1", False)
    assert f"does not list {missing};" in found.message
    assert f"{ROUTER}:live" in found.message


@pytest.mark.parametrize("ignored", ["[function_version, routing_config]",
                                     "[routing_config, function_version, description]",
                                     "all"])
def test_an_alias_that_leaves_its_routing_to_post_deploy(tmp_path: Path, ignored: str) -> None:
    repo = _alias_repo(tmp_path, f"  lifecycle {{\n    ignore_changes = {ignored}\n  }}\n")
    assert _check(Plan(plan_document([ALIAS])), repo, load(repo / "lmi-delivery.yml")) == []


def _config_with(tmp_path: Path, old: str, new: str) -> Config:
    repo = tmp_path / "repo"
    shutil.copytree(AGENT_PLATFORM, repo)
    text = CONFIG.read_text(encoding="utf-8")
    assert old in text
    path = repo / "lmi-delivery.yml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return load(path)


def test_only_the_knobs_post_deploy_runs(tmp_path: Path) -> None:
    """Without the scale and warm steps, post-deploy sets neither: Terraform is the one owner."""
    config = _config_with(tmp_path, "  prune: {keep: 3}",
                          "  steps: [publish, alias, prune]\n  prune: {keep: 3}")
    for name in ("scaling-config", "warm-rule"):
        plan, _ = load_fixture(PLANS / "ownership" / "positive" / f"{name}.json")
        assert _check(plan, config=config) == []


def test_a_function_without_a_schedule_leaves_the_rule_to_terraform(tmp_path: Path) -> None:
    config = _config_with(tmp_path, ', schedule: "rate(5 minutes)"', "")
    plan, _ = load_fixture(PLANS / "ownership" / "positive" / "warm-rule.json")
    assert _check(plan, config=config) == []


def test_another_environment_s_names_do_not_match(tmp_path: Path) -> None:
    plan, _ = load_fixture(PLANS / "ownership" / "positive" / "scaling-config.json")
    config = _config()
    assert ownership.check(plan, config, "prod", SourceIndex(
        AGENT_PLATFORM / "terraform", AGENT_PLATFORM, plan)) == []
    assert len(ownership.check(plan, config, None)) == 2, "no environment: any of them"


def test_the_security_gate_refuses_and_a_waiver_accepts(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(AGENT_PLATFORM, repo)
    plan = write_plan(tmp_path / "plan.json",
                      load_fixture(PLANS / "ownership" / "positive" / "warm-rule.json")[1])
    args = ["security", "--plan-json", str(plan), "--config", str(repo / "lmi-delivery.yml"),
            "--env", "dev"]
    code, out, err = invoke(args, env={"PATH": ""})
    assert code == 3
    assert "4 finding(s) at or above high" in err
    assert "OWN002 aws_cloudwatch_event_rule.router_warm" in err
    config = repo / "lmi-delivery.yml"
    waivers = "".join(
        f"      - {{rule: OWN002, address: {a}, reason: moving the schedule to Terraform, "
        "expires: 2999-12-31}\n"
        for a in ("aws_cloudwatch_event_rule.router_warm",
                  "aws_cloudwatch_event_target.router_warm",
                  "aws_cloudwatch_event_target.by_rule_arn",
                  "aws_cloudwatch_event_target.nightly_warmup"))
    config.write_text(config.read_text(encoding="utf-8").replace(
        "    scanners: [checkov]\n", f"    scanners: [checkov]\n    waivers:\n{waivers}"),
        encoding="utf-8")
    code, out, err = invoke(args, env={"PATH": ""})
    assert code == 0, err
    assert out.count("waived: moving the schedule to Terraform") == 4
