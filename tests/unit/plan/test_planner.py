"""The planner's rules, one by one: what each stage holds, in which order, and for which config.

Every step a build executes comes from these rules (``build_steps``), so each rule here is also
a rule of what the builds do.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lmi_delivery.config import Config, load
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.planner import LiveState, build_plan, build_steps, terraform_argv
from lmi_delivery.plan.policy import BUILD_STAGES, decide, drift
from lmi_delivery.plan.steps import (
    AliasMove,
    CapacityCheck,
    DeliveryPlan,
    GateCheck,
    Prune,
    Scale,
    StartBuild,
    Step,
    StorePlan,
    TerraformCommand,
    Warm,
)

REPO = Path(__file__).resolve().parents[3]
SHA = "d" * 40
EXAMPLES = ("quickstart", "agent-platform")

Edit = Callable[[str], str]


@pytest.fixture
def example(tmp_path: Path) -> Callable[..., Config]:
    """A copy of an example whose lmi-delivery.yml went through ``edits`` (text replacements)."""

    made = itertools.count()

    def make(name: str = "quickstart", *edits: tuple[str, str]) -> Config:
        root = tmp_path / str(next(made)) / name
        shutil.copytree(REPO / "examples" / name, root)
        path = root / "lmi-delivery.yml"
        text = path.read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
        return load(path)

    return make


def plan_of(config: Config, event: str = "push", *, env: str = "dev",
            live: LiveState | None = None, mode: str | None = None) -> DeliveryPlan:
    environment = config.environment(env)
    if event == "pull_request":
        context = CiContext("local", event, ref="refs/pull/7/merge", base_ref=environment.branch,
                            sha=SHA, head_sha=SHA)
    else:
        context = CiContext("local", event, ref=f"refs/heads/{environment.branch}", sha=SHA)
    policy = drift(context, environment) if mode == "drift" else decide(context, environment)
    return build_plan(config, environment, context, policy, offline=live is None, live=live)


def steps(plan: DeliveryPlan, stage: str | None = None) -> list[Step]:
    return [s for st in plan.stages if stage in (None, st.name) for s in st.steps]


def gates(plan: DeliveryPlan) -> list[str]:
    return [s.gate for s in steps(plan) if isinstance(s, GateCheck)]


def commands(plan: DeliveryPlan, stage: str | None = None) -> list[str]:
    return [s.argv[2] for s in steps(plan, stage) if isinstance(s, TerraformCommand)]


# -- gates ------------------------------------------------------------------------------------


def test_both_gates_run_on_the_plan_after_show_and_before_the_store(
        example: Callable[..., Config]) -> None:
    plan = plan_of(example())
    kinds = [s.gate if isinstance(s, GateCheck) else s.kind for s in steps(plan, "plan")]
    assert kinds == ["terraform", "terraform", "lmi", "security", "store-plan"]
    assert commands(plan, "plan") == ["plan", "show"]
    assert [s.gate for s in steps(plan, "security")] == ["setup"]  # type: ignore[attr-defined]


def test_a_disabled_security_gate_is_not_shown_and_not_run(
        example: Callable[..., Config]) -> None:
    config = example("quickstart", ("\npost_deploy:", "\ngates:\n  security: {enabled: false}\n"
                                                     "post_deploy:"))
    assert gates(plan_of(config)) == ["setup", "lmi"]
    assert "security" not in [s.gate for s in build_steps(  # type: ignore[attr-defined]
        config, config.environment("dev"), project="plan", mode="deploy", event="push",
        commit=SHA) if isinstance(s, GateCheck)]


def test_a_disabled_validation_gate_drops_the_lmi_checks_and_fmt(
        example: Callable[..., Config]) -> None:
    config = example("agent-platform", ("    fmt: true\n", "    fmt: true\n    enabled: false\n"))
    plan = plan_of(config)
    assert gates(plan) == ["setup", "security"]
    assert "fmt" not in commands(plan)
    enabled = plan_of(example("agent-platform"))
    assert commands(enabled, "validate") == ["fmt", "init", "validate"]


def test_the_scanners_are_part_of_the_security_gate_step(example: Callable[..., Config]) -> None:
    (security,) = [s for s in steps(plan_of(example("agent-platform")))
                   if isinstance(s, GateCheck) and s.gate == "security"]
    assert "scanners checkov" in security.describe()


# -- modes ------------------------------------------------------------------------------------


def test_drift_plans_without_gates_and_stores_a_review_plan(
        example: Callable[..., Config]) -> None:
    config = example()
    plan = plan_of(config, "schedule", mode="drift")
    assert gates(plan) == []
    assert commands(plan) == ["init", "plan", "show"]
    (plan_step,) = [s for s in steps(plan) if isinstance(s, TerraformCommand)
                    and s.argv[2] == "plan"]
    assert "-detailed-exitcode" not in plan_step.argv
    (store,) = [s for s in steps(plan) if isinstance(s, StorePlan)]
    assert store.plan_kind == "review"
    assert "/reviews/" in store.location
    (build,) = [s for s in steps(plan) if isinstance(s, StartBuild)]
    assert build.project == "quickstart-dev-tf-review"


def test_a_pull_request_plans_in_the_review_project_and_never_applies(
        example: Callable[..., Config]) -> None:
    plan = plan_of(example(), "pull_request")
    assert [s.project for s in steps(plan) if isinstance(s, StartBuild)] == [
        "quickstart-dev-tf-review"]
    assert steps(plan, "apply") == steps(plan, "post-deploy") == []


def test_every_argv_is_the_one_argv_builder_s(example: Callable[..., Config]) -> None:
    config = example("agent-platform")
    env = config.environment("qa")
    for step in steps(plan_of(config, env="qa")):
        if isinstance(step, TerraformCommand):
            assert step.argv == terraform_argv(config, env, step.argv[2])
            assert step.argv[1] == "-chdir=terraform"


# -- post-deploy ------------------------------------------------------------------------------


def test_the_prune_covers_every_configured_capacity_provider(
        example: Callable[..., Config]) -> None:
    config = example("quickstart", ("capacity_providers:\n  shared: {}\n",
                                    "capacity_providers:\n  shared: {}\n  spare: {}\n"))
    (prune,) = [s for s in steps(plan_of(config)) if isinstance(s, Prune)]
    assert prune.capacity_providers == ("quickstart-dev-shared", "quickstart-dev-spare")


def test_a_first_deploy_creates_the_alias_without_a_canary(
        example: Callable[..., Config]) -> None:
    config = example("quickstart", ("    alias: live\n",
                                    "    alias: live\n    canary: {weight: 0.1, minutes: 5}\n"))
    name = "quickstart-dev-router"

    def move(live: LiveState | None) -> AliasMove:
        (step,) = [s for s in steps(plan_of(config, live=live)) if isinstance(s, AliasMove)]
        return step

    first = move(LiveState({(name, "live"): None}))
    assert (first.exists, first.canary_weight) == (False, None)
    assert first.describe() == f"create alias {name}:live -> new"
    later = move(LiveState({(name, "live"): "4"}))
    assert (later.exists, later.canary_weight, later.from_version) == (True, 0.1, "4")
    assert "through a canary (10% for 5 min" in later.describe()
    offline = move(None)
    assert offline.exists is None
    assert offline.canary_weight == 0.1
    assert "created without a rollout if the alias does not exist yet" in offline.describe()


def test_post_deploy_steps_follow_the_configured_order(example: Callable[..., Config]) -> None:
    config = example("quickstart", ("\npost_deploy:\n", "\npost_deploy:\n  steps: [publish, "
                                                        "prune, alias]\n"))
    kinds = [s.kind for s in steps(plan_of(config), "post-deploy")]
    assert kinds == ["start-build", "publish", "prune", "headroom", "alias", "scale-down"]


def test_capacity_comes_before_traffic_by_default(example: Callable[..., Config]) -> None:
    """publish, the headroom gate, scale matching the live version, warm the new version by
    qualifier, move the alias, scale the version it left down, prune."""
    config = example("quickstart", ("\npost_deploy:\n", "\npost_deploy:\n"))
    shown = steps(plan_of(config), "post-deploy")
    assert [s.kind for s in shown] == ["start-build", "publish", "headroom", "scale", "warm",
                                       "alias", "scale-down", "prune"]
    scale = next(s for s in shown if isinstance(s, Scale))
    assert scale.match_live
    assert scale.qualifier == "new"
    assert "or the live version's applied environments if more" in scale.describe()
    warm = next(s for s in shown if isinstance(s, Warm))
    assert warm.qualifier == "new"
    assert "router:new (by version" in warm.describe()
    check = next(s for s in shown if isinstance(s, CapacityCheck))
    assert check.peak is None
    assert "read at run time (not read here)" in check.describe()


def test_the_old_order_warms_the_alias_after_the_move(example: Callable[..., Config]) -> None:
    config = example("quickstart", ("\npost_deploy:\n", "\npost_deploy:\n  steps: [publish, "
                                                        "alias, scale, warm]\n"))
    shown = steps(plan_of(config), "post-deploy")
    assert [s.kind for s in shown] == ["start-build", "publish", "headroom", "alias",
                                       "scale-down", "scale", "warm"]
    assert next(s for s in shown if isinstance(s, Warm)).qualifier is None


# -- what a build derives is what the dry run shows --------------------------------------------

EVENTS = {"deploy": "push", "review": "pull_request", "drift": "schedule"}


@pytest.mark.parametrize(("name", "mode"), list(itertools.product(EXAMPLES, EVENTS)))
def test_each_build_derives_exactly_the_dry_run_s_steps_for_its_project(
        example: Callable[..., Config], name: str, mode: str) -> None:
    config = example(name)
    env = config.environment("dev")
    plan = plan_of(config, EVENTS[mode], mode=mode)
    started = [s for s in steps(plan) if isinstance(s, StartBuild)]
    assert started, "every mode starts at least one build"
    for build in started:
        key = _key(config, env.name, build.project)
        shown = [s for s in steps(plan) if s.where == f"codebuild:{build.project}"]
        derived = build_steps(config, env, project=key, mode=mode, event=EVENTS[mode],
                              commit=SHA)
        assert list(derived) == shown, f"{key} build in {mode} mode"


def _key(config: Config, env: str, project: str) -> str:
    from lmi_delivery.config import naming

    environment = config.environment(env)
    return next(k for k in BUILD_STAGES if naming.project_name(config, environment, k) == project)


@pytest.mark.parametrize("event", ["push", "workflow_dispatch", "pull_request", "merge_group",
                                   "schedule"])
def test_the_stages_a_build_covers_are_those_the_policy_runs(
        example: Callable[..., Config], event: str) -> None:
    config = example()
    plan = plan_of(config, event, mode="drift" if event == "schedule" else None)
    projects = {s.project: s for s in steps(plan) if isinstance(s, StartBuild)}
    in_builds = {st.name for st in plan.stages for s in st.steps if s.where != "runner"}
    covered = {stage for project in projects
               for stage in BUILD_STAGES[_key(config, "dev", project)][plan.mode]}
    assert in_builds <= covered
