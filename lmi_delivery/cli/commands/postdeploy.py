"""Click commands of the post-deploy steps; the CLI registers them.

``post-deploy`` runs the configured steps in order; ``publish``, ``alias``, ``scale`` and
``warm`` run one step each; ``rollback`` moves aliases back. Every command takes ``--dry-run``
(plan only: read-only AWS calls) and ``--format``. Callbacks only parse options, build the
clients in :func:`make_clients` and call one function; errors of
:mod:`lmi_delivery.errors` reach the CLI's exit-code map.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import LmiError
from lmi_delivery.postdeploy.report import PostDeployReport, ProgressLog

F = TypeVar("F", bound=Callable[..., Any])
STEP_FORMATS = click.Choice(["text", "json", "markdown"])

__all__ = ["alias_command", "post_deploy_command", "publish_command", "rollback_command",
           "scale_command", "warm_command"]


def make_clients(config: Config, env: Environment, environ: dict[str, str]) -> Any:
    """The one place post-deploy commands get AWS clients (boto3 is imported lazily)."""
    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.postdeploy.sequence import PostDeployClients

    factory = clients_for(config, env, environ)
    watched = any(f.rollout.alarms for f in config.functions.values())
    return PostDeployClients(lambda_=factory.client("lambda"), events=factory.client("events"),
                             s3=factory.client("s3"),
                             cloudwatch=factory.client("cloudwatch") if watched else None)


def _common(f: F) -> F:
    options = [
        click.option("--config", "config_path", default="lmi-delivery.yml", show_default=True,
                     type=click.Path(dir_okay=False, path_type=str),
                     help="The lmi-delivery configuration file."),
        click.option("--env", "env_name", required=True, help="The environment to act on."),
        click.option("--dry-run", is_flag=True,
                     help="Plan only: read AWS, change nothing, print what would happen."),
        click.option("--format", "fmt", type=STEP_FORMATS, default="text", show_default=True,
                     help="Output format of the report."),
        click.option("--poll-interval", type=click.FloatRange(min=0.01), default=5.0,
                     show_default=True, help="Seconds between state checks while waiting."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _functions(f: F) -> F:
    return click.option("--function", "functions", multiple=True,
                        help="Only this function (config key or name); repeatable.")(f)


def _run(config_path: str, env_name: str, dry_run: bool, fmt: str, poll: float, *,
         steps: tuple[str, ...] | None = None, functions: tuple[str, ...] = (),
         versions_to: str | None = None, report_path: str | None = None,
         root: str = "", exports: str | None = None) -> None:
    from lmi_delivery.config import load, naming
    from lmi_delivery.config.roots import for_root
    from lmi_delivery.plan.release_steps import selected
    from lmi_delivery.postdeploy.history import Provenance
    from lmi_delivery.postdeploy.publish import WaitSettings
    from lmi_delivery.postdeploy.scale import ScaleWait
    from lmi_delivery.postdeploy.sequence import DISPLAY, LIVE, RunOptions, run_post_deploy

    config = load(config_path)
    config = for_root(config, root) if root else config
    env = config.environment(env_name)
    clients = make_clients(config, env, dict(os.environ))
    versions = None
    if versions_to is not None:
        versions = {naming.function_name(config, env, k): versions_to
                    for k in selected(config, env, functions or None)}
    options = RunOptions(
        wait=WaitSettings(delay=poll, progress_every=max(10.0, poll)),
        scale_wait=ScaleWait(delay=poll, progress_every=max(10.0, poll)),
        steps=steps, functions=functions or None, versions=versions,
        provenance=Provenance.from_environ(os.environ))
    reporter = ProgressLog(lambda line: click.echo(line, err=True))
    report: PostDeployReport | None = None
    try:
        report = run_post_deploy(config, env, clients, executor=DISPLAY if dry_run else LIVE,
                                 reporter=reporter, options=options)
    except LmiError as exc:
        partial = exc.context.get("report")
        if report_path and isinstance(partial, PostDeployReport):
            _write(report_path, partial)
        if exports:
            _export(exports, verdict(exc), str(exc))
        raise
    if report_path:
        _write(report_path, report)
    if exports:
        _export(exports, "succeeded", "")
    click.echo(report.render(fmt), nl=False)


def verdict(error: LmiError) -> str:
    """What the build exports as ``LMI_VERDICT``: ``canary-rolled-back`` when a rollout put the
    previous routing back, ``refused`` for a refusal (exit 3), else ``failed``."""
    from lmi_delivery.postdeploy.rollout import RolloutRolledBack

    if isinstance(error, RolloutRolledBack):
        return "canary-rolled-back"
    return "refused" if error.exit_code == 3 else "failed"


def _export(path: str, value: str, detail: str) -> None:
    from lmi_delivery.terraform.build_services import write_exports

    write_exports(Path(path), {"LMI_VERDICT": value, "LMI_VERDICT_DETAIL": detail[:1000]})


def _write(path: str, report: PostDeployReport) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")


@click.command("post-deploy")
@_common
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Also write the JSON report here.")
@click.option("--root", default="", envvar="LMI_DELIVERY_ROOT",
              help="With terraform.roots: only the functions of this root (default: "
                   "$LMI_DELIVERY_ROOT, which the orchestrator sets; unset: every function).")
@click.option("--exports", type=click.Path(dir_okay=False),
              help="Write LMI_VERDICT (succeeded, canary-rolled-back, refused or failed) and "
                   "LMI_VERDICT_DETAIL here as KEY=VALUE lines, for the build to export.")
def post_deploy_command(config_path: str, env_name: str, dry_run: bool, fmt: str,
                        poll_interval: float, report_path: str | None, root: str,
                        exports: str | None) -> None:
    """Run the post-deploy steps: publish, scale, warm, alias, prune.

    The steps run in the order post_deploy.steps lists; `lmi-delivery plan` shows them. The
    new version gets the live one's environments (the cutover's peak checked against the
    capacity provider's MaxVCpuCount, exit 3 over it) and is primed before traffic moves, all
    at once or through the function's rollout; the version left is then scaled down.

    Versions are Active before any alias moves; a Failed version stops the deploy (exit 1) with
    its reason code, and no alias moves. The report of a real run is also stored under the
    artifacts location as post-deploy/last.json. Every alias move is first appended to the
    alias's history (the record `lmi-delivery rollback` reads); when it cannot be written the
    alias does not move (exit 1).
    """
    _run(config_path, env_name, dry_run, fmt, poll_interval, report_path=report_path,
         root=root, exports=exports)


@click.command("publish")
@_common
@_functions
def publish_command(config_path: str, env_name: str, dry_run: bool, fmt: str,
                    poll_interval: float, functions: tuple[str, ...]) -> None:
    """Publish what Terraform deployed; wait until it is Active.

    Exactly the CodeSha256 and RevisionId Terraform left on $LATEST are published.
    """
    _run(config_path, env_name, dry_run, fmt, poll_interval, steps=("publish",),
         functions=functions)


@click.command("alias")
@_common
@_functions
@click.option("--to", "to_version", help="Version to move to (default: the newest Active one).")
def alias_command(config_path: str, env_name: str, dry_run: bool, fmt: str,
                  poll_interval: float, functions: tuple[str, ...],
                  to_version: str | None) -> None:
    """Create or move aliases to an Active version, safely.

    Each move is guarded by the alias's RevisionId; a rollout shifts weights first.
    """
    _run(config_path, env_name, dry_run, fmt, poll_interval, steps=("alias",),
         functions=functions, versions_to=to_version)


@click.command("scale")
@_common
@_functions
def scale_command(config_path: str, env_name: str, dry_run: bool, fmt: str,
                  poll_interval: float, functions: tuple[str, ...]) -> None:
    """Set execution environments min/max; wait until applied.

    On the version the alias points to (or the one being deployed).
    """
    _run(config_path, env_name, dry_run, fmt, poll_interval, steps=("scale",),
         functions=functions)


@click.command("warm")
@_common
@_functions
def warm_command(config_path: str, env_name: str, dry_run: bool, fmt: str,
                 poll_interval: float, functions: tuple[str, ...]) -> None:
    """Prime each alias with warm-up calls; manage the warm-up rule.

    On Lambda Managed Instances this primes runtimes only: the minimum execution environments
    (`lmi-delivery scale`) are what keep a function warm.
    """
    _run(config_path, env_name, dry_run, fmt, poll_interval, steps=("warm",),
         functions=functions)


@click.command("rollback")
@_common
@_functions
@click.option("--to", "to_version", metavar="VERSION",
              help="Version number to roll back to, instead of the one the history shows.")
def rollback_command(config_path: str, env_name: str, dry_run: bool, fmt: str,
                     poll_interval: float, functions: tuple[str, ...],
                     to_version: str | None) -> None:
    """Move aliases back to the version that served before.

    To the version each alias served before the last deploy, from the alias history that
    every move appends to before it is made (history/<function>/<alias>.json under the
    artifacts location); a second rollback goes one more deploy back. Refused (exit 3), with
    nothing moved, when the history shows no such version, when the target no longer exists
    or is not Active, or when it is the current version: then choose one with --to VERSION (a
    version number; $LATEST or an alias is invalid, exit 2). --dry-run makes the same checks.
    """
    from lmi_delivery.config import load
    from lmi_delivery.postdeploy.history import Provenance
    from lmi_delivery.postdeploy.rollback import check_version, rollback

    check_version(to_version)
    config = load(config_path)
    env = config.environment(env_name)
    reporter = ProgressLog(lambda line: click.echo(line, err=True))
    report = rollback(config, env, make_clients(config, env, dict(os.environ)),
                      functions=functions or None, to=to_version, dry_run=dry_run,
                      reporter=reporter, provenance=Provenance.from_environ(os.environ))
    click.echo(report.render(fmt), nl=False)
