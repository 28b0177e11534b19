"""The plan build: what ``lmi-delivery terraform plan`` does inside CodeBuild.

It executes the steps the planner places in its project for its mode
(:func:`~lmi_delivery.plan.planner.build_steps`): ``fmt -check`` (when
``gates.validation.fmt``), ``init``, ``validate``, ``plan -out=lmi-delivery.tfplan``, ``show
-json``, the gates the dry run lists, then the store. The plan file and its metadata are stored
content-addressed (:mod:`~lmi_delivery.terraform.handoff`): a *deploy plan* when the build was
started for a deploy (``LMI_DELIVERY_MODE=deploy``, a push or dispatch) in the environment's
``plan`` project, a *review plan* under the review prefix otherwise (pull requests, merge groups
and drift). A plan a gate refused is never stored. The build exports the plan's sha256 and kind
for the orchestrator to read back from CodeBuild.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lmi_delivery.errors import GateRefused, OperationFailed
from lmi_delivery.plan.planner import build_steps
from lmi_delivery.plan.steps import GateCheck, Step, StorePlan, TerraformCommand
from lmi_delivery.terraform import review_doc
from lmi_delivery.terraform.build_services import BuildServices, timestamp
from lmi_delivery.terraform.handoff import PlanKind, PlanLocation, PlanMetadata, sha256_hex
from lmi_delivery.terraform.review_doc import ReviewDocument
from lmi_delivery.terraform.summary import PlanSummary, summarize


@dataclass(frozen=True)
class PlanOutcome:
    metadata: PlanMetadata
    summary: PlanSummary
    location: PlanLocation

    def exports(self) -> dict[str, str]:
        """What the buildspec exports for the orchestrator (``exported-variables``)."""
        sha = self.metadata.plan_sha256
        return {
            "LMI_VERDICT": "succeeded",
            "LMI_PLAN_KIND": self.location.kind,
            "LMI_PLAN_URL": self.metadata.plan_url,
            "LMI_PLAN_METADATA_URL": self.location.url(self.location.metadata_key(sha)),
            "LMI_PLAN_SHA256": sha,
            "LMI_PLAN_SUMMARY": self.summary.text(),
            "LMI_PLAN_HAS_CHANGES": "true" if self.summary.has_changes else "false",
        }

    def report(self) -> str:
        m = self.metadata
        lines = [f"{m.service} {m.environment} at {m.commit}: {self.summary.text()}"]
        lines += [f"  {r.action:<8} {r.address}" for r in self.summary.resources]
        lines += [f"  {action:<8} output.{name}" for name, action in
                  sorted(self.summary.outputs.items())]
        lines.append(f"stored the {m.kind} plan {m.plan_url} (sha256 {m.plan_sha256})")
        return "\n".join(lines) + "\n"


def plan_kind(svc: BuildServices) -> PlanKind:
    """Deploy plans only in the plan project, for a deploy; review plans never there."""
    plan_project, review_project = svc.project_name("plan"), svc.project_name("review")
    running = svc.project
    if svc.mode == "deploy":
        if running is not None and running != plan_project:
            raise GateRefused(f"a deploy plan is made only by the plan project {plan_project}, "
                              f"not by {running}")
        return "deploy"
    if running is not None and running == plan_project:
        raise GateRefused(f"a {svc.event or 'review'} build runs in the review project "
                          f"{review_project}, never in the plan project {plan_project}")
    return "review"


def steps_of(svc: BuildServices, kind: PlanKind) -> tuple[Step, ...]:
    """This build's steps: the dry run's steps for its project and mode."""
    project = "plan" if kind == "deploy" else "review"
    return build_steps(svc.config, svc.env, project=project, mode=svc.mode,
                       event=svc.event, commit=svc.commit)


@dataclass
class _PlanRun:
    svc: BuildServices
    kind: PlanKind
    plan_json: dict[str, Any] | None = None
    plan_log: str = ""
    reports: list[Any] = field(default_factory=list)
    outcome: PlanOutcome | None = None

    def step(self, step: Step) -> None:
        if isinstance(step, TerraformCommand):
            self.terraform(step)
        elif isinstance(step, GateCheck):
            self.gate(step)
        elif isinstance(step, StorePlan):
            self.store(step)
        else:
            raise OperationFailed(f"a plan build has no executor for a {step.kind} step")

    def terraform(self, step: TerraformCommand) -> None:
        result = self.svc.runner.run_step(step)
        command = step.argv[2]
        if command == "fmt" and result:
            raise GateRefused(f"terraform fmt would change {len(result)} file(s) in "
                              f"{self.svc.config.terraform.working_directory}: "
                              f"{', '.join(result)} (gates.validation.fmt)")
        if command == "show":
            self.plan_json = result
        elif command == "plan" and isinstance(result, str):
            self.plan_log = result

    def gate(self, step: GateCheck) -> None:
        """Run one gate on the plan and print its findings; a refusal stops the store."""
        from lmi_delivery.gates.evaluate import security_report, validation_report
        from lmi_delivery.gates.plan_json import Plan
        from lmi_delivery.gates.render import text

        if self.plan_json is None:
            raise OperationFailed(f"the {step.gate} gate runs on the plan, before any plan")
        svc = self.svc
        plan = Plan(self.plan_json, str(svc.planfile.name))
        if step.gate == "lmi":
            report = validation_report(svc.config, plan, environment=svc.env.name,
                                       lambda_client=svc.lambda_client)
        elif step.gate == "security":
            report = security_report(svc.config, plan, env=svc.environ,
                                     today=svc.clock().date(), environment=svc.env.name)
        else:
            raise OperationFailed(f"a plan build does not run the {step.gate} gate")
        if svc.say is not None:
            for line in text(report).splitlines():
                svc.say(line)
        self.reports.append(report)

    def store(self, step: StorePlan) -> None:
        svc = self.svc
        for report in self.reports:  # both gates' findings are printed before either refuses
            report.enforce()
        if self.plan_json is None:
            raise OperationFailed("the plan build stores a plan before making one")
        location = svc.location(self.kind)
        if step.plan_kind != self.kind or step.location != location.base_url:
            raise OperationFailed(f"the store step ({step.plan_kind} plan at {step.location}) is "
                                  f"not this build's ({self.kind} plan at "
                                  f"{location.base_url})")
        summary = summarize(self.plan_json)
        plan = svc.planfile.read_bytes()
        metadata = PlanMetadata.build(
            svc.binding, plan, location.url(location.plan_key(sha256_hex(plan))),
            created_at=timestamp(svc.clock()), summary=summary.to_dict(), kind=self.kind,
            event=svc.event, build_id=svc.build_id)
        svc.store.save(location, plan, metadata)
        findings = [f for report in self.reports for f in report.findings]
        svc.store.put_beside(location, review_doc.key(location.prefix, metadata.plan_sha256),
                             ReviewDocument.of(metadata.summary, self.plan_log,
                                               findings).to_json())
        self.outcome = PlanOutcome(metadata, summary, location)


def plan_build(svc: BuildServices) -> PlanOutcome:
    kind = plan_kind(svc)
    svc.runner.state_lock = kind == "deploy"  # as the dry run's steps of its project say
    run = _PlanRun(svc, kind)
    steps = steps_of(svc, kind)
    for index, step in enumerate(steps, 1):
        if svc.say is not None:
            svc.say(f"step {index}/{len(steps)}: {step.describe()}")
        run.step(step)
    if run.outcome is None:
        raise OperationFailed(f"the {kind} plan build's steps store no plan")
    return run.outcome
