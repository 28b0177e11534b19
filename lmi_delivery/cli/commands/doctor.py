"""``lmi-delivery doctor``: lint the delivery setup of a repository."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lmi_delivery.errors import EXIT_OK, EXIT_REFUSED, UsageError

if TYPE_CHECKING:
    from lmi_delivery.config.model import Config
    from lmi_delivery.findings import Finding


@click.command("doctor")
@click.option("--config", "config_path", default="lmi-delivery.yml", show_default=True,
              type=click.Path(dir_okay=True, path_type=str),
              help="The lmi-delivery configuration file; its directory is the repository root.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True, help="Output format.")
@click.option("--aws", "aws", is_flag=True,
              help="Check the deployed delivery plane of --env instead of the repository "
                   "(read-only AWS calls).")
@click.option("--env", "env_names", multiple=True, metavar="ENV",
              help="With --aws: the environment to check (repeatable; default: every one).")
@click.option("--repository", metavar="OWNER/REPO",
              help="With --aws: the repository the roles trust (default: github.repository).")
@click.option("--account-id", metavar="ACCOUNT",
              help="With --aws: the account (default: environments.ENV.account_id, else the "
                   "caller's).")
@click.pass_context
def doctor_command(ctx: click.Context, config_path: str, fmt: str, aws: bool,
                   env_names: tuple[str, ...], repository: str | None,
                   account_id: str | None) -> None:
    """Lint the delivery setup; with --aws, what is deployed.

    Each finding is printed as FILE:LINE:COL: RULE message (with --aws: ARN: RULE message).
    Errors exit 3; warnings (LMD004, LMD007, LMD008) are printed and exit 0. A configuration
    that does not load exits 2.

    \b
    LMD000 a file that is not YAML       LMD007 docs pointing at missing files
    LMD001 apply on pull requests        LMD008 cd instead of -chdir
    LMD002 deploy gated on security only LMD009 state not shared or not locked
    LMD003 names drifting from the rule  LMD010 planning again after approval
    LMD004 mixed generic/env secrets     LMD011 installs without pin and hash
    LMD005 Terraform outside its dir     LMD012 one knob, two owners
    LMD006 Terraform versions that differ

    With --aws, each environment's roles (trust and permissions), CodeBuild projects
    (buildspec, role, timeouts, concurrency), buckets (SSE-KMS, versioning, public access,
    policy, lifecycle) and the GitHub OIDC provider are read and compared with what
    `lmi-delivery bootstrap` renders; every difference is a finding at the resource's ARN:

    \b
    LMD013 missing resource              LMD015 CodeBuild project changed
    LMD014 IAM document changed          LMD016 bucket protection changed
    """
    from lmi_delivery.config import load
    from lmi_delivery.doctor.diagnose import diagnose
    from lmi_delivery.doctor.report import render, summary
    from lmi_delivery.doctor.rules import is_failing

    if not aws and (env_names or repository or account_id):
        raise UsageError("--env, --repository and --account-id go with --aws")
    config = load(config_path)
    findings = (_deployed(config, env_names, repository, account_id) if aws
                else diagnose(config))
    click.echo(render(findings, fmt), nl=False)
    if fmt == "text":
        click.echo(summary(findings), err=True)
    ctx.exit(EXIT_REFUSED if is_failing(findings) else EXIT_OK)


def _deployed(config: Config, env_names: tuple[str, ...], repository: str | None,
              account_id: str | None) -> list[Finding]:
    """The ``--aws`` findings of each environment, read with the environment's clients."""
    import os

    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.aws.errors import translated
    from lmi_delivery.bootstrap.plane import resolve_account, resolve_repository
    from lmi_delivery.doctor.aws import diagnose_aws

    repo = resolve_repository(config, repository)
    environ = dict(os.environ)
    findings: list[Finding] = []
    for name in env_names or tuple(config.environments):
        env = config.environment(name)
        factory = clients_for(config, env, environ)
        account = account_id or env.account_id
        if not account:
            with translated("GetCallerIdentity"):
                account = str(factory.client("sts").get_caller_identity()["Account"])
        findings += diagnose_aws(config, env, factory.client, repository=repo,
                                 account=resolve_account(config, env, account))
    return findings
