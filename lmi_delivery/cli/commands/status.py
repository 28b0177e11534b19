"""``lmi-delivery status``: what an environment serves now (read-only); the CLI registers it."""

from __future__ import annotations

import os

import click

from lmi_delivery.cli.options import config_option, format_option


@click.command("status")
@config_option
@click.option("--env", "env_name", required=True, help="The environment to show.")
@format_option
def status_command(config_path: str, env_name: str, fmt: str) -> None:
    """Show what an environment serves now.

    Read-only. Per function: where its alias routes (version and weights), each version's
    state with its requested and applied scaling, the environments still applied to versions
    no alias routes to, and the last deploys from the alias history (commit, plan sha256,
    approver, time). Per capacity provider: versions bound against the quota of 100. Reads
    are made at once within the account's Lambda budget (15 requests/s).
    """
    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.config import load
    from lmi_delivery.postdeploy.history import HistoryStore
    from lmi_delivery.postdeploy.status import read_status

    config = load(config_path)
    env = config.environment(env_name)
    factory = clients_for(config, env, dict(os.environ))
    status = read_status(factory.client("lambda"), config, env,
                         HistoryStore(factory.client("s3"), config, env))
    click.echo(status.render(fmt), nl=False)
