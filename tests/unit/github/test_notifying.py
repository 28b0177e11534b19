"""What the apply watch tells the webhooks, from CodeBuild's record of each build alone."""

from __future__ import annotations

import io
from typing import Any

from lmi_delivery.codebuild.model import BuildResult, StartedBuild
from lmi_delivery.codebuild.reporting import TextReporter
from lmi_delivery.github.notifying import ApplyWatch
from lmi_delivery.notify import Event

APPLY, POST_DEPLOY = "shop-dev-tf-apply", "shop-dev-post-deploy"


def watch(sent: list[Event]) -> ApplyWatch:
    def event(kind: str, *, plan_sha256: str = "", detail: str = "") -> Event:
        return Event(kind, "shop", "dev", plan_sha256=plan_sha256, detail=detail)

    return ApplyWatch(TextReporter(io.StringIO()), APPLY, sent.append, event,
                      post_deploy_project=POST_DEPLOY)


def ended(project: str, status: str, **exported: Any) -> BuildResult:
    return BuildResult(StartedBuild(f"{project}:1", project), status, exported=exported)


def test_a_post_deploy_build_exporting_a_rolled_back_canary_is_one_event() -> None:
    sent: list[Event] = []
    w = watch(sent)
    w.build_finished(ended("shop-dev-tf-plan", "SUCCEEDED", LMI_PLAN_SHA256="a" * 64))
    w.build_started(StartedBuild(f"{APPLY}:1", APPLY))
    w.build_finished(ended(APPLY, "SUCCEEDED"))
    w.build_finished(ended(POST_DEPLOY, "FAILED", LMI_VERDICT="canary-rolled-back",
                           LMI_VERDICT_DETAIL="rollout of router:live rolled back to 3"))
    assert [e.kind for e in sent] == ["apply-started", "canary-rolled-back"]
    assert sent[1].detail == "rollout of router:live rolled back to 3"
    assert sent[1].plan_sha256 == "a" * 64


def test_other_failures_and_other_projects_are_not_a_rolled_back_canary() -> None:
    sent: list[Event] = []
    w = watch(sent)
    w.build_finished(ended(POST_DEPLOY, "FAILED", LMI_VERDICT="failed"))
    # Only the post-deploy project's record counts: another build cannot claim it.
    w.build_finished(ended("shop-dev-tf-review", "FAILED", LMI_VERDICT="canary-rolled-back"))
    assert sent == []
