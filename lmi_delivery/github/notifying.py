"""Where ``ci`` tells the config's webhooks what happened: the events of one run, once each.

``apply-started`` is sent when the apply build starts (the reporter sees it start), then
``apply-succeeded`` or ``apply-failed`` once the apply stage has ended. The other events are sent
by the step that knows they happened: ``rollback`` and ``canary-rolled-back`` by the post-deploy
and rollback commands, ``prune-refused`` by prune, ``drift-opened`` and ``drift-closed`` by the
drift issue. Sending is :mod:`lmi_delivery.notify.send`'s; a webhook that fails is a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from lmi_delivery.codebuild.model import BuildResult, StartedBuild
from lmi_delivery.codebuild.reporting import Reporter
from lmi_delivery.execute.report import RunReport
from lmi_delivery.notify import Event, Notify, no_notify

NotifierFactory = Callable[[Mapping[str, str]], Notify]
"""The notifier for the AWS environment a command runs against (where the URLs are read)."""


def no_notifier(aws_environ: Mapping[str, str]) -> Notify:
    return no_notify


class EventFactory(Protocol):
    def __call__(self, kind: str, *, plan_sha256: str = "", detail: str = "") -> Event: ...


@dataclass
class ApplyWatch:
    """A reporter passing everything on, that sends ``apply-started`` when the apply build
    starts (once), with the plan sha256 the plan build exported, if it ran in this job, and
    ``canary-rolled-back`` when the post-deploy build exports that verdict (CodeBuild's record
    of the build, never its log)."""

    inner: Reporter
    apply_project: str
    notify: Notify
    event: EventFactory
    plan_sha256: str = ""
    post_deploy_project: str = ""
    started: bool = field(default=False, init=False)

    def build_started(self, build: StartedBuild) -> None:
        self.inner.build_started(build)
        if build.project == self.apply_project and not self.started:
            self.started = True
            self.notify(self.event("apply-started", plan_sha256=self.plan_sha256,
                                   detail=f"apply build {build.id}"))

    def log_line(self, build: StartedBuild, line: str) -> None:
        self.inner.log_line(build, line)

    def build_finished(self, result: BuildResult) -> None:
        self.inner.build_finished(result)
        sha = result.exported.get("LMI_PLAN_SHA256")
        if sha and not self.plan_sha256:
            self.plan_sha256 = sha
        if result.build.project == self.post_deploy_project and \
                result.exported.get("LMI_VERDICT") == "canary-rolled-back":
            detail = " ".join(result.exported.get("LMI_VERDICT_DETAIL", "").split())[:1000]
            self.notify(self.event("canary-rolled-back", plan_sha256=self.plan_sha256,
                                   detail=detail or f"post-deploy build {result.build.id}"))

    def notice(self, message: str) -> None:
        self.inner.notice(message)

    def group_start(self, title: str) -> None:
        self.inner.group_start(title)

    def group_end(self) -> None:
        self.inner.group_end()


def apply_ended(watch: ApplyWatch, report: RunReport, plan_sha256: str = "") -> None:
    """``apply-succeeded`` or ``apply-failed``, when this run started an apply build."""
    if not watch.started:
        return
    result = report.results.get("apply")
    ok = result is not None and result.outcome == "succeeded"
    detail = "" if result is None else f"apply {result.outcome}: {result.detail}".rstrip(": ")
    watch.notify(watch.event("apply-succeeded" if ok else "apply-failed",
                             plan_sha256=plan_sha256 or watch.plan_sha256, detail=detail))
