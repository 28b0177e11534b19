"""``lmi-delivery doctor``: lint the delivery setup of a repository."""

from __future__ import annotations

import click

from lmi_delivery.errors import EXIT_OK, EXIT_REFUSED


@click.command("doctor")
@click.option("--config", "config_path", default="lmi-delivery.yml", show_default=True,
              type=click.Path(dir_okay=True, path_type=str),
              help="The lmi-delivery configuration file; its directory is the repository root.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True, help="Output format.")
@click.pass_context
def doctor_command(ctx: click.Context, config_path: str, fmt: str) -> None:
    """Lint workflows, buildspecs, names, Terraform and docs.

    Each finding is printed as FILE:LINE:COL: RULE message. Errors (LMD000, LMD001, LMD002,
    LMD003, LMD005, LMD006, LMD009, LMD010) exit 3; warnings (LMD004, LMD007, LMD008) are
    printed and exit 0. A configuration that does not load exits 2.

    \b
    LMD001 apply on pull requests        LMD006 Terraform versions that differ
    LMD002 deploy gated on security only LMD007 docs pointing at missing files
    LMD003 names drifting from the rule  LMD008 cd instead of -chdir
    LMD004 mixed generic/env secrets     LMD009 state not shared or not locked
    LMD005 Terraform outside its dir     LMD010 planning again after approval
    """
    from lmi_delivery.config import load
    from lmi_delivery.doctor.diagnose import diagnose
    from lmi_delivery.doctor.report import render, summary
    from lmi_delivery.doctor.rules import is_failing

    findings = diagnose(load(config_path))
    click.echo(render(findings, fmt), nl=False)
    if fmt == "text":
        click.echo(summary(findings), err=True)
    ctx.exit(EXIT_REFUSED if is_failing(findings) else EXIT_OK)
