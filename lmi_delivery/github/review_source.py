"""Gathers one environment's review after its plan build: the document the build stored beside
the plan, what post-deploy will do, and the build's log, for
:mod:`lmi_delivery.github.review_comment` to render.

Which document is read is decided here, not by the build: the environment's plan prefix for
the commit (:func:`lmi_delivery.config.naming.plan_prefix`), the kind and the sha256 the plan
build exported to CodeBuild's record. Its content is the build's (a review build runs the pull
request's code): :mod:`lmi_delivery.terraform.review_doc` bounds it, the renderer escapes it.
A plan job's role needs ``s3:GetObject`` on ``*.review.json`` under its prefix
(``lmi-delivery bootstrap`` grants it); without it the job shows the one-line summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import LmiError
from lmi_delivery.execute.report import RunReport
from lmi_delivery.github import review_comment
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.steps import DeliveryPlan


def _exported(report: RunReport, name: str) -> tuple[str, str | None]:
    """The value a build exported, and that build's log URL."""
    for result in report.results.values():
        if result.exported.get(name):
            log = result.builds[0].log_url if result.builds else None
            return result.exported[name], log
    return "", None


def post_deploy_preview(config: Config, env: Environment, context: CiContext,
                        aws_environ: Mapping[str, str], plan: DeliveryPlan) -> list[str]:
    """What post-deploy does after this plan is applied: this run's post-deploy steps, or, for
    a review, those of a push of the same commit to the environment's branch (read-only)."""
    steps = plan.stage("post-deploy").steps
    if not steps and (context.is_pull_request or context.event == "merge_group"):
        from lmi_delivery.plan.prepare import plan_for

        push = replace(context, event="push", ref=f"refs/heads/{env.branch}", base_ref=None,
                       head_sha=None, pr_number=None, sha=context.commit)
        try:
            steps = plan_for(config, env, push, aws_environ).stage("post-deploy").steps
        except LmiError:
            return []
    return [step.describe() for step in steps]


def review_of(config: Config, env: Environment, context: CiContext,
              aws_environ: Mapping[str, str], report: RunReport,
              plan: DeliveryPlan) -> review_comment.Review | None:
    """The review, or ``None`` when the plan build stored none this job may read."""
    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.terraform import review_doc

    sha, log_url = _exported(report, "LMI_PLAN_SHA256")
    kind, _ = _exported(report, "LMI_PLAN_KIND")
    if not sha or kind not in ("deploy", "review") or not context.commit:
        return None
    factory = clients_for(config, env, aws_environ, max_attempts=2)
    bucket = naming.artifact_location(config).bucket
    prefix = naming.plan_prefix(config, env, context.commit, kind)
    document = review_doc.load(factory.client("s3"), bucket, review_doc.key(prefix, sha))
    if document is None:
        return None
    preview = post_deploy_preview(config, env, context, aws_environ, plan)
    return review_comment.from_summary(
        document.summary, text_plan=document.text_plan, warnings=document.warnings,
        findings=tuple(review_comment.FindingRow(**f) for f in document.findings),
        post_deploy=tuple(preview), capacity=tuple(v for _, v in sorted(plan.capacity.items())),
        log_url=log_url)
