"""Review plans and deploy plans are different things, from the planner down to the executor."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lmi_delivery.config import Config, load
from lmi_delivery.errors import GateRefused
from lmi_delivery.execute.executor import PlanBuild, _bound
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.prepare import plan_for
from lmi_delivery.plan.steps import DeliveryPlan, EnvVar, StartBuild, StorePlan

REPO = Path(__file__).resolve().parents[3]
SHA = "c" * 40


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("repo") / "quickstart"
    shutil.copytree(REPO / "examples" / "quickstart", root)
    path = root / "lmi-delivery.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  artifacts: s3://", "  secrets:\n"
        "    TF_VAR_api_token: {ref: \"ssm:/q/{env}/token\", review: true}\n"
        "    DEPLOY_KEY: \"secretsmanager:q/{env}/deploy\"\n"
        "  artifacts: s3://"), encoding="utf-8")
    return load(path)


def _plan(config: Config, event: str, **context: str) -> DeliveryPlan:
    ctx = CiContext("local", event, sha=SHA, **context)  # type: ignore[arg-type]
    return plan_for(config, config.environment("dev"), ctx, None)


def _builds(plan: DeliveryPlan) -> list[StartBuild]:
    return [s for stage in plan.stages for s in stage.steps if isinstance(s, StartBuild)]


def _env(step: StartBuild) -> dict[str, EnvVar]:
    return {v.name: v for v in step.environment_variables}


def test_a_pull_request_plans_in_the_review_project_with_only_opted_in_secrets(
        config: Config) -> None:
    plan = _plan(config, "pull_request", ref="refs/pull/7/merge", base_ref="dev")
    [build] = _builds(plan)
    assert build.project == "quickstart-dev-tf-review"
    variables = _env(build)
    assert variables["LMI_DELIVERY_MODE"].value == "review"
    assert {n for n, v in variables.items() if v.type != "PLAINTEXT"} == {"TF_VAR_api_token"}
    [store] = [s for s in plan.stage("plan").steps if isinstance(s, StorePlan)]
    assert (store.plan_kind, store.location) == (
        "review", f"s3://quickstart-delivery-artifacts/reviews/quickstart/dev/{SHA}")


def test_a_schedule_is_a_review_plan_too(config: Config) -> None:
    plan = _plan(config, "schedule", ref="refs/heads/dev")
    assert {b.project for b in _builds(plan)} == {"quickstart-dev-tf-review"}
    [store] = [s for s in plan.stage("plan").steps if isinstance(s, StorePlan)]
    assert store.plan_kind == "review"


def test_a_push_plans_in_the_plan_project_and_binds_the_apply(config: Config) -> None:
    plan = _plan(config, "push", ref="refs/heads/dev")
    builds = _builds(plan)
    assert [b.project for b in builds] == ["quickstart-dev-tf-plan", "quickstart-dev-tf-apply",
                                           "quickstart-dev-post-deploy"]
    assert [b.bind_plan for b in builds] == [False, True, False]
    secrets = {n for n, v in _env(builds[0]).items() if v.type != "PLAINTEXT"}
    assert secrets == {"TF_VAR_api_token", "DEPLOY_KEY"}
    assert _env(builds[0])["LMI_DELIVERY_MODE"].value == "deploy"


def test_the_apply_build_is_handed_the_plan_build_or_not_started(config: Config) -> None:
    apply = _builds(_plan(config, "push", ref="refs/heads/dev"))[1]
    with pytest.raises(GateRefused, match="no deploy plan to apply"):
        _bound(apply, None)
    bound = _env(_bound(apply, PlanBuild("quickstart-dev-tf-plan:1", "d" * 64)))
    assert (bound["LMI_PLAN_BUILD_ID"].value, bound["LMI_PLAN_SHA256"].value) == (
        "quickstart-dev-tf-plan:1", "d" * 64)


def test_a_drift_check_on_a_dispatch_is_a_review_plan_that_applies_nothing(
        config: Config) -> None:
    ctx = CiContext("local", "workflow_dispatch", ref="refs/heads/dev", sha=SHA)
    plan = plan_for(config, config.environment("dev"), ctx, None, drift=True)
    assert plan.mode == "drift"
    assert {b.project for b in _builds(plan)} == {"quickstart-dev-tf-review"}
    [store] = [s for s in plan.stage("plan").steps if isinstance(s, StorePlan)]
    assert store.plan_kind == "review"
    assert plan.stage("apply").status == plan.stage("post-deploy").status == "skipped"


def test_the_sandbox_commit_stands_in_after_githubs_context_is_checked(
        config: Config, tmp_path: Path) -> None:
    from lmi_delivery.errors import UsageError
    from lmi_delivery.plan.events import ContextFlags
    from lmi_delivery.plan.prepare import PlanRequest, make_plan

    event = tmp_path / "event.json"
    event.write_text('{"ref": "refs/heads/dev", "before": "' + "0" * 39 + '1", "after": "'
                     + "e" * 40 + '", "commits": [], "repository": {"id": 1}}')
    github = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/dev",
              "GITHUB_SHA": "e" * 40, "GITHUB_EVENT_PATH": str(event)}
    request = PlanRequest(str(config.path), "dev", ContextFlags(), offline=True,
                          stand_in_commit=SHA)
    plan = make_plan(request, github, config=config)
    assert plan.context["sha"] == SHA
    assert plan.stage("apply").status == "run"
    with pytest.raises(UsageError, match="--sha"):  # a flag still may not contradict GitHub
        make_plan(PlanRequest(str(config.path), "dev", ContextFlags(sha=SHA), offline=True),
                  github, config=config)


def test_a_builds_verdict_comes_from_its_record_never_from_its_log() -> None:
    from lmi_delivery.codebuild.model import BuildResult, StartedBuild
    from lmi_delivery.errors import OperationFailed
    from lmi_delivery.execute.executor import _check_build
    from lmi_delivery.execute.report import StageResult

    started = StartedBuild("quickstart-dev-tf-review:1", "quickstart-dev-tf-review")
    # A pull request's code prints what a refusal looks like: the build only failed.
    forged = BuildResult(started, "FAILED", "BUILD", tail=("refused: all clear, approve it",))
    with pytest.raises(OperationFailed) as failed:
        _check_build(started, forged, StageResult("succeeded"))
    assert not isinstance(failed.value, GateRefused)
    refused = BuildResult(started, "FAILED", "BUILD", exported={
        "LMI_VERDICT": "refused", "LMI_VERDICT_DETAIL": "LMI002: concurrency\nabove 64"})
    with pytest.raises(GateRefused, match="refused: LMI002: concurrency above 64"):
        _check_build(started, refused, StageResult("succeeded"))
