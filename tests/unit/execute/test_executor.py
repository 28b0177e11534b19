"""The executor on the runner: steps in order, builds started as planned, verdicts read from
CodeBuild's record (never its log), the plan build's id and sha256 handed to the apply build.

CodeBuild is a recording fake here (the sandbox tests run the real thing): each project is told
how its builds end.
"""

from __future__ import annotations

import io
import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest

from lmi_delivery.codebuild import ConsoleLinks, TextReporter
from lmi_delivery.config import Config, load
from lmi_delivery.errors import GateRefused
from lmi_delivery.execute.executor import PlanBuild, RunServices, execute
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.prepare import plan_for
from lmi_delivery.plan.steps import AwaitApproval, DeliveryPlan

REPO = Path(__file__).resolve().parents[3]
SHA = "e" * 40
PLAN_SHA = "ab" * 32


class FakeCodeBuild:
    """``StartBuild`` and ``BatchGetBuilds``: every build ends at once, as ``endings`` says."""

    def __init__(self, endings: dict[str, tuple[str, dict[str, str]]] | None = None) -> None:
        self.endings = endings or {}
        self.started: list[dict[str, Any]] = []
        self.numbers = itertools.count(1)

    def start_build(self, **request: Any) -> dict[str, Any]:
        self.started.append(request)
        build_id = f"{request['projectName']}:{next(self.numbers):08d}"
        return {"build": {"id": build_id, "projectName": request["projectName"],
                          "buildStatus": "IN_PROGRESS"}}

    def batch_get_builds(self, ids: list[str]) -> dict[str, Any]:
        builds = []
        for build_id in ids:
            project = build_id.partition(":")[0]
            status, exported = self.endings.get(project, ("SUCCEEDED", {}))
            builds.append({"id": build_id, "projectName": project, "buildStatus": status,
                           "currentPhase": "COMPLETED", "phases": [],
                           "exportedEnvironmentVariables": [
                               {"name": k, "value": v} for k, v in exported.items()]})
        return {"builds": builds}

    def variables(self, index: int) -> dict[str, str]:
        return {v["name"]: v["value"]
                for v in self.started[index].get("environmentVariablesOverride", [])}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("repo") / "quickstart"
    shutil.copytree(REPO / "examples" / "quickstart", root)
    return load(root / "lmi-delivery.yml")


def push_plan(config: Config, env: str = "dev") -> DeliveryPlan:
    environment = config.environment(env)
    context = CiContext("local", "push", ref=f"refs/heads/{environment.branch}", sha=SHA)
    return plan_for(config, environment, context, None)


def services(codebuild: FakeCodeBuild, **kwargs: Any) -> RunServices:
    settings: dict[str, Any] = {"approve": lambda step: None, "check_setup": list, **kwargs}
    return RunServices(codebuild=codebuild, logs=None, reporter=TextReporter(io.StringIO()),
                       links=ConsoleLinks("us-east-1"), poll_interval=0.01, **settings)


DEPLOY_PLAN = {"LMI_VERDICT": "succeeded", "LMI_PLAN_KIND": "deploy",
               "LMI_PLAN_SHA256": PLAN_SHA}


def test_a_push_starts_the_planned_builds_in_order_and_binds_the_apply(config: Config) -> None:
    codebuild = FakeCodeBuild({"quickstart-dev-tf-plan": ("SUCCEEDED", DEPLOY_PLAN)})
    execution = execute(push_plan(config), services(codebuild))
    assert execution.error is None
    assert [s["projectName"] for s in codebuild.started] == [
        "quickstart-dev-tf-plan", "quickstart-dev-tf-apply", "quickstart-dev-post-deploy"]
    assert {s["sourceVersion"] for s in codebuild.started} == {SHA}
    apply = codebuild.variables(1)
    assert apply["LMI_PLAN_BUILD_ID"] == "quickstart-dev-tf-plan:00000001"
    assert apply["LMI_PLAN_SHA256"] == PLAN_SHA
    assert "LMI_PLAN_SHA256" not in codebuild.variables(2)
    assert [execution.report.results[s].outcome for s in
            ("security", "validate", "plan", "apply", "post-deploy")] == ["succeeded"] * 5


def test_no_deploy_plan_means_no_apply_build(config: Config) -> None:
    review = {"LMI_VERDICT": "succeeded", "LMI_PLAN_KIND": "review", "LMI_PLAN_SHA256": PLAN_SHA}
    codebuild = FakeCodeBuild({"quickstart-dev-tf-plan": ("SUCCEEDED", review)})
    execution = execute(push_plan(config), services(codebuild))
    assert isinstance(execution.error, GateRefused)
    assert "no deploy plan to apply" in str(execution.error)
    assert [s["projectName"] for s in codebuild.started] == ["quickstart-dev-tf-plan"]
    assert execution.report.results["post-deploy"].outcome == "not-run"


def test_a_refusal_is_read_from_the_exported_verdict_not_the_log(config: Config) -> None:
    refused = {"LMI_VERDICT": "refused", "LMI_VERDICT_DETAIL": "LMI002 concurrency too high"}
    codebuild = FakeCodeBuild({"quickstart-dev-tf-plan": ("FAILED", refused)})
    execution = execute(push_plan(config), services(codebuild))
    assert isinstance(execution.error, GateRefused)
    assert "LMI002 concurrency too high" in str(execution.error)
    failed = FakeCodeBuild({"quickstart-dev-tf-plan": ("FAILED", {"LMI_VERDICT": "failed"})})
    execution = execute(push_plan(config), services(failed))
    assert execution.error is not None
    assert not isinstance(execution.error, GateRefused)
    assert execution.report.results["validate"].outcome == "failed"


def test_setup_problems_refuse_before_any_build(config: Config) -> None:
    codebuild = FakeCodeBuild()
    execution = execute(push_plan(config), services(
        codebuild, check_setup=lambda: ["deploy.yml:3:1: LMD001 apply on pull requests"]))
    assert isinstance(execution.error, GateRefused)
    assert "LMD001" in str(execution.error)
    assert codebuild.started == []


def test_the_approval_is_checked_on_the_runner_before_the_apply_build(config: Config) -> None:
    asked: list[AwaitApproval] = []

    def refuse(step: AwaitApproval) -> None:
        asked.append(step)
        raise GateRefused(f"{step.environment} is not approved")

    codebuild = FakeCodeBuild({"quickstart-prod-tf-plan": ("SUCCEEDED", DEPLOY_PLAN)})
    execution = execute(push_plan(config, "prod"), services(codebuild, approve=refuse))
    assert [a.environment for a in asked] == ["prod"]
    assert [s["projectName"] for s in codebuild.started] == ["quickstart-prod-tf-plan"]
    assert isinstance(execution.error, GateRefused)


def test_a_plan_build_of_an_earlier_job_is_what_the_apply_binds_to(config: Config) -> None:
    codebuild = FakeCodeBuild()
    plan = push_plan(config)
    stages = tuple(s for s in plan.stages if s.name in ("apply", "post-deploy"))
    apply_only = DeliveryPlan(plan.service, plan.environment, plan.mode, plan.reason,
                              plan.context, plan.offline,
                              tuple(s if s in stages else type(s)(s.name, "skipped", "earlier job")
                                    for s in plan.stages))
    execution = execute(apply_only, services(
        codebuild, plan_build=PlanBuild("quickstart-dev-tf-plan:earlier", PLAN_SHA)))
    assert execution.error is None
    assert codebuild.variables(0)["LMI_PLAN_BUILD_ID"] == "quickstart-dev-tf-plan:earlier"
