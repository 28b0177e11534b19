"""The ``lmi-delivery`` command: a thin click layer.

Each command parses options into values, builds the services it needs through a factory, calls
one function and renders its result. Errors of the :mod:`lmi_delivery.errors` hierarchy become
exit codes, botocore's too through the one AWS error translator (:mod:`lmi_delivery.aws.errors`,
exit 1); anything else is an internal error, a bug. A traceback is printed only under
``--debug``. Heavy imports (boto3, jsonschema, moto) happen inside the command that needs them,
so ``--help`` starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from lmi_delivery import __version__
from lmi_delivery.cli_options import config_option, context_options, format_option
from lmi_delivery.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    ConfigError,
    GateRefused,
    LmiError,
)

F = TypeVar("F", bound=Callable[..., Any])

@dataclass
class AppState:
    debug: bool = False


class LazyGroup(click.Group):
    """A group whose heavier subcommand groups are imported only when they are invoked."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, cmd.get_short_help_str(60)) for name, cmd in self.commands.items()
                if not cmd.hidden]
        rows += [(name, short) for name, (_, short) in self.lazy.items()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             lazy={
                 "alias": ("lmi_delivery.postdeploy.commands:alias_command",
                           "Move each function's alias to its new Active version."),
                 "apply": ("lmi_delivery.execute.command:apply_command",
                           "Apply a plan build's deploy plan, then post-deploy; never re-plan."),
                 "ci": ("lmi_delivery.github.command:ci_command",
                        "Run one command as a GitHub Actions step (what action.yml runs)."),
                 "codebuild": ("lmi_delivery.codebuild.command:codebuild_group",
                               "Start CodeBuild builds; wait on many with one poller."),
                 "doctor": ("lmi_delivery.doctor.command:doctor_command",
                            "Lint the delivery setup: workflows, buildspecs, names, Terraform."),
                 "gates": ("lmi_delivery.gates.command:gates_group",
                           "Security and LMI validation gates over a Terraform plan."),
                 "init": ("lmi_delivery.init:init_command",
                          "Write a starter lmi-delivery.yml, workflows and Terraform root."),
                 "post-deploy": ("lmi_delivery.postdeploy.commands:post_deploy_command",
                                 "Publish, alias, scale, warm and prune after an apply."),
                 "prune": ("lmi_delivery.postdeploy.prune_command:prune_command",
                           "Delete old versions, keeping the newest and every protected one."),
                 "publish": ("lmi_delivery.postdeploy.commands:publish_command",
                             "Publish a version of each function and wait until Active."),
                 "rollback": ("lmi_delivery.postdeploy.commands:rollback_command",
                              "Move aliases back to the version before the last deploy."),
                 "run": ("lmi_delivery.execute.command:run_command",
                         "Run the pipeline: builds, approval, apply, post-deploy."),
                 "sandbox": ("lmi_delivery.sandbox.command:sandbox_group",
                             "Run the embedded local AWS (LMI, Lambda, CodeBuild)."),
                 "scale": ("lmi_delivery.postdeploy.commands:scale_command",
                           "Set execution environment min/max on the new versions."),
                 "self-check": ("lmi_delivery.selfdist.command:self_check_command",
                                "In a build: refuse unless this is the orchestrator's wheel."),
                 "terraform": ("lmi_delivery.terraform.command:terraform_group",
                               "Install a verified Terraform; plan and apply builds."),
                 "warm": ("lmi_delivery.postdeploy.commands:warm_command",
                          "Prime environments through the alias; manage the warm schedule."),
             })
