"""``ci --command run|plan``: the delivery plan executed with GitHub's reporter and approvals.

The run path of ``lmi-delivery run`` (``make_services`` + ``execute_all``) with three services
swapped: builds are reported in ``::group::`` blocks with their ids written to
``$GITHUB_OUTPUT`` as they start, the approval of an ``apply: approval`` environment is verified
through GitHub's REST API (not refused outright), and the delivery setup check annotates each
finding. ``plan`` runs the review stages only (security, validate, plan: the plan build stores the
plan with its sha256); ``dry-run`` starts nothing and shows the plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TextIO

from lmi_delivery.config.model import Config, Environment
from lmi_delivery.config.roots import has_roots
from lmi_delivery.errors import GateRefused, UsageError
from lmi_delivery.escape import code_span, fenced, link, markdown_text
from lmi_delivery.execute.executor import RunServices, execute_all
from lmi_delivery.execute.report import RunReport, render
from lmi_delivery.execute.services import Executor
from lmi_delivery.github import annotations as notes
from lmi_delivery.github.context import CiInputs, Outcome, RunnerFiles
from lmi_delivery.github.notifying import ApplyWatch, NotifierFactory, apply_ended, no_notifier
from lmi_delivery.github.review_comment import Review
from lmi_delivery.github.review_comment import render as render_review
from lmi_delivery.github.review_source import review_of
from lmi_delivery.notify import Event, Notify
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.policy import MUTATING_STAGES
from lmi_delivery.plan.prepare import plan_for
from lmi_delivery.plan.render import render as render_plan
from lmi_delivery.plan.steps import AwaitApproval, DeliveryPlan, EnvVar

if TYPE_CHECKING:
    from lmi_delivery.github.drift_report import DriftReport

#: What the report and the review may take of a pull request comment (the marker and the
#: footer take the rest of GitHub's 65,536 characters).
REVIEW_BUDGET = 62_000
PLAN_ONLY = "command plan runs the review stages only; `command: run` applies"


@dataclass(frozen=True)
class Pipeline:
    inputs: CiInputs
    config: Config
    env: Environment
    context: CiContext
    runner: RunnerFiles
    log: TextIO
    approve: Callable[[AwaitApproval], None]
    executor: Executor = execute_all
    notifier: NotifierFactory = no_notifier
    on_drift: Callable[[DriftReport, Notify], None] | None = None
    """``drift``: called with the run's drift report while AWS is still reachable."""

    def event(self, kind: str, *, plan_sha256: str = "", detail: str = "") -> Event:
        """An event of this run: its environment, commit, approver and link."""
        return Event(kind, self.config.service, self.env.name, self.context.commit or "",
                     plan_sha256, ",".join(getattr(self.approve, "approved_by", ())),
                     self.runner.run_url or "", detail)


def delivery_plan(config: Config, env: Environment, context: CiContext,
                  aws_environ: Mapping[str, str] | None, *, review_only: bool,
                  drift: bool = False) -> DeliveryPlan:
    """The plan for this event; ``aws_environ`` ``None`` plans offline."""
    plan = plan_for(config, env, context, aws_environ, drift=drift)
    if not review_only:
        return plan
    stages = tuple(replace(s, status="skipped", reason=PLAN_ONLY, steps=())
                   if s.name in MUTATING_STAGES and s.status != "skipped" else s
                   for s in plan.stages)
    return replace(plan, stages=stages)


def _annotating_setup_check(p: Pipeline) -> Callable[[], Sequence[str]]:
    def check() -> Sequence[str]:
        from lmi_delivery.doctor.diagnose import diagnose
        from lmi_delivery.doctor.report import problems

        findings = diagnose(p.config)
        for finding in findings:
            p.log.write(notes.for_finding(finding, p.runner.workspace).command() + "\n")
        p.log.flush()
        return problems(findings)
    return check


def _services(p: Pipeline, aws_environ: Mapping[str, str], poll: float,
              notify: Notify) -> tuple[RunServices, ApplyWatch]:
    from lmi_delivery.codebuild import GithubReporter
    from lmi_delivery.config.naming import project_name
    from lmi_delivery.execute.services import make_services

    services = make_services(p.config, p.env, aws_environ, poll, p.log)

    def apply_env() -> tuple[EnvVar, ...]:
        """Who approved and which run applies: the apply build records both."""
        approvers = ",".join(getattr(p.approve, "approved_by", ()))
        return tuple(EnvVar(name, value) for name, value in (
            ("LMI_DELIVERY_APPROVER", approvers), ("LMI_DELIVERY_RUN_URL",
                                                    p.runner.run_url or "")) if value)

    watch = ApplyWatch(GithubReporter(p.log, p.runner.output_path),
                       project_name(p.config, p.env, "apply"), notify, p.event,
                       post_deploy_project=project_name(p.config, p.env, "post_deploy"))
    return replace(services, reporter=watch, approve=p.approve,
                   check_setup=_annotating_setup_check(p), apply_env=apply_env), watch


