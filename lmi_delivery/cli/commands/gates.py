"""``lmi-delivery gates security|validate``: the click layer over
:mod:`lmi_delivery.gates.evaluate`.

Exit codes: 0 the gate passed, 3 refused (blocking findings, listed on stderr), 2 bad input
(a file that is not a plan's JSON, a malformed one, or a bad configuration, reported as
``file:line:col`` or ``file: json.path``, with the reason).
The report is written (stdout or ``--output``) before a refusal, so CI can upload the SARIF
of a failed gate. The environment and the date are read here, once, and handed down.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lmi_delivery.gates.render import FORMATS

if TYPE_CHECKING:
    from lmi_delivery.config.model import Config
    from lmi_delivery.gates.evaluate import GateReport
    from lmi_delivery.gates.plan_json import Plan


@click.group("gates")
def gates_group() -> None:
    """Security and LMI validation gates over a Terraform plan.

    Both read the JSON of `terraform show -json PLANFILE`.
    """


def _options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--plan-json", "plan_json", required=True,
                     type=click.Path(dir_okay=False, path_type=str),
                     help="Output of `terraform show -json PLANFILE`."),
        click.option("--config", "config_path", default="lmi-delivery.yml", show_default=True,
                     type=click.Path(path_type=str),
                     help="The lmi-delivery configuration file; its directory is the repo root."),
        click.option("--env", "env_name", help="The environment the plan is for."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
                     show_default=True, help="Report format."),
        click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the report to this file instead of stdout."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@gates_group.command("security")
@_options
def security_command(plan_json: str, config_path: str, env_name: str | None, fmt: str,
                     output: Path | None) -> None:
    """Security rules (IAM, network, secrets, KMS) and configured scanners over a plan.

    Findings at or above gates.security.fail_on refuse the gate (exit 3), unless waived.
    """
    from lmi_delivery.gates.evaluate import security_report

    config, plan = _inputs(config_path, plan_json, env_name)
    report = security_report(config, plan, env=dict(os.environ), today=datetime.date.today(),
                             environment=env_name)
    _emit(report, fmt, output)


@gates_group.command("validate")
@_options
def validate_command(plan_json: str, config_path: str, env_name: str | None, fmt: str,
                     output: Path | None) -> None:
    """Lambda Managed Instances constraints over a plan; any finding refuses (exit 3)."""
    from lmi_delivery.gates.evaluate import validation_report

    config, plan = _inputs(config_path, plan_json, env_name)
    _emit(validation_report(config, plan, environment=env_name), fmt, output)


def _inputs(config_path: str, plan_json: str, env_name: str | None) -> tuple[Config, Plan]:
    from lmi_delivery.config import load
    from lmi_delivery.gates import plan_load

    config = load(config_path)
    if env_name is not None:
        config.environment(env_name)
    return config, plan_load.load(plan_json)


def _emit(report: GateReport, fmt: str, output: Path | None) -> None:
    from lmi_delivery.gates.render import render

    rendered = render(report, fmt)
    if output is None:
        click.echo(rendered, nl=False)
    else:
        output.write_text(rendered, encoding="utf-8")
    report.enforce()
