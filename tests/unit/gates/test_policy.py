"""The stage policy, table-driven over every event x environment apply setting."""

from __future__ import annotations

import itertools

import pytest

from lmi_delivery.config.model import Environment
from lmi_delivery.events import CiContext
from lmi_delivery.gates.policy import decide

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
