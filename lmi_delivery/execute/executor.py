"""Carry out delivery plans: the runner's steps, stage by stage, stopping at the first failure.

Steps whose ``where`` is ``runner`` run here: gate checks, approvals and ``start-build``. Steps
placed in a CodeBuild project run inside the build started before them, through its
buildspec; their outcome is the build's. Several environments run in lockstep: each stage's
builds of every environment start together and one poller waits on all of them.

A build's verdict is its status and the ``LMI_VERDICT`` variable lmi-delivery exports inside it
(CodeBuild's record), never its log text. The plan build's id and exported sha256 are handed to
the apply build (``bind_plan``), which checks them against CodeBuild itself. On a cancel, running
apply builds are left to finish (a torn ``terraform apply`` is worse than a late one) unless
``stop_apply_on_cancel``; every other build is stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from lmi_delivery.errors import GateRefused, Interrupted, LmiError, OperationFailed
from lmi_delivery.execute.report import BuildRecord, Outcome, RunReport, StageResult
from lmi_delivery.plan.steps import (
    RUNNER,
    AwaitApproval,
    DeliveryPlan,
    EnvVar,
    GateCheck,
    StartBuild,
)

#: What lmi-delivery exports inside a build: ``succeeded``, ``refused`` (exit 3) or ``failed``.
VERDICT = "LMI_VERDICT"
VERDICT_DETAIL = "LMI_VERDICT_DETAIL"


@dataclass(frozen=True)
class PlanBuild:
    """The build that made the deploy plan, as CodeBuild reported it: what an apply binds to."""

    id: str
    sha256: str


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
    plan_build: PlanBuild | None = None
    """A plan build made earlier (another job): what ``bind_plan`` builds are handed."""
    root_plan_builds: Mapping[str, PlanBuild] = field(default_factory=dict)
    """With ``terraform.roots``: each root's plan build made earlier, by root key (over
    :attr:`plan_build`)."""
    stop_apply_on_cancel: bool = False
    build_env: Callable[[], tuple[EnvVar, ...]] = field(default=lambda: ())
    """Variables every build is started with, besides its step's (which lmi-delivery to
    install), read when a build starts: nothing is stored before a build needs it."""
    apply_env: Callable[[], tuple[EnvVar, ...]] = field(default=lambda: ())
    """Variables an apply build is started with, read when it starts (who approved, the run)."""


@dataclass
class Execution:
    report: RunReport
    error: LmiError | None = None


def _check_build(started: StartedBuild, ended: BuildResult, result: StageResult) -> None:
    result.builds.append(BuildRecord(started.id, started.project, ended.status,
                                     started.log_url, "" if ended.succeeded else ended.summary()))
    result.exported.update(ended.exported)
    if not ended.succeeded and ended.exported.get(VERDICT) == "refused":
        detail = " ".join(ended.exported.get(VERDICT_DETAIL, "").split())[:1000]
        raise GateRefused(f"{started.project} refused: {detail or 'see the build log'}",
                          context={"build_id": started.id})
    raise_for_failures([ended])


def _bound(step: StartBuild, plan_build: PlanBuild | None,
           extra: tuple[EnvVar, ...] = ()) -> StartBuild:
    """``step`` with the plan build's id and sha256 (and ``extra``), when it applies a plan."""
    if not step.bind_plan:
        return step
    if plan_build is None:
        raise GateRefused(f"no deploy plan to apply: no plan build of this run exported a "
                          f"plan sha256, so {step.project} is not started")
    binding = (EnvVar("LMI_PLAN_BUILD_ID", plan_build.id),
               EnvVar("LMI_PLAN_SHA256", plan_build.sha256), *extra)
    return replace(step, environment_variables=(*step.environment_variables, *binding))


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

    def __init__(self, plan: DeliveryPlan, plan_build: PlanBuild | None) -> None:
        self.plan = plan
        self.report = RunReport(plan)
        self.error: LmiError | None = None
        self.previous: StageResult | None = None
        self.plan_build = plan_build

    def record(self, started: StartedBuild, ended: BuildResult) -> None:
        """Remember a deploy plan build, read from CodeBuild's record of it."""
        sha = ended.exported.get("LMI_PLAN_SHA256", "")
        if ended.succeeded and sha and ended.exported.get("LMI_PLAN_KIND") == "deploy":
            self.plan_build = PlanBuild(started.id, sha)

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
    try:
        # Applies follow depends_on: a root's apply build starts once the roots it depends on
        # applied; every other stage starts all its builds together.
        waves = _waves(runs, active) if name == "apply" else [active]
        interrupted: LmiError | None = None
        for wave in waves:
            if interrupted is not None:
                for run, result in wave:
                    run.fail(result, interrupted)
                continue
            interrupted = _wave(runs, wave, name, svc)
    finally:
        for run, result in active:
            result.seconds = svc.clock() - begin
            run.previous = result
        svc.reporter.group_end()


