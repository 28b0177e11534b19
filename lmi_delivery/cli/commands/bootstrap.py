"""``lmi-delivery bootstrap``: render one environment's delivery plane, and with ``--apply``
deploy it as a CloudFormation stack."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from lmi_delivery.cli.options import config_option
from lmi_delivery.errors import UsageError

if TYPE_CHECKING:
    from lmi_delivery.bootstrap.model import Plane
    from lmi_delivery.config.model import Config, Environment


@click.command("bootstrap")
@config_option
@click.option("--env", "env_name", required=True, help="The environment to render.")
@click.option("--format", "fmt", type=click.Choice(["cloudformation", "terraform"]),
              default="cloudformation", show_default=True, help="What to render the AWS side as.")
@click.option("--out", "out_dir", metavar="DIR",
              help="Write the files into this existing directory (default: print the "
                   "rendering to stdout, the backend_config lines to stderr).")
@click.option("--github-commands", is_flag=True,
              help="Also render the GitHub side as `gh api` commands (printed instead of the "
                   "template without --out).")
@click.option("--github", "github", is_flag=True,
              help="Apply the GitHub side through the REST API instead of rendering it: the "
                   "environment, its deployment branch and the variables, with the token in "
                   "GITHUB_TOKEN (API at GITHUB_API_URL, default https://api.github.com). "
                   "Running it again changes nothing.")
@click.option("--reviewer-team", metavar="SLUG",
              help="With --github: the team of the organisation that approves applies "
                   "(required for an environment with apply: approval).")
@click.option("--repository", metavar="OWNER/REPO",
              help="The GitHub repository the roles trust (default: github.repository).")
@click.option("--account-id", metavar="ACCOUNT",
              help="The AWS account (default: environments.ENV.account_id; with --apply, "
                   "else the credentials' account).")
@click.option("--apply", "apply", is_flag=True,
              help="Deploy the CloudFormation stack (create or update it), wait for it while "
                   "printing its events, then print its outputs. Without it nothing is "
                   "deployed: the rendering printed is the dry run.")
@click.option("--stack-name", metavar="NAME",
              help="With --apply: the stack's name (default: the naming rule's "
                   "{service}-{env}-delivery).")
@click.option("--no-shared-resources", "no_shared", is_flag=True,
              help="With --apply: CreateSharedResources=false, when another environment's "
                   "stack in this account created the OIDC provider, the buckets and the key.")
@click.option("--template-bucket", metavar="BUCKET",
              help="With --apply: an existing bucket to stage a template over "
                   "CloudFormation's 51,200-byte inline limit in (default: the artifacts "
                   "bucket, once an earlier apply created it).")
def bootstrap_command(config_path: str, env_name: str, fmt: str, out_dir: str | None,
                      github_commands: bool, github: bool, reviewer_team: str | None,
                      repository: str | None,
                      account_id: str | None, apply: bool, stack_name: str | None,
                      no_shared: bool, template_bucket: str | None) -> None:
    """Render an environment's least-privilege AWS and GitHub setup.

    From lmi-delivery.yml and the naming rule: GitHub's OIDC provider; the roles GitHub
    assumes (review: pull requests, and the default branch's drift runs, start only the
    review project; plan: pushes to the environment's branch start only its plan project;
    deploy: the environment's jobs start its plan, apply and post-deploy projects; prune: the
    default branch deletes the environment's old versions); one service role per CodeBuild
    project; the projects with the packaged buildspecs inline (apply one build at a time); the
    artifacts bucket (SSE-KMS, no public access, TLS only, versioned, plans expire and are
    never overwritten) and the state bucket (S3 lockfile), with the backend_config lines to
    paste.

    The repository comes from github.repository or --repository, the account from
    environments.ENV.account_id or --account-id. Resources every environment of an account
    shares (the OIDC provider, the buckets, the key) are created unless
    CreateSharedResources=false (Terraform: create_shared_resources = false). Without
    --apply nothing is deployed: deploy the template with CloudFormation, or apply the
    Terraform file. With --apply the stack is deployed with the credentials of the
    environment (AWS_* variables; exit 1 if the stack fails, naming the failing resource
    and CloudFormation's reason; exit 3 if the credentials are of another account or the
    stack is busy). With --github the GitHub side --github-commands renders is applied
    through the REST API instead (exit 1 naming the call GitHub refused).

    \b
    Example:
      lmi-delivery bootstrap --env dev --repository acme/shop --out infra/bootstrap
      lmi-delivery bootstrap --env prod --format terraform --github-commands --out infra
      lmi-delivery bootstrap --env dev --apply
      GITHUB_TOKEN=... lmi-delivery bootstrap --env prod --github --reviewer-team approvers
    """
    from lmi_delivery.bootstrap import build_plane, render
    from lmi_delivery.bootstrap.plane import resolve_account, resolve_repository
    from lmi_delivery.bootstrap.render import check_out_dir, write
    from lmi_delivery.config import load

    if apply and fmt != "cloudformation":
        raise UsageError("--apply deploys the CloudFormation template: drop --format terraform")
    if not apply and (stack_name or no_shared or template_bucket):
        raise UsageError("--stack-name, --no-shared-resources and --template-bucket need "
                         "--apply")
    if github and (apply or out_dir is not None or github_commands):
        raise UsageError("--github applies the GitHub side through the API: it does not go "
                         "with --apply, --out or --github-commands")
    if reviewer_team and not github:
        raise UsageError("--reviewer-team needs --github (the script reads LMI_REVIEWER_TEAM)")
    if apply and (out_dir is not None or github_commands):
        raise UsageError("--apply deploys the stack and writes no files: render them with "
                         "--out or --github-commands in a run without --apply")
    out = check_out_dir(out_dir) if out_dir is not None else None
    config = load(config_path)
    env = config.environment(env_name)
    if apply:
        _apply(config, env, resolve_repository(config, repository), account_id, stack_name,
               not no_shared, template_bucket)
        return
    plane = build_plane(config, env, repository=resolve_repository(config, repository),
                        account=resolve_account(config, env, account_id))
    if github:
        _apply_github(plane, reviewer_team)
        return
    rendering = render(plane, "terraform" if fmt == "terraform" else "cloudformation",
                       github_commands=github_commands)
    if out is None:
        shown = f"github-{env.name}.sh" if github_commands else rendering.main
        click.echo(rendering.files[shown], nl=False)
        click.echo("backend_config for lmi-delivery.yml (terraform.backend_config):", err=True)
        for line in plane.backend_config:
            click.echo(f"  - {line}", err=True)
        return
    for path in write(rendering, out):
        click.echo(f"wrote {path}")


def _apply_github(plane: Plane, reviewer_team: str | None) -> None:
    from lmi_delivery.bootstrap.github_apply import apply_github, check_reviewer_team
    from lmi_delivery.github.rest import DEFAULT_API_URL, GithubRest

    environ = dict(os.environ)
    token = environ.get("GITHUB_TOKEN", "")
    if not token:
        raise UsageError("--github needs a token with admin rights on the repository in "
                         "GITHUB_TOKEN")
    check_reviewer_team(plane, reviewer_team)
    api = GithubRest(token, environ.get("GITHUB_API_URL") or DEFAULT_API_URL)
    apply_github(plane, api, reviewer_team=reviewer_team, say=click.echo)


def _apply(config: Config, env: Environment, repository: str, account: str | None,
           stack: str | None, shared: bool, template_bucket: str | None) -> None:
    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.bootstrap.apply import apply_plane

    clients = clients_for(config, env, dict(os.environ), assume_role=False)
    plane, deployed = apply_plane(config, env, repository=repository, account=account,
                                  stack=stack, shared=shared, clients=clients,
                                  say=lambda line: click.echo(line, err=True),
                                  template_bucket=template_bucket)
    click.echo(f"stack {deployed.stack} {deployed.outcome}")
    for key, value in sorted(deployed.outputs.items()):
        click.echo(f"{key}: {value}")
    click.echo("backend_config for lmi-delivery.yml (terraform.backend_config):")
    for line in plane.backend_config:
        click.echo(f"  - {line}")
