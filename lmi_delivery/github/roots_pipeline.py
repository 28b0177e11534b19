"""``ci --command run|plan|drift|apply`` for a config with several Terraform roots.

The same pipeline as :mod:`lmi_delivery.github.pipeline`, once per root that runs: the roots the
event's change set touches (and those depending on them; every root for drift), their plan
builds together, their apply builds in ``depends_on`` order. The environment gets one report
(and one pull request comment) listing each running root's section and the skipped roots with
the reason.

Outputs carry one value per root where the one-root form has one value: ``plan-build-id`` and
``plan-sha256`` are ``root=value`` pairs separated by spaces, so the deploy workflow's approved
job (``command: apply``) is handed every root's plan build through the same inputs, and binds
each root's apply to its own build, which CodeBuild's record must show was started for that root.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from lmi_delivery.config.roots import for_root, root_keys
from lmi_delivery.errors import GateRefused, LmiError, UsageError
from lmi_delivery.execute.executor import Execution, PlanBuild
from lmi_delivery.github.context import Outcome
from lmi_delivery.github.notifying import apply_ended
from lmi_delivery.github.pipeline import (
    PLAN_ONLY,
    REVIEW_BUDGET,
    Pipeline,
    _services,
    run_outcome,
)
from lmi_delivery.github.review_comment import Review
from lmi_delivery.github.roots_comment import compose
from lmi_delivery.notify import no_notify
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.policy import MUTATING_STAGES
from lmi_delivery.plan.prepare import changes_of, plan_for, plan_roots, without_post_deploy
from lmi_delivery.plan.render import render as render_plan
from lmi_delivery.plan.roots_plan import RootsPlan
from lmi_delivery.plan.steps import DeliveryPlan


def _review_only(plan: DeliveryPlan) -> DeliveryPlan:
    stages = tuple(replace(s, status="skipped", reason=PLAN_ONLY, steps=())
                   if s.name in MUTATING_STAGES and s.status != "skipped" else s
                   for s in plan.stages)
    return replace(plan, stages=stages)


def _roots(p: Pipeline, context: CiContext, aws: Mapping[str, str] | None,
           environ: Mapping[str, str]) -> RootsPlan:
    drift = p.inputs.command == "drift"
    roots = plan_roots(p.config, p.env, context, aws, drift=drift,
                       changes=changes_of(p.config, p.context, environ))
    if p.inputs.command not in ("plan", "drift"):
        return roots
    return replace(roots, plans=tuple(_review_only(plan) for plan in roots.plans))


def pairs(values: Mapping[str, str]) -> str:
    """``root=value`` pairs, space-separated (the per-root form of an output)."""
    return " ".join(f"{root}={value}" for root, value in values.items() if value)


def parse_pairs(text: str, what: str) -> dict[str, str]:
    """The ``root=value`` pairs of an input; a usage error for anything else."""
    found: dict[str, str] = {}
    for item in text.split():
        root, sep, value = item.partition("=")
        if not sep or not root or not value:
            raise UsageError(f"{what} {item!r} is not root=value: with terraform.roots the plan "
                             "job's output names each root's value")
        found[root] = value
    return found


def run_roots(p: Pipeline, environ: Mapping[str, str], report_path: str) -> Outcome:
    """Plan and execute (``dry-run``: only plan) the roots the event runs, or (``apply``)
    apply the plan job's per-root plan builds."""
    if p.inputs.command == "apply":
        if p.inputs.sandbox or p.inputs.dry_run:
            raise UsageError("command apply applies a real plan build: no sandbox, no dry-run")
        return _apply(p, environ, report_path)
    if p.inputs.dry_run:
        roots = _roots(p, p.context, None if p.inputs.sandbox else environ, environ)
        sections = [(plan.root or "", render_plan(plan, "markdown")) for plan in roots.plans]
        outputs = {"stages": json.dumps({plan.root: {s.name: s.status for s in plan.stages}
                                         for plan in roots.plans}),
                   "plan-summary": "", "plan-sha256": "", "plan-build-id": "",
                   "has-changes": "", "build-ids": "", "published-versions": "{}",
                   "report-path": report_path}
        return Outcome(f"{p.config.service} / {p.env.name}: dry run of {len(roots.plans)} "
                       "root(s)", compose(p.env.name, sections, _skipped(roots)),
                       roots.render("json"), outputs)
    if not p.inputs.sandbox:
        roots = _roots(p, p.context, environ, environ)
        return _execute(p, roots, environ, p.config.codebuild.poll_interval_seconds,
                        report_path)

    from lmi_delivery.execute.sandbox_run import SANDBOX_POLL_SECONDS, sandboxed

    def say(line: str) -> None:
        print(line, file=p.log, flush=True)

    with sandboxed(p.config, [p.env], environ, say) as (sandbox_environ, commit):
        context = replace(p.context, sha=commit,
                          head_sha=commit if p.context.head_sha else None)
        say(f"sandbox: commit {commit[:12]} stands for {(p.context.commit or '?')[:12]}")
        roots = _roots(p, context, sandbox_environ, environ)
        return _execute(p, roots, sandbox_environ, SANDBOX_POLL_SECONDS, report_path,
                        context=context)


