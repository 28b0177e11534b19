"""``lmi-delivery sandbox``: run the embedded AWS endpoint in the foreground.

``serve`` prints the environment a shell needs (``eval "$(lmi-delivery sandbox serve ...)"``
is not the idea: copy the lines into another terminal), then serves until Ctrl-C or SIGTERM
and exits 0. Also runnable as ``python -m lmi_delivery.sandbox.command serve ...``.

With ``--config`` it provisions what ``run --sandbox`` provisions, with the same code: the
capacity providers, functions and artifacts bucket, the parameters and secrets
``codebuild.secrets`` references (made-up values), and each environment's CodeBuild projects
with the buildspecs shipped in the package. The projects build from the config's own directory:
when that is (inside) a git repository, a build's ``sourceVersion`` is a commit of it, so a
workflow engine can hand the builds the commits of its events.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from lmi_delivery.errors import LmiError, UsageError
from lmi_delivery.sandbox.options import DEFAULT_CONTROL_PLANE_RATE

if TYPE_CHECKING:
    from lmi_delivery.config.model import Config
    from lmi_delivery.sandbox.server import Sandbox


@click.group("sandbox")
def sandbox_group() -> None:
    """The local, AWS-compatible sandbox (moto extended for Lambda Managed Instances)."""


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@sandbox_group.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Provision what `run --sandbox` does for this lmi-delivery.yml: functions, "
                   "capacity providers, the artifacts bucket, secrets, CodeBuild projects "
                   "building from the config's directory.")
@click.option("--seed", "seed_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Seed the resources of this seed file (YAML or JSON).")
@click.option("--env", "env_names", multiple=True,
              help="Environment(s) of --config to seed (default: all).")
@click.option("--publish-delay", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Seconds a published LMI version stays Pending.")
@click.option("--rate-limit", type=click.FloatRange(0, min_open=True), default=None,
              help=f"Lambda control-plane requests/s (AWS: {DEFAULT_CONTROL_PLANE_RATE:g}); "
                   "off when omitted.")
@click.option("--region", default=None, help="Default region (default: the config's, "
                                             "else us-east-1).")
def serve(port: int, config_path: Path | None, seed_path: Path | None,
          env_names: tuple[str, ...], publish_delay: float, rate_limit: float | None,
          region: str | None) -> None:
    """Start the sandbox on 127.0.0.1 and serve until interrupted."""
    try:
        _serve(port, config_path, seed_path, env_names, publish_delay, rate_limit, region)
    except LmiError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(error.exit_code) from None


def _serve(port: int, config_path: Path | None, seed_path: Path | None,
           env_names: tuple[str, ...], publish_delay: float, rate_limit: float | None,
           region: str | None) -> None:
    from lmi_delivery.sandbox.options import SandboxOptions
    from lmi_delivery.sandbox.server import Sandbox

    config = None
    if config_path is not None:
        from lmi_delivery.config import load

        config = load(config_path)
    elif env_names:
        raise UsageError("--env needs --config")
    options = SandboxOptions(region=region or (config.region if config else "us-east-1"),
                             port=port, publish_delay_seconds=publish_delay,
                             rate_limit_per_second=rate_limit)
    sandbox = Sandbox(options)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        sandbox.start()
        if config is not None:
            _provision(sandbox, config, env_names)
        if seed_path is not None:
            sandbox.seed(seed_path)
        click.echo(f"export AWS_ENDPOINT_URL={sandbox.endpoint_url}")
        click.echo("export AWS_ACCESS_KEY_ID=testing")
        click.echo("export AWS_SECRET_ACCESS_KEY=testing")
        click.echo(f"export AWS_DEFAULT_REGION={sandbox.region}")
        if config is not None:
            click.echo(f"# provisioned for {config.path}: CodeBuild projects "
                       f"{', '.join(_projects(sandbox))} building from "
                       f"{config.root.resolve()}", err=True)
        click.echo(f"# sandbox serving on {sandbox.endpoint_url}; Ctrl-C stops it", err=True)
        while True:
            time.sleep(0.2)
    except KeyboardInterrupt:
        click.echo("# sandbox stopped", err=True)
    finally:
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous)


def _provision(sandbox: Sandbox, config: Config, env_names: tuple[str, ...]) -> None:
    """What ``run --sandbox`` provisions (``execute.sandbox_run``), for a long-lived sandbox."""
    from lmi_delivery.execute.sandbox_run import create_projects, provision_secrets

    envs = [config.environment(name) for name in env_names or list(config.environments)]
    sandbox.seed_from_config(config, [env.name for env in envs])
    provision_secrets(sandbox, config, envs)
    codebuild = sandbox.client("codebuild", internal=True)
    for env in envs:
        create_projects(codebuild, config, env, config.root.resolve(), sandbox.account_id)


def _projects(sandbox: Sandbox) -> list[str]:
    names: list[str] = sandbox.client("codebuild", internal=True).list_projects(
        sortBy="NAME")["projects"]
    return names


if __name__ == "__main__":
    sandbox_group()