@click.version_option(__version__, "--version", prog_name="lmi-delivery")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Ship AWS Lambda Managed Instances platforms built with Terraform.

    GitHub orchestrates, CodeBuild executes: gates, a reviewed Terraform plan applied exactly,
    then publish, alias, scale, warm and prune on Lambda.
    """
    state = ctx.ensure_object(AppState)
    state.debug = debug
    if ctx.invoked_subcommand != "self-check":
        from lmi_delivery.selfdist.check import check_in_build

        # Inside a build the orchestrator started, only its own lmi-delivery runs (exit 3).
        check_in_build(os.environ)


@cli.command()
@config_option
def validate(config_path: str) -> None:
    """Check lmi-delivery.yml: schema, references, names and files.

    Every problem is reported as FILE:LINE:COL: message; the exit code is 2 when there is any.
    """
    from lmi_delivery.config import load

    config = load(config_path)
    click.echo(f"{config_path}: ok ({len(config.environments)} environment(s), "
               f"{len(config.functions)} function(s), "
               f"{len(config.capacity_providers)} capacity provider(s))")


@cli.command()
@config_option
@click.option("--env", "env_name", help="Only this environment (default: all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def names(config_path: str, env_name: str | None, fmt: str) -> None:
    """Print every name the naming rule derives, to paste into Terraform."""
    from lmi_delivery.commands.names import names_report

    click.echo(names_report(config_path, env_name, fmt), nl=False)


@cli.command()
@config_option
@click.option("--env", "env_name", required=True, help="The environment to plan for.")
@context_options
@format_option
@click.option("--offline", is_flag=True,
              help="Read no AWS state (automatic when no AWS credentials are found).")
def plan(config_path: str, env_name: str, event: str | None, ref: str | None,
         base_ref: str | None, sha: str | None, event_file: str | None, fmt: str,
         offline: bool) -> None:
    """Show what a run would do, without doing any of it (a dry run).

    The plan lists the five stages (security, validate, plan, apply, post-deploy), whether each
    runs for this event and environment and why, and every step with its resolved parameters:
    CodeBuild projects, Terraform commands with their -chdir and var files, the versions to
    publish, the aliases to move, the scaling to set and what to prune. `lmi-delivery run`
    executes exactly these steps. Nothing is started, changed or deleted.

    \b
    Example: what would a merge to dev do? And a pull request into dev?
      lmi-delivery plan --env dev --event push --ref dev --offline
      lmi-delivery plan --env dev --event pull_request --base-ref dev --format markdown
    """
    from lmi_delivery.commands.plan import PlanRequest, plan_report
    from lmi_delivery.events import ContextFlags

    request = PlanRequest(
        config_path=config_path,
        env_name=env_name,
        flags=ContextFlags(event=event, ref=ref, base_ref=base_ref, sha=sha,
                           event_file=event_file),
        fmt=fmt,
        offline=offline,
    )
    click.echo(plan_report(request, dict(os.environ)), nl=False)


def _report(error: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exception(error)
    if isinstance(error, ConfigError):
        click.echo(str(error), err=True)
        return
    # "refused:" marks a gate's refusal (exit 3) in logs, e.g. inside a CodeBuild build.
    prefix = "refused" if isinstance(error, GateRefused) else "error"
    click.echo(f"{prefix}: {error}", err=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: run the CLI and map errors to DESIGN.md's exit codes."""
    state = AppState()
    args = list(sys.argv[1:] if argv is None else argv)
    state.debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="lmi-delivery", standalone_mode=False, obj=state)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LmiError as exc:
        _report(exc, state.debug)
        sys.exit(exc.exit_code)
    except Exception as exc:
        from lmi_delivery.aws.errors import CREDENTIAL_VARIABLES, is_aws_error, translate

        if is_aws_error(exc):  # AWS refused, or could not be reached: exit 1, not a bug
            error = translate(exc, secrets=[os.environ.get(n, "") for n in CREDENTIAL_VARIABLES])
            error.__cause__ = exc
            _report(error, state.debug)
            sys.exit(error.exit_code)
        if state.debug:
            traceback.print_exception(exc)
        click.echo(f"internal error: {type(exc).__name__}: {exc} "
                   "(run with --debug for the traceback)", err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else 0)