def _waves(runs: Sequence[_Run],
           active: list[tuple[_Run, StageResult]]) -> list[list[tuple[_Run, StageResult]]]:
    """``active`` in dependency order: each run after the runs of the same environment whose
    root it depends on (:attr:`DeliveryPlan.depends_on`)."""
    keys = {(r.plan.environment, r.plan.root) for r in runs}
    waves: list[list[tuple[_Run, StageResult]]] = []
    placed: set[tuple[str, str | None]] = set()
    pending = list(active)
    while pending:
        wave = [(r, res) for r, res in pending
                if all((r.plan.environment, d) in placed or (r.plan.environment, d) not in keys
                       for d in r.plan.depends_on)] or pending
        waves.append(wave)
        placed |= {(r.plan.environment, r.plan.root) for r, _ in wave}
        pending = [item for item in pending if item not in wave]
    return waves


def _stopped_by(runs: Sequence[_Run], run: _Run) -> list[str]:
    """The roots ``run`` depends on whose run did not succeed."""
    return [other.plan.root or "" for other in runs
            if other.plan.environment == run.plan.environment and other.error is not None
            and other.plan.root in run.plan.depends_on]


def _wave(runs: Sequence[_Run], wave: list[tuple[_Run, StageResult]], name: str,
          svc: RunServices) -> LmiError | None:
    """Start the wave's builds together and wait on all of them; the error that interrupted
    the wait, if one did."""
    started: list[tuple[_Run, StageResult, StartedBuild]] = []
    try:
        for run, result in wave:
            if failed := _stopped_by(runs, run):
                result.outcome = "not-run"
                result.detail = (f"not started: root {', '.join(failed)} did not {name} "
                                 "successfully")
                run.error = OperationFailed(f"{run.plan.label}: {result.detail}")
                continue
            try:
                step = _runner_steps(svc, run.plan.stage(name).steps)
                if step is not None:
                    step = _bound(step, run.plan_build, svc.apply_env() if step.bind_plan
                                  else ())
                    if every := svc.build_env():
                        step = replace(step, environment_variables=(
                            *step.environment_variables, *every))
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
            ended = _wait(svc, name, [b for _, _, b in started])
            for (run, result, build), outcome in zip(started, ended, strict=True):
                run.record(build, outcome)
                try:
                    _check_build(build, outcome, result)
                except LmiError as exc:
                    run.fail(result, exc)
    except LmiError as exc:  # interrupted while waiting: every started build was stopped
        for run, result, _ in started:
            run.fail(result, exc)
        for run, result in wave:
            if run.error is None:
                run.fail(result, exc)
        return exc
    return None


def _wait(svc: RunServices, stage: str, builds: list[StartedBuild]) -> list[BuildResult]:
    applying = stage == "apply" and not svc.stop_apply_on_cancel
    try:
        return wait(builds, codebuild_client=svc.codebuild, logs_client=svc.logs,
                    reporter=svc.reporter, poll_interval=svc.poll_interval, cancel=svc.cancel,
                    stop_on_cancel=not applying)
    except Interrupted as exc:
        if not applying:
            raise
        ids = " ".join(b.id for b in builds)
        raise Interrupted(f"{exc}: the apply build(s) were left to finish, never torn in the "
                          f"middle of terraform apply; follow them with `lmi-delivery codebuild "
                          f"wait {ids}` (--stop-apply-on-cancel stops them)",
                          context=exc.context) from exc


def execute_all(plans: Sequence[DeliveryPlan], svc: RunServices) -> list[Execution]:
    """Run the plans' stages in lockstep; each environment stops at its first failure."""
    runs = [_Run(plan, svc.root_plan_builds.get(plan.root or "", svc.plan_build))
            for plan in plans]
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
