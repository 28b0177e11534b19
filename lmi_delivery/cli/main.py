"""The ``lmi-delivery`` command: a thin click layer.

Each command parses options into values, builds the services it needs through a factory, calls
one function and renders its result. Errors of the :mod:`lmi_delivery.errors` hierarchy become
exit codes, botocore's too through the one AWS error translator (:mod:`lmi_delivery.aws.errors`,
exit 1); anything else is an internal error, a bug. A traceback is printed only under
``--debug``. Heavy imports (boto3, jsonschema, moto) happen inside the command that needs them,
so ``--help`` starts fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from lmi_delivery import __version__
from lmi_delivery.cli import registry
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
    """A group whose commands (:mod:`~lmi_delivery.cli.registry`) are imported only when run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(registry.COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return registry.load(cmd_name) if cmd_name in registry.COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, registry.summary(name)) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
