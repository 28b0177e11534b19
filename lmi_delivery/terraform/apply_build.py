"""The apply build: what ``lmi-delivery terraform apply`` does inside CodeBuild.

It executes the steps the planner places in the apply project
(:func:`~lmi_delivery.plan.planner.build_steps`): *verify*, ``init``, ``apply
lmi-delivery.tfplan``, *record*. Verifying refuses unless the event is a deploy event; reads the
plan build's record from CodeBuild and refuses unless it vouches for the sha256 the orchestrator
passed (:mod:`~lmi_delivery.terraform.binding`); refuses unless the object at that sha256's key
hashes to it and its binding (commit, environment, working directory, Terraform version, config
digest) is this build's; takes the environment's apply lock (held until the build ends); refuses
a plan already in the apply history, a commit that is not the branch's head, or one behind the
last applied commit (unless ``--allow-older``). A plan Terraform calls stale is refused too.
Nothing is ever re-planned. Every refusal is :class:`~lmi_delivery.errors.GateRefused` (exit 3)
and leaves the state as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lmi_delivery.errors import GateRefused, OperationFailed
from lmi_delivery.plan.planner import build_steps
from lmi_delivery.plan.steps import RecordApply, Step, TerraformCommand, VerifyPlan
from lmi_delivery.terraform.binding import DEPLOY_EVENTS, PlanClaim, verify_plan_build
from lmi_delivery.terraform.build_services import BuildServices, timestamp
from lmi_delivery.terraform.handoff import (
    ApplyRecord,
    PlanMetadata,
    history_prefix,
    record_key,
    verify,
)
from lmi_delivery.terraform.invoke import StalePlan


@dataclass(frozen=True)
class ApplyOutcome:
    metadata: PlanMetadata
    record: ApplyRecord

    def exports(self) -> dict[str, str]:
        return {
            "LMI_VERDICT": "succeeded",
            "LMI_APPLIED_PLAN_SHA256": self.record.plan_sha256,
            "LMI_APPLIED_AT": self.record.applied_at,
            "LMI_PLAN_SUMMARY": str(self.metadata.summary.get("text", "")),
        }

    def report(self) -> str:
        m = self.metadata
        return (f"applied the reviewed plan for {m.service} {m.environment} at {m.commit} "
                f"(sha256 {m.plan_sha256}, plan build {self.record.plan_build_id}, made "
                f"{m.created_at}): {m.summary.get('text', '')}\n")


@dataclass
class _ApplyRun:
    svc: BuildServices
    held: contextlib.ExitStack
    claim: PlanClaim | None = None
    metadata: PlanMetadata | None = None
    applied: bool = False
    outcome: ApplyOutcome | None = field(default=None)

    def step(self, step: Step) -> None:
        if isinstance(step, VerifyPlan):
            self.verify(step)
        elif isinstance(step, TerraformCommand):
            self.terraform(step)
        elif isinstance(step, RecordApply):
            self.record(step)
        else:
            raise OperationFailed(f"an apply build has no executor for a {step.kind} step")

    def verify(self, step: VerifyPlan) -> None:
        svc = self.svc
        env, commit = svc.env, svc.commit
        claim = PlanClaim.from_environ(svc.environ)
        if svc.codebuild is None:  # pragma: no cover - make_services always provides one
            raise GateRefused("no CodeBuild client to read the plan build's record with")
        plan_build = verify_plan_build(svc.codebuild, claim, project=step.plan_project,
                                       commit=commit, root=svc.config.terraform.root or "")
        location = svc.location("deploy")
        if step.location != location.base_url:
            raise OperationFailed(f"the verify step names {step.location}, not this build's "
                                  f"{location.base_url}")
        metadata = svc.store.metadata(location, claim.sha256)
        plan = svc.store.plan(location, claim.sha256)
        if metadata is None or plan is None:
            what = location.url(location.plan_key(claim.sha256))
            raise GateRefused(f"plan build {plan_build.id} vouches for sha256 {claim.sha256}, "
                              f"but {what} (or its metadata) is missing: expired or never "
                              "stored; run the plan build again")
        verify(metadata, plan, svc.binding, claim.sha256)
        if svc.lock is not None:
            self.held.enter_context(svc.lock(svc))
        history = svc.store.history(location.bucket, history_prefix(svc.config, env))
        _refuse_by_history(svc, history, claim)
        _refuse_unless_head(svc)
        _write(svc.planfile, plan)
        self.claim, self.metadata = claim, metadata

    def terraform(self, step: TerraformCommand) -> None:
        if self.claim is None:
            raise OperationFailed("the apply build runs Terraform before verifying the plan")
        try:
            self.svc.runner.run_step(step)
        except StalePlan as exc:
            raise GateRefused(
                f"Terraform refused the plan for {self.svc.env.name} at {self.svc.commit} as "
                "stale: the state changed after it was made (another apply ran). Nothing was "
                "applied; run the plan build again and review the new plan.",
                context={"plan_url": self.metadata.plan_url if self.metadata else ""},
            ) from exc
        self.applied = self.applied or step.argv[2] == "apply"

    def record(self, step: RecordApply) -> None:
        svc = self.svc
        if self.claim is None or self.metadata is None or not self.applied:
            raise OperationFailed("the apply build records an apply that did not run")
        location = svc.location("deploy")
        record = ApplyRecord(svc.env.name, svc.commit, self.claim.sha256, self.claim.build_id,
                             svc.build_id, timestamp(svc.clock()),
                             approver=svc.environ.get("LMI_DELIVERY_APPROVER") or None,
                             run_url=svc.environ.get("LMI_DELIVERY_RUN_URL") or None,
                             allow_older=svc.allow_older)
        svc.store.append(location.bucket, record_key(svc.config, svc.env, record), record)
        self.outcome = ApplyOutcome(self.metadata, record)


def apply_build(svc: BuildServices) -> ApplyOutcome:
    """Apply the plan the plan build vouches for, or refuse (exit 3) with the state untouched."""
    env = svc.env
    if env.apply == "never":
        raise GateRefused(f"environment {env.name} has apply: never in {svc.config.path.name}")
    if svc.event not in DEPLOY_EVENTS or svc.mode != "deploy":
        raise GateRefused(f"apply never runs for a {svc.event or 'missing'} event "
                          f"({svc.mode} mode): only a push or a dispatch on {env.branch} applies")
    steps = build_steps(svc.config, env, project="apply", mode=svc.mode, event=svc.event,
                        commit=svc.commit)
    with contextlib.ExitStack() as held:
        run = _ApplyRun(svc, held)
        for index, step in enumerate(steps, 1):
            if svc.say is not None:
                svc.say(f"step {index}/{len(steps)}: {step.describe()}")
            run.step(step)
    if run.outcome is None:
        raise OperationFailed("the apply build's steps record no apply")
    return run.outcome


def _refuse_by_history(svc: BuildServices, history: list[ApplyRecord], claim: PlanClaim) -> None:
    for entry in history:
        if entry.plan_sha256 == claim.sha256:
            by = f" by build {entry.apply_build_id}" if entry.apply_build_id else ""
            raise GateRefused(
                f"the plan for {svc.env.name} at {svc.commit} (sha256 {claim.sha256}) was "
                f"already applied at {entry.applied_at}{by}; a plan is applied once. Run the "
                "plan build again to plan from the current state.")
    if not history or svc.allow_older:
        return
    last = history[-1]
    if last.commit == svc.commit:
        return
    descends = svc.descends(last.commit, svc.commit)
    if descends is None:
        raise GateRefused(
            f"cannot prove that {svc.commit} descends from the last applied commit "
            f"{last.commit}: the build's checkout lacks that history (use a git source with "
            "full clone depth); nothing was applied")
    if not descends:
        raise GateRefused(
            f"{svc.commit} is older than (or not a descendant of) the last applied commit "
            f"{last.commit} of {svc.env.name} (applied {last.applied_at}); nothing was applied. "
            "A deliberate roll-back passes --allow-older, which the apply history records.")


def _refuse_unless_head(svc: BuildServices) -> None:
    """Only the head of the environment's branch applies (a re-run of an old deploy does not)."""
    if svc.allow_older:
        return
    head = svc.head_of(svc.env.branch)
    if head is None:
        raise GateRefused(
            f"cannot read the head of branch {svc.env.branch} from the build's git source; "
            "the apply needs a git source whose origin is the repository (nothing was applied)")
    if head != svc.commit:
        raise GateRefused(
            f"{svc.commit} is not the head of {svc.env.branch} ({head} is): a newer commit "
            "superseded it, so its deploy is not applied; nothing was applied")


def _write(path: Path, data: bytes) -> None:
    """Write the verified bytes atomically: Terraform never sees a half-written plan."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".lmi-plan-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
