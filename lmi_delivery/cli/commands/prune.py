"""``lmi-delivery prune``: delete old function versions, scoped by capacity provider.

Exit codes: 0 done (or dry run), 1 a deletion failed (after all the others were tried), or a
retired provider was not released (or not deleted) in time, 2 invalid input, 3 retire mode
refused because a version of the provider must stay.
"""

from __future__ import annotations

import os
import sys
import time

import click

from lmi_delivery.errors import GateRefused, OperationFailed, UsageError
from lmi_delivery.postdeploy.prune.decision import Verdict

PROGRESS_SECONDS = 3.0


class StderrProgress:
    """``deleted 120/400 (2 failed, 31.0 s)`` on stderr, at most every few seconds."""

    def __init__(self, every: float = PROGRESS_SECONDS) -> None:
        self.every = every
        self.started = time.monotonic()
        self.last = self.started
        self.failed = 0

    def __call__(self, done: int, total: int, verdict: Verdict, error: str | None) -> None:
        self.failed += error is not None
        now = time.monotonic()
        if done == total or now - self.last >= self.every:
            self.last = now
            failed = f"{self.failed} failed, " if self.failed else ""
            click.echo(f"deleted {done - self.failed}/{total} ({failed}"
                       f"{now - self.started:.1f} s)", err=True)


@click.command("prune")
@click.option("--config", "config_path", default="lmi-delivery.yml", show_default=True,
              type=click.Path(dir_okay=True, path_type=str),
              help="The lmi-delivery configuration file.")
@click.option("--env", "env_name", required=True, help="The environment to prune.")
@click.option("--capacity-provider", help="Only this capacity provider (config key, name or "
              "ARN). Default: every capacity provider of the config.")
@click.option("--scope", type=click.Choice(["config", "capacity-provider"]),
              help="config: the functions of the config; capacity-provider: every function "
              "bound to the selected providers, whoever owns it, with the same protections. "
              "Default: post_deploy.prune.scope.")
@click.option("--keep", type=click.IntRange(min=1),
              help="Newest versions each function keeps. Default: post_deploy.prune.keep.")
@click.option("--retire-capacity-provider", metavar="NAME",
              help="Delete every version bound to this provider, whoever owns the function, "
              "then wait until AWS has finished deleting them, so the provider can be deleted. "
              "Refused (exit 3) while a version must stay.")
@click.option("--delete-capacity-provider", is_flag=True,
              help="With --retire-capacity-provider: then delete the provider too, retrying "
              "while the versions being deleted still reference it (up to 5 minutes).")
@click.option("--dry-run", is_flag=True, help="Decide and report; delete nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True, help="Report format.")
def prune_command(config_path: str, env_name: str, capacity_provider: str | None,
                  scope: str | None, keep: int | None, retire_capacity_provider: str | None,
                  delete_capacity_provider: bool, dry_run: bool, fmt: str) -> None:
    """Delete old function versions, keeping what is in use.

    Every version bound to the selected capacity providers is kept when an alias routes to it
    (weighted canaries included), an event source mapping invokes it, $LATEST(.PUBLISHED)
    resolves to it, the alias history shows it among the post_deploy.history_keep versions
    that served last (a rollback target), its scaling keeps environments warm on a function
    the config does not scale, it was published while the prune ran, or it is one of the
    newest KEEP of its function besides those. With --scope config (the default) only
    functions of the config are pruned; with --scope capacity-provider every function bound to
    the providers, and the report says what each kept and deleted. Calls are paced to the
    account's Lambda budget (15 requests/s).

    \b
    Examples:
      lmi-delivery prune --env dev --dry-run
      lmi-delivery prune --env prod --keep 5 --format markdown
      lmi-delivery prune --env prod --scope capacity-provider --dry-run
      lmi-delivery prune --env prod --retire-capacity-provider old-pool
      lmi-delivery prune --env prod --retire-capacity-provider old-pool \
          --delete-capacity-provider
    """
    from lmi_delivery.postdeploy.prune.report import render_prune_report
    from lmi_delivery.postdeploy.prune.run import PruneRequest, run_prune

    if delete_capacity_provider and not retire_capacity_provider:
        raise UsageError("--delete-capacity-provider needs --retire-capacity-provider")
    request = PruneRequest(config_path=config_path, env_name=env_name, keep=keep,
                           capacity_provider=capacity_provider,
                           scope="capacity-provider" if scope == "capacity-provider" else
                           "config" if scope == "config" else None,
                           retire_capacity_provider=retire_capacity_provider, dry_run=dry_run,
                           delete_capacity_provider=delete_capacity_provider)
    reporter = None if dry_run else StderrProgress()
    outcome = run_prune(request, dict(os.environ), reporter=reporter,
                        progress=lambda line: click.echo(line, err=True))
    click.echo(render_prune_report(outcome.decision, fmt, dry_run=dry_run), nl=False)
    sys.stdout.flush()
    retired = outcome.retirement
    if retired is not None and retired.error is None:
        done = "deleted" if retired.outcome == "deleted" else \
            "no longer referenced by any version: it can be deleted"
        click.echo(f"capacity provider {retired.capacity_provider} {done}", err=True)
    if outcome.refusal:
        raise GateRefused(outcome.refusal)
    if outcome.errors:
        shown = "\n  ".join(outcome.errors[:10])
        more = f"\n  … and {len(outcome.errors) - 10} more" if len(outcome.errors) > 10 else ""
        raise OperationFailed(f"{len(outcome.errors)} version(s) could not be deleted:\n  "
                              f"{shown}{more}")
    if retired is not None and retired.error is not None:
        raise OperationFailed(retired.error)
