"""Carry out delivery plans: the runner's steps, stage by stage, stopping at the first failure.

Steps whose ``where`` is ``runner`` run here: gate checks, approvals and ``start-build``. Steps
placed in a CodeBuild project run inside the build started before them, through its
buildspec; their outcome is the build's. Several environments run in lockstep: each stage's
builds of every environment start together and one poller waits on all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmi_delivery.codebuild import (
    Cancellation,
    ConsoleLinks,
    Reporter,
    StartedBuild,
    raise_for_failures,
    request_from_step,
    start_build,
    wait,
)
from lmi_delivery.codebuild.model import BuildResult
from lmi_delivery.config.model import STAGES
from lmi_delivery.errors import GateRefused, LmiError, OperationFailed
from lmi_delivery.execute.report import BuildRecord, Outcome, RunReport, StageResult
from lmi_delivery.steps import RUNNER, AwaitApproval, DeliveryPlan, GateCheck, StartBuild

#: A line a refusing lmi-delivery command prints (exit 3); seen in a build's log, it makes the
#: stage "refused" rather than "failed".
REFUSED_PREFIX = "refused: "


@dataclass
class RunServices:
    codebuild: Any
    logs: Any
    reporter: Reporter
    links: ConsoleLinks
    approve: Callable[[AwaitApproval], None]
    """Returns when the deployment is approved; raises ``GateRefused`` otherwise."""
    check_setup: Callable[[], Sequence[str]]
    """The delivery setup's blocking problems, one line each (empty: fine)."""
    poll_interval: float = 5.0
    cancel: Cancellation | None = None
    clock: Callable[[], float] = time.monotonic
    buildspec_override: Callable[[StartBuild], str | None] = field(default=lambda step: None)


@dataclass
class Execution:
    report: RunReport
    error: LmiError | None = None


def _refusal_in(result: BuildResult) -> str | None:
    for line in reversed(result.tail):
        text = line.strip()
        if text.startswith(REFUSED_PREFIX):
            return text.removeprefix(REFUSED_PREFIX)
    return None


def _check_build(started: StartedBuild, ended: BuildResult, result: StageResult) -> None:
    result.builds.append(BuildRecord(started.id, started.project, ended.status,
                                     started.log_url, "" if ended.succeeded else ended.summary()))
    result.exported.update(ended.exported)
    refusal = None if ended.succeeded else _refusal_in(ended)
    if refusal:
        raise GateRefused(f"{started.project} refused: {refusal}",
                          context={"build_id": started.id})
    raise_for_failures([ended])


def _runner_steps(svc: RunServices, stage_steps: Sequence[Any]) -> StartBuild | None:
    """Run the runner's steps up to the stage's build; return that build's step, if any."""
    build: StartBuild | None = None
    for step in stage_steps:
        if step.where != RUNNER:
            continue
        if build is not None:  # pragma: no cover - the planner puts the build last on the runner
            raise OperationFailed(f"a {step.kind} step follows the stage's build on the runner")
        if isinstance(step, StartBuild):
            build = step
        elif isinstance(step, AwaitApproval):
            svc.approve(step)
        elif isinstance(step, GateCheck):
            problems = list(svc.check_setup())
            if problems:
                raise GateRefused(f"{step.check}: {len(problems)} problem(s)\n"
                                  + "\n".join(problems))
        else:  # pragma: no cover - the planner places no other step kind on the runner
            raise OperationFailed(f"no runner for a {step.kind} step")
    return build


class _Run:
    """The state of one environment's run while the stages advance."""

    def __init__(self, plan: DeliveryPlan) -> None:
        self.plan = plan
        self.report = RunReport(plan)
        self.error: LmiError | None = None
        self.previous: StageResult | None = None

    def fail(self, result: StageResult, exc: LmiError) -> None:
        outcome: Outcome = "refused" if isinstance(exc, GateRefused) else "failed"
        result.outcome, result.detail, self.error = outcome, str(exc) or "interrupted", exc


def _stage(runs: Sequence[_Run], name: str, svc: RunServices) -> None:
    active: list[tuple[_Run, StageResult]] = []
    for run in runs:
        stage = run.plan.stage(name)
        if run.error is not None:
            run.report.results[name] = StageResult("not-run", "an earlier stage did not succeed")
        elif stage.status == "skipped":
            run.report.results[name] = StageResult("skipped", stage.reason)
        else:
            run.report.results[name] = result = StageResult("succeeded")
            active.append((run, result))
    if not active:
        return
    begin = svc.clock()
    svc.reporter.group_start(f"stage {name}")
    started: list[tuple[_Run, StageResult, StartedBuild]] = []
    try:
        for run, result in active:
            try:
                step = _runner_steps(svc, run.plan.stage(name).steps)
                if step is not None:
                    override = svc.buildspec_override(step)
                    request = request_from_step(step, buildspec_override=override)
                    build = start_build(svc.codebuild, request, reporter=svc.reporter,
                                        links=svc.links)
                    started.append((run, result, build))
                elif run.previous is not None and run.previous.builds:
                    # This stage's steps ran inside the build the previous stage started.
                    result.detail = run.previous.exported.get("LMI_PLAN_SUMMARY", "") or \
                        f"ran in build {run.previous.builds[-1].id}"
            except LmiError as exc:
                run.fail(result, exc)
        if started:
            ended = wait([b for _, _, b in started], codebuild_client=svc.codebuild,
                         logs_client=svc.logs, reporter=svc.reporter,
                         poll_interval=svc.poll_interval, cancel=svc.cancel)
            for (run, result, build), outcome in zip(started, ended, strict=True):
                try:
                    _check_build(build, outcome, result)
                except LmiError as exc:
                    run.fail(result, exc)
    except LmiError as exc:  # interrupted while waiting: every started build was stopped
        for run, result, _ in started:
            run.fail(result, exc)
        for run, result in active:
            if run.error is None:
                run.fail(result, exc)
    finally:
        for run, result in active:
            result.seconds = svc.clock() - begin
            run.previous = result
        svc.reporter.group_end()


def execute_all(plans: Sequence[DeliveryPlan], svc: RunServices) -> list[Execution]:
    """Run the plans' stages in lockstep; each environment stops at its first failure."""
    runs = [_Run(plan) for plan in plans]
    begun = svc.clock()
    for name in STAGES:
        _stage(runs, name, svc)
    for run in runs:
        run.report.seconds = svc.clock() - begun
    return [Execution(run.report, run.error) for run in runs]


def execute(plan: DeliveryPlan, svc: RunServices) -> Execution:
    """Run one environment's plan."""
    [execution] = execute_all([plan], svc)
    return execution