def _skipped(roots: RootsPlan) -> list[tuple[str, str]]:
    return [(s.key, s.reason) for s in roots.not_running]


def _execute(p: Pipeline, roots: RootsPlan, aws: Mapping[str, str], poll: float,
             report_path: str, plan_builds: Mapping[str, PlanBuild] | None = None,
             context: CiContext | None = None) -> Outcome:
    from lmi_delivery.execute.services import execute_plans
    from lmi_delivery.github.review_source import review_of

    services, watch = _services(p, aws, poll, p.notifier(aws))
    if plan_builds:
        services = replace(services, root_plan_builds=dict(plan_builds))
    executions = execute_plans(list(roots.plans), services, p.executor) if roots.plans else []
    applied = [e.report for e in executions if "apply" in e.report.results]
    failed = [r for r in applied if r.results["apply"].outcome != "succeeded"]
    if applied:  # one apply-succeeded or apply-failed for the run, whatever its roots
        apply_ended(watch, (failed or applied)[-1])
    reviews = {e.report.plan.root or "": review_of(
        for_root(p.config, e.report.plan.root), p.env, context or p.context, aws, e.report,
        e.report.plan) for e in executions if e.report.plan.root}
    return _outcome(p, roots, executions, report_path, reviews)


def _outcome(p: Pipeline, roots: RootsPlan, executions: list[Execution],
             report_path: str, reviews: Mapping[str, Review | None]) -> Outcome:
    share = REVIEW_BUDGET // max(1, len(executions))  # every root's review fits the comment
    each = [(root, run_outcome(e.report, e.error, {}, report_path, reviews.get(root), share))
            for e in executions for root in (e.report.plan.root or "",)]
    errors = [e.error for e in executions if e.error is not None]
    error: LmiError | None = max(errors, key=lambda e: e.exit_code) if errors else None

    def per_root(name: str) -> str:
        return pairs({root: o.outputs.get(name, "") for root, o in each})

    outputs = {
        "stages": json.dumps({root: json.loads(o.outputs["stages"]) for root, o in each}),
        "plan-summary": "\n".join(f"{root}: {o.outputs['plan-summary']}" for root, o in each
                                  if o.outputs.get("plan-summary")),
        "plan-sha256": per_root("plan-sha256"),
        "plan-build-id": per_root("plan-build-id"),
        "has-changes": ("true" if any(o.outputs.get("has-changes") == "true" for _, o in each)
                        else "false" if each and all(o.outputs.get("has-changes") == "false"
                                                     for _, o in each) else ""),
        "build-ids": " ".join(o.outputs["build-ids"] for _, o in each if o.outputs["build-ids"]),
        "published-versions": "{}",
        "report-path": report_path,
        "roots": " ".join(root for root, _ in each),
    }
    outcome = "nothing ran" if not each else (
        "failed" if error is not None else "succeeded")
    report = json.dumps([e.report.to_dict() for e in executions], indent=2) + "\n"
    return Outcome(f"{p.config.service} / {p.env.name}: {len(each)} root(s) {outcome}",
                   compose(p.env.name, [(root, o.markdown) for root, o in each],
                           _skipped(roots)), report, outputs, error)


def _apply(p: Pipeline, environ: Mapping[str, str], report_path: str) -> Outcome:
    """The approved job: every root the plan job planned, each bound to its own plan build."""
    from lmi_delivery.execute.services import apply_only, bind_to_plan_build

    builds = parse_pairs(p.inputs.plan_build_id, "plan-build-id")
    shas = parse_pairs(p.inputs.plan_sha256, "plan-sha256") if p.inputs.plan_sha256 else {}
    if not builds:
        raise UsageError("command apply needs plan-build-id: the plan job's `plan-build-id` "
                         "output (needs.plan.outputs.plan-build-id)")
    unknown = sorted(set(builds) - set(p.config.terraform.roots))
    if unknown:
        raise UsageError(f"plan-build-id names unknown Terraform root(s) {', '.join(unknown)}")
    services, _ = _services(p, environ, p.config.codebuild.poll_interval_seconds, no_notify)
    plans: list[DeliveryPlan] = []
    bound: dict[str, PlanBuild] = {}
    for key in root_keys(p.config):
        if key not in builds:
            continue
        projected = for_root(p.config, key)
        plan = without_post_deploy(plan_for(projected, p.env, p.context, environ), projected)
        if plan.stage("apply").status == "skipped":
            raise GateRefused(f"nothing to apply: {plan.stage('apply').reason}")
        bound[key] = bind_to_plan_build(services.codebuild, builds[key], commit=p.context.commit,
                                        expected_sha256=shas.get(key) or None, root=key)
        plans.append(apply_only(plan, bound[key]))
    roots = RootsPlan(p.env.name, tuple(plans))
    outcome = _execute(p, roots, environ, p.config.codebuild.poll_interval_seconds,
                       report_path, plan_builds=bound)
    outcome.outputs["plan-build-id"] = pairs({k: b.id for k, b in bound.items()})
    outcome.outputs["plan-sha256"] = pairs({k: b.sha256 for k, b in bound.items()})
    return outcome

