"""The stage policy, table-driven over every event x environment apply setting."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest

from lmi_delivery.config.model import Environment
from lmi_delivery.plan.context import CiContext, UpstreamRun
from lmi_delivery.plan.policy import decide

ENV_BRANCH = "dev"
APPLY_MODES = ("auto", "approval", "never")

# (event, ref, base_ref) → expected {stage: status} for the environment's own branch.
REVIEW = {"security": "run", "validate": "run", "plan": "run", "apply": "skipped",
          "post-deploy": "skipped"}
NOTHING = dict.fromkeys(REVIEW, "skipped")
DRIFT = {**NOTHING, "plan": "run"}


def deploy(apply: str) -> dict[str, str]:
    expected = {"security": "run", "validate": "run", "plan": "run"}
    if apply == "auto":
        return {**expected, "apply": "run", "post-deploy": "run"}
    if apply == "approval":
        return {**expected, "apply": "awaits-approval", "post-deploy": "run"}
    return {**expected, "apply": "skipped", "post-deploy": "skipped"}


CASES: list[tuple[str, str | None, str | None, object]] = [
    ("push", "refs/heads/dev", None, deploy),
    ("workflow_dispatch", "refs/heads/dev", None, deploy),
    ("push", "refs/heads/feature/x", None, NOTHING),
    ("workflow_dispatch", "refs/heads/main", None, NOTHING),
    ("push", "refs/tags/dev", None, NOTHING),
    ("pull_request", "refs/pull/4/merge", "dev", REVIEW),
    ("pull_request", "refs/pull/4/merge", "main", NOTHING),
    ("pull_request", "refs/heads/dev", None, NOTHING),
    ("pull_request_target", "refs/heads/dev", "dev", NOTHING),
    ("pull_request_review", "refs/pull/4/merge", "dev", REVIEW),
    ("merge_group", "refs/heads/gh-readonly-queue/dev/pr-4", "dev", REVIEW),
    ("schedule", "refs/heads/main", None, DRIFT),
    ("release", "refs/tags/v1", None, NOTHING),
    ("issue_comment", "refs/heads/dev", None, NOTHING),
    ("", None, None, NOTHING),
]


@pytest.mark.parametrize(("case", "apply"), list(itertools.product(CASES, APPLY_MODES)),
                         ids=lambda v: str(v[0] if isinstance(v, tuple) else v))
def test_stage_table(case: tuple[str, str | None, str | None, object], apply: str) -> None:
    event, ref, base_ref, expected = case
    env = Environment("dev", ENV_BRANCH, apply)  # type: ignore[arg-type]
    policy = decide(CiContext("github", event, ref=ref, base_ref=base_ref), env)
    want = expected(apply) if callable(expected) else expected
    assert {d.stage: d.status for d in policy.stages} == want
    assert [d.stage for d in policy.stages] == ["security", "validate", "plan", "apply",
                                                "post-deploy"]
    assert all(d.reason for d in policy.stages), "every decision says why"


@pytest.mark.parametrize("apply", APPLY_MODES)
@pytest.mark.parametrize("event", ["pull_request", "pull_request_target", "pull_request_review",
                                   "pull_request_review_comment", "merge_group"])
def test_pull_request_events_never_apply(event: str, apply: str) -> None:
    # Even a pull request whose ref is the environment's branch itself cannot apply.
    env = Environment("dev", "dev", apply)  # type: ignore[arg-type]
    for ref, base in [("refs/heads/dev", "dev"), ("refs/pull/1/merge", "dev"), (None, None)]:
        policy = decide(CiContext("github", event, ref=ref, base_ref=base), env)
        assert not policy.runs("apply")
        assert not policy.runs("post-deploy")


def test_reasons_say_why() -> None:
    env = Environment("prod", "main", "approval")
    pr = decide(CiContext("github", "pull_request", base_ref="main"), env)
    assert "pull requests never apply" in pr.decision("apply").reason
    target = decide(CiContext("github", "pull_request_target", base_ref="main"), env)
    assert "untrusted" in target.reason
    other = decide(CiContext("github", "push", ref="refs/heads/dev"), env)
    assert "dev" in other.reason
    assert "main" in other.reason
    approval = decide(CiContext("github", "push", ref="refs/heads/main"), env)
    assert "approved" in approval.decision("apply").reason
    never = decide(CiContext("github", "push", ref="refs/heads/main"),
                   Environment("prod", "main", "never"))
    assert "apply: never" in never.decision("apply").reason


# --- events at the edge: deleted refs, workflow_run, merge groups -----------------------------

ZERO = "0" * 40
SHA = "2b7e3c1f0a9d4e5b6c7d8e9f0a1b2c3d4e5f6a7b"


@pytest.mark.parametrize("apply", APPLY_MODES)
def test_a_push_that_deletes_its_ref_never_deploys(apply: str) -> None:
    env = Environment("dev", ENV_BRANCH, apply)  # type: ignore[arg-type]
    for context in [CiContext("github", "push", ref="refs/heads/dev", sha=ZERO, deleted=True),
                    CiContext("github", "push", ref="refs/heads/dev", sha=SHA, deleted=True),
                    CiContext("local", "push", ref="refs/heads/dev", sha=ZERO),
                    CiContext("github", "push", ref="refs/tags/dev", sha=ZERO, deleted=True)]:
        policy = decide(context, env)
        assert policy.running == ()
        assert policy.reason == f"the push deleted {context.ref}: nothing to deploy"
        assert all(d.reason == policy.reason for d in policy.stages)
    # A push that creates the branch is an ordinary push of it.
    created = decide(CiContext("github", "push", ref="refs/heads/dev", sha=SHA), env)
    assert {d.stage: d.status for d in created.stages} == deploy(apply)


SAFE_RUN = UpstreamRun(conclusion="success", event="push", head_branch="dev", head_sha=SHA,
                       head_repository_id=7, repository_id=7,
                       head_repository="acme/agent-platform")


def upstream(**changes: Any) -> UpstreamRun:
    """The safe upstream run (a successful push of this repository's dev), changed."""
    return replace(SAFE_RUN, **changes)


def after(run: UpstreamRun | None) -> CiContext:
    ref = f"refs/heads/{run.head_branch}" if run and run.head_branch else None
    return CiContext("github", "workflow_run", ref=ref, sha=run.head_sha if run else None,
                     workflow_run=run)


@pytest.mark.parametrize("apply", APPLY_MODES)
@pytest.mark.parametrize("event", ["push", "workflow_dispatch"])
def test_workflow_run_after_a_successful_push_on_the_branch_deploys(event: str,
                                                                    apply: str) -> None:
    env = Environment("dev", ENV_BRANCH, apply)  # type: ignore[arg-type]
    policy = decide(after(upstream(event=event)), env)
    assert {d.stage: d.status for d in policy.stages} == deploy(apply)
    assert policy.mode == "deploy"
    assert policy.reason == f"workflow_run after a successful {event} on dev"


@pytest.mark.parametrize(("run", "why"), [
    (None, "which run it follows is unknown"),
    (upstream(conclusion="failure"), "concluded failure, not success"),
    (upstream(conclusion=None), "concluded (not yet), not success"),
    (upstream(conclusion="cancelled"), "concluded cancelled, not success"),
    (upstream(event="pull_request"), "triggered by pull_request, not push or workflow_dispatch"),
    (upstream(event="pull_request_target"), "triggered by pull_request_target"),
    (upstream(event="repository_dispatch"), "triggered by repository_dispatch"),
    (upstream(event="schedule"), "triggered by schedule"),
    (upstream(head_repository_id=99, head_repository="evil/fork"),
     "ran a fork's code (evil/fork): a fork's run never deploys"),
    (upstream(head_repository_id=None), "does not say which repository its code came from"),
    (upstream(repository_id=None), "does not say which repository its code came from"),
    (upstream(head_branch="main"), "workflow_run on main, not dev's branch dev"),
    (upstream(head_branch=None), "workflow_run on no branch, not dev's branch dev"),
])
def test_every_other_workflow_run_runs_nothing_and_says_why(run: UpstreamRun | None,
                                                           why: str) -> None:
    for apply in APPLY_MODES:
        policy = decide(after(run), Environment("dev", ENV_BRANCH, apply))  # type: ignore[arg-type]
        assert policy.running == ()
        assert policy.mode == "none"
        assert why in policy.reason


def test_a_forks_workflow_run_never_deploys_even_on_the_branch() -> None:
    # A fork's branch named like the environment's: same name, other code.
    fork = upstream(head_repository_id=99, head_repository="evil/fork", head_branch="dev")
    context = CiContext("github", "workflow_run", ref="refs/heads/dev", sha=SHA,
                        workflow_run=fork)
    assert decide(context, Environment("dev", "dev", "auto")).running == ()


@pytest.mark.parametrize("apply", APPLY_MODES)
def test_merge_group_is_a_review_of_its_base_branch(apply: str) -> None:
    env = Environment("dev", ENV_BRANCH, apply)  # type: ignore[arg-type]
    into_dev = CiContext("github", "merge_group", ref="refs/heads/gh-readonly-queue/dev/pr-4-x",
                         base_ref="dev", sha=SHA)
    policy = decide(into_dev, env)
    assert {d.stage: d.status for d in policy.stages} == REVIEW
    assert (policy.mode, policy.reason) == ("review", "merge group into dev: review only")
    assert "merge groups never apply" in policy.decision("apply").reason
    # Its ref names a branch, but never the environment's: the base branch decides.
    into_main = decide(CiContext("github", "merge_group", ref="refs/heads/dev", base_ref="main",
                                 sha=SHA), env)
    assert into_main.running == ()
    assert into_main.reason == "the merge group targets main, not dev's branch dev"
