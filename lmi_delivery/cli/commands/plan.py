"""``lmi-delivery plan``, ``validate`` and ``names``: reading the config, changing nothing."""

from __future__ import annotations

import os

import click

from lmi_delivery.cli.options import config_option, context_options, format_option


@click.command("validate")
@config_option
def validate_command(config_path: str) -> None:
    """Check lmi-delivery.yml: schema, references, names and files.

    Every problem is reported as FILE:LINE:COL: message; the exit code is 2 when there is any.
    """
    from lmi_delivery.config import load

    config = load(config_path)
    click.echo(f"{config_path}: ok ({len(config.environments)} environment(s), "
               f"{len(config.functions)} function(s), "
               f"{len(config.capacity_providers)} capacity provider(s))")


@click.command("names")
@config_option
@click.option("--env", "env_name", help="Only this environment (default: all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def names_command(config_path: str, env_name: str | None, fmt: str) -> None:
    """Print every name the naming rule derives (for Terraform).

    Print every name the naming rule derives, to paste into Terraform.
    """
    from lmi_delivery.config.names_report import names_report

    click.echo(names_report(config_path, env_name, fmt), nl=False)


@click.command("plan")
@config_option
@click.option("--env", "env_name", required=True, help="The environment to plan for.")
@context_options
@format_option
@click.option("--offline", is_flag=True,
              help="Read no AWS state (automatic when no AWS credentials are found).")
@click.option("--all-roots", is_flag=True,
              help="With terraform.roots: run every root, not only those the change touches "
                   "(and the roots that depend on them).")
def plan_command(config_path: str, env_name: str, event: str | None, ref: str | None,
         base_ref: str | None, sha: str | None, event_file: str | None, fmt: str,
         offline: bool, all_roots: bool) -> None:
    """Show what a run would do, without doing any of it (a dry run).

    The plan lists the five stages (security, validate, plan, apply, post-deploy), whether each
    runs for this event and environment and why, and every step with its resolved parameters:
    CodeBuild projects, Terraform commands with their -chdir and var files, the versions to
    publish, the aliases to move, the scaling to set and what to prune. `lmi-delivery run`
    executes exactly these steps. Nothing is started, changed or deleted. With
    terraform.roots it first says which roots run and why (their files changed, a root they
    depend on runs) and which are skipped and why, then shows each root's plan in apply order.

    \b
    Example: what would a merge to dev do? And a pull request into dev?
      lmi-delivery plan --env dev --event push --ref dev --offline
      lmi-delivery plan --env dev --event pull_request --base-ref dev --format markdown
    """
    from lmi_delivery.plan.events import ContextFlags
    from lmi_delivery.plan.prepare import PlanRequest, plan_report

    request = PlanRequest(
        config_path=config_path,
        env_name=env_name,
        flags=ContextFlags(event=event, ref=ref, base_ref=base_ref, sha=sha,
                           event_file=event_file),
        fmt=fmt,
        offline=offline,
        all_roots=all_roots,
    )
    click.echo(plan_report(request, dict(os.environ)), nl=False)
