"""``lmi-delivery run`` and ``lmi-delivery apply``: the click layer."""

from __future__ import annotations

import os
from pathlib import Path

import click

from lmi_delivery.cli.options import config_option, context_options, format_option


@click.command("run")
@config_option
@click.option("--env", "env_names", required=True, multiple=True,
              help="The environment to deliver; repeat it to run several in lockstep (their "
                   "builds start together and one poller waits on all of them).")
@context_options
@format_option
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the run report as JSON to this file.")
@click.option("--sandbox", is_flag=True,
              help="Run against the embedded sandbox: no AWS account, nothing leaves this "
                   "machine.")
@click.option("--poll-interval", type=float, default=None,
              help="Seconds between build status polls (default: codebuild.poll_interval_seconds"
                   ", 1 in the sandbox).")
@click.option("--stop-apply-on-cancel", is_flag=True,
              help="On Ctrl-C, stop a running apply build too (default: leave it to finish).")
@click.option("--all-roots", is_flag=True,
              help="With terraform.roots: run every root, not only those the change touches "
                   "(and the roots that depend on them).")
def run_command(config_path: str, env_names: tuple[str, ...], event: str | None, ref: str | None,
                base_ref: str | None, sha: str | None, event_file: str | None, fmt: str,
                report_path: Path | None, sandbox: bool, poll_interval: float | None,
                stop_apply_on_cancel: bool, all_roots: bool) -> None:
    """Run the pipeline: exactly what `lmi-delivery plan` shows.

    For each --env in lockstep.

    Stages run in order and stop at the first that does not succeed: the delivery setup check,
    the plan build in CodeBuild (validate, plan, gates, the plan stored with its sha256), the
    apply build (the reviewed plan verified, then applied; approval environments are refused
    here and applied only by the deploy workflow's approved job), then post-deploy. Build logs
    stream to stderr as they arrive; Ctrl-C stops every started build except a running apply
    build, which is left to finish (`lmi-delivery codebuild wait ID` follows it). With
    terraform.roots, the roots the change touches run: their plan builds together, their apply
    builds in depends_on order (a failed apply starts none of the roots that depend on it),
    post-deploy for the functions of each root that applied.

    \b
    The whole pipeline on this machine, no AWS account needed:
      lmi-delivery run --sandbox --config examples/quickstart/lmi-delivery.yml --env dev
    """
    from lmi_delivery.execute.report import render_many
    from lmi_delivery.execute.services import RunRequest, run, write_report
    from lmi_delivery.plan.events import ContextFlags

    request = RunRequest(config_path, env_names,
                         ContextFlags(event=event, ref=ref, base_ref=base_ref, sha=sha,
                                      event_file=event_file),
                         sandbox=sandbox, poll_interval=poll_interval,
                         stop_apply_on_cancel=stop_apply_on_cancel, all_roots=all_roots)
    executions = run(request, dict(os.environ))
    if not executions:
        click.echo("nothing ran: no Terraform root's files changed (--all-roots runs them "
                   "all)")
        return
    reports = [e.report for e in executions]
    if report_path is not None:
        write_report(report_path, render_many(reports, "json"))
    click.echo(render_many(reports, "json" if fmt == "json" else
                           "markdown" if fmt == "markdown" else "text"), nl=False)
    errors = [e.error for e in executions if e.error is not None]
    if errors:
        # The most severe outcome decides the exit code: a refusal (3) over a failure (1).
        raise max(errors, key=lambda e: e.exit_code)


@click.command("apply")
@config_option
@click.option("--env", "env_name", required=True, help="The environment to apply.")
@click.option("--plan-build", "plan_build_id", required=True,
              help="The CodeBuild id of the plan build whose deploy plan to apply (the plan "
                   "job's `plan-build-id` output).")
@click.option("--plan-sha256", default=None,
              help="The sha256 the approver reviewed (the plan job's `plan-sha256` output); "
                   "the plan build's CodeBuild record must say the same.")
@context_options
@format_option
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the run report as JSON to this file.")
@click.option("--poll-interval", type=float, default=None,
              help="Seconds between build status polls (default: codebuild.poll_interval_seconds).")
@click.option("--stop-apply-on-cancel", is_flag=True,
              help="On Ctrl-C, stop a running apply build too (default: leave it to finish).")
def apply_command(config_path: str, env_name: str, plan_build_id: str, plan_sha256: str | None,
                  event: str | None, ref: str | None, base_ref: str | None, sha: str | None,
                  event_file: str | None, fmt: str, report_path: Path | None,
                  poll_interval: float | None, stop_apply_on_cancel: bool) -> None:
    """Apply a plan build's reviewed plan, then post-deploy.

    Terraform never plans again.

    The plan build's CodeBuild record must show a SUCCEEDED deploy plan of this commit (and the
    --plan-sha256 given); the apply build re-reads that record and applies only the object that
    hashes to it. Then post-deploy runs in its CodeBuild build. Approval environments are
    refused here: `lmi-delivery ci --command apply` verifies the approval in the deploy
    workflow's approved job. On Ctrl-C a running apply build is left to finish.
    """
    from lmi_delivery.execute.report import render_many
    from lmi_delivery.execute.services import ApplyRequest, apply, write_report
    from lmi_delivery.plan.events import ContextFlags

    request = ApplyRequest(config_path, env_name, plan_build_id,
                           ContextFlags(event=event, ref=ref, base_ref=base_ref, sha=sha,
                                        event_file=event_file),
                           plan_sha256=plan_sha256, poll_interval=poll_interval,
                           stop_apply_on_cancel=stop_apply_on_cancel)
    execution = apply(request, dict(os.environ))
    if report_path is not None:
        write_report(report_path, render_many([execution.report], "json"))
    click.echo(render_many([execution.report], "json" if fmt == "json" else
                           "markdown" if fmt == "markdown" else "text"), nl=False)
    if execution.error is not None:
        raise execution.error