def _published(config: Config, env: Environment, aws_environ: Mapping[str, str]) -> dict[str, str]:
    """Versions the post-deploy build published, from the deploy record it stored."""
    from botocore.exceptions import BotoCoreError, ClientError

    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.postdeploy.report import load_last

    factory = clients_for(config, env, aws_environ, max_attempts=2)
    try:
        record = load_last(factory.client("s3"), config, env) or {}
    except (BotoCoreError, ClientError):
        return {}
    return {str(f["function"]): str(f["published_version"])
            for f in record.get("functions") or []
            if isinstance(f, dict) and f.get("function") and f.get("published_version")}


def _exported(report: RunReport, name: str) -> str:
    for result in report.results.values():
        if result.exported.get(name):
            return result.exported[name]
    return ""


def _builds_markdown(report: RunReport) -> list[str]:
    rows = []
    for stage, result in report.results.items():
        for b in result.builds:
            log = link("log", b.log_url) if b.log_url else ""
            rows.append(f"- {code_span(stage)}: {code_span(b.project)} {code_span(b.id)} "
                        f"**{markdown_text(b.status)}** {log}".rstrip())
    return ["", "#### Builds", "", *rows] if rows else []


def _plan_build_id(report: RunReport) -> str:
    """The build that exported the deploy plan's sha256: what the approved job applies."""
    for result in report.results.values():
        if result.exported.get("LMI_PLAN_KIND") == "deploy" and result.builds:
            return result.builds[0].id
    return ""


def run_outcome(report: RunReport, error: Any, published: Mapping[str, str],
                report_path: str, review: Review | None = None,
                budget: int = REVIEW_BUDGET) -> Outcome:
    """``review``: the plan's review, when the plan build stored one, rendered in what is left
    of ``budget`` (the comment's, or a root's share of it); else the plan's one-line summary
    is shown."""
    summary = _exported(report, "LMI_PLAN_SUMMARY")
    changes = _exported(report, "LMI_PLAN_HAS_CHANGES").lower()
    lines = [render(report, "markdown").rstrip("\n"), *_builds_markdown(report)]
    if review is not None:
        used = sum(len(line) + 1 for line in lines) + 200
        lines += ["", "#### Terraform plan", "",
                  render_review(review, budget - used).rstrip("\n")]
    elif summary:
        lines += ["", "#### Terraform plan", "", fenced(summary)]
    if published:
        lines += ["", "#### Published versions", "",
                  *[f"- `{fn}`: version {v}" for fn, v in sorted(published.items())]]
    outputs = {
        "stages": json.dumps({name: result.outcome for name, result in report.results.items()}),
        "plan-summary": summary,
        "plan-sha256": _exported(report, "LMI_PLAN_SHA256"),
        "plan-build-id": _plan_build_id(report),
        "has-changes": "true" if changes in ("true", "1", "yes") else
                       "false" if changes in ("false", "0", "no") else "",
        "build-ids": " ".join(b.id for r in report.results.values() for b in r.builds),
        "published-versions": json.dumps(dict(sorted(published.items()))),
        "report-path": report_path,
        "drift": "",
    }
    return Outcome(f"{report.plan.service} / {report.plan.environment}: run {report.outcome}",
                   "\n".join(lines) + "\n", render(report, "json"), outputs, error)


def dry_run_outcome(plan: DeliveryPlan, report_path: str) -> Outcome:
    outputs = {"stages": json.dumps({s.name: s.status for s in plan.stages}),
               "plan-summary": "", "plan-sha256": "", "plan-build-id": "", "has-changes": "",
               "build-ids": "",
               "published-versions": "{}", "report-path": report_path, "drift": ""}
    return Outcome(f"{plan.service} / {plan.environment}: dry run",
                   render_plan(plan, "markdown"), render_plan(plan, "json"), outputs)


def run_pipeline(p: Pipeline, environ: Mapping[str, str], report_path: str) -> Outcome:
    """Plan and execute (or, with ``dry-run``, only plan) the delivery for one environment.

    ``apply`` (the deploy workflow's approved job) executes only the apply and post-deploy
    stages, bound to the plan job's build: it never plans again. A config with several
    Terraform roots runs through :func:`lmi_delivery.github.roots_pipeline.run_roots`.
    """
    if has_roots(p.config):
        from lmi_delivery.github.roots_pipeline import run_roots

        return run_roots(p, environ, report_path)
    if p.inputs.command == "apply":
        if not p.inputs.plan_build_id:
            raise UsageError("command apply needs plan-build-id: the plan job's "
                             "`plan-build-id` output (needs.plan.outputs.plan-build-id)")
        if p.inputs.sandbox or p.inputs.dry_run:
            raise UsageError("command apply applies a real plan build: no sandbox, no dry-run")
        return _apply(p, environ, p.config.codebuild.poll_interval_seconds, report_path)
    review_only = p.inputs.command in ("plan", "drift")
    if p.inputs.dry_run:
        aws = None if p.inputs.sandbox else environ
        return dry_run_outcome(delivery_plan(p.config, p.env, p.context, aws,
                                             review_only=review_only,
                                             drift=p.inputs.command == "drift"), report_path)
    poll = p.config.codebuild.poll_interval_seconds
    if not p.inputs.sandbox:
        return _execute(p, p.context, environ, poll, review_only, report_path)

    from lmi_delivery.execute.sandbox_run import SANDBOX_POLL_SECONDS, sandboxed

    def say(line: str) -> None:
        print(line, file=p.log, flush=True)

    with sandboxed(p.config, [p.env], environ, say) as (sandbox_environ, commit):
        # The sandbox's CodeBuild builds its snapshot commit: it stands for the event's commit.
        context = replace(p.context, sha=commit,
                          head_sha=commit if p.context.head_sha else None)
        say(f"sandbox: commit {commit[:12]} stands for {(p.context.commit or '?')[:12]}")
        return _execute(p, context, sandbox_environ, SANDBOX_POLL_SECONDS, review_only,
                        report_path)


def _apply(p: Pipeline, aws_environ: Mapping[str, str], poll: float,
           report_path: str) -> Outcome:
    from lmi_delivery.execute.services import apply_only, bind_to_plan_build, execute_plans

    plan = plan_for(p.config, p.env, p.context, aws_environ)
    if plan.stage("apply").status == "skipped":
        raise GateRefused(f"nothing to apply: {plan.stage('apply').reason}")
    services, watch = _services(p, aws_environ, poll, p.notifier(aws_environ))
    bound = bind_to_plan_build(services.codebuild, p.inputs.plan_build_id,
                               commit=p.context.commit,
                               expected_sha256=p.inputs.plan_sha256 or None)
    [execution] = execute_plans([apply_only(plan, bound)],
                                replace(services, plan_build=bound), p.executor)
    report = execution.report
    apply_ended(watch, report, bound.sha256)
    published: dict[str, str] = {}
    if report.results["post-deploy"].outcome == "succeeded" and \
            report.results["post-deploy"].builds:
        published = _published(p.config, p.env, aws_environ)
    outcome = run_outcome(report, execution.error, published, report_path)
    outcome.outputs["plan-sha256"] = bound.sha256
    outcome.outputs["plan-build-id"] = bound.id
    return outcome


def _execute(p: Pipeline, context: CiContext, aws_environ: Mapping[str, str], poll: float,
             review_only: bool, report_path: str) -> Outcome:
    from lmi_delivery.execute.services import execute_plans

    plan = delivery_plan(p.config, p.env, context, aws_environ, review_only=review_only,
                         drift=p.inputs.command == "drift")
    notify = p.notifier(aws_environ)
    services, watch = _services(p, aws_environ, poll, notify)
    [execution] = execute_plans([plan], services, p.executor)
    report = execution.report
    apply_ended(watch, report, _exported(report, "LMI_PLAN_SHA256"))
    published: dict[str, str] = {}
    if report.results.get("post-deploy") and report.results["post-deploy"].outcome == "succeeded" \
            and report.results["post-deploy"].builds:
        published = _published(p.config, p.env, aws_environ)
    review = review_of(p.config, p.env, context, aws_environ, report, plan)
    outcome = run_outcome(report, execution.error, published, report_path, review)
    if p.inputs.command == "drift":
        _drift(p, report, aws_environ, notify, outcome, context.commit or "")
    return outcome


def _drift(p: Pipeline, report: RunReport, aws_environ: Mapping[str, str], notify: Notify,
           outcome: Outcome, commit: str) -> None:
    """The drift report (the plan's resources and post-deploy's state), in the summary, the
    ``drift`` output and, through ``on_drift``, the environment's drift issue."""
    from lmi_delivery.github.drift_report import gather, render_body

    names = ("LMI_PLAN_HAS_CHANGES", "LMI_PLAN_SUMMARY", "LMI_PLAN_SHA256")
    plan = report.results.get("plan")
    drift = gather(p.config, p.env, aws_environ, {n: _exported(report, n) for n in names},
                   plan is not None and plan.outcome == "succeeded", p.runner.run_url or "",
                   commit)
    outcome.outputs["drift"] = ("true" if drift.drifted else "false") if drift.known else ""
    outcome.markdown += "\n" + render_body(drift).split("\n", 1)[1]
    if p.on_drift is not None:
        p.on_drift(drift, notify)
