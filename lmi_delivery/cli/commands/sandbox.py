"""``lmi-delivery sandbox``: run the embedded AWS endpoint in the foreground.

``serve`` prints the environment a shell needs (``eval "$(lmi-delivery sandbox serve ...)"``
is not the idea: copy the lines into another terminal), then serves until Ctrl-C or SIGTERM
and exits 0. Also runnable as ``python -m lmi_delivery.cli.commands.sandbox serve ...``.

With ``--config`` it provisions what ``run --sandbox`` provisions, with the same code: the
capacity providers, functions and artifacts bucket, the parameters and secrets
``codebuild.secrets`` references (made-up values), and each environment's CodeBuild projects
with the buildspecs shipped in the package. The projects build from the config's own directory:
when that is (inside) a git repository, a build's ``sourceVersion`` is a commit of it, so a
workflow engine can hand the builds the commits of its events.

Everything the Python API (``SandboxOptions``) can inject is a flag too, so that any client (and
any outside test) can: ``--fault OPERATION=KIND[:RATE]`` and ``--latency OPERATION=MS[±JITTER]``
(both repeatable), the delays of publishing, deleting, scaling and capacity providers, whether
``Deleting`` versions count against the quota, and the rate limit.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from lmi_delivery.errors import LmiError, UsageError
from lmi_delivery.sandbox.options import (
    DEFAULT_CONTROL_PLANE_RATE,
    FAULT_KINDS,
    FaultRates,
    Latency,
    parse_faults,
    parse_latency,
)

if TYPE_CHECKING:
    from lmi_delivery.config.model import Config
    from lmi_delivery.sandbox.server import Sandbox


@click.group("sandbox")
def sandbox_group() -> None:
    """Run the embedded local AWS (LMI, Lambda, CodeBuild, S3).

    An AWS-compatible endpoint: moto extended for Lambda Managed Instances.
    """


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGTERM, or SIGINT even where the shell started the server with it ignored (a background
    job): both stop the sandbox as Ctrl-C does."""
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
@click.option("--delete-delay", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Seconds a deleted LMI version (or function, or capacity provider) stays "
                   "Deleting, still read and listed.")
@click.option("--deleting-versions-count/--deleting-versions-free", default=True,
              show_default=True,
              help="Whether Deleting versions still count against the 100 versions a capacity "
                   "provider may hold (AWS does not document it).")
@click.option("--scaling-delay", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Seconds a function scaling config stays Requested before it is Applied.")
@click.option("--capacity-provider-delay", type=click.FloatRange(0), default=0.0,
              show_default=True,
              help="Seconds a created or updated capacity provider stays Pending.")
@click.option("--fault", "faults", multiple=True, metavar="OPERATION=KIND[:RATE]",
              callback=lambda ctx, param, value: _faults(value),
              help=f"Inject a fault into calls of OPERATION (an API name such as "
                   f"PublishVersion, service:Operation, service:* or *): KIND one of "
                   f"{', '.join(FAULT_KINDS)}, RATE the share of calls (0..1, default 1). "
                   "Repeatable.")
@click.option("--latency", "latency", multiple=True, metavar="OPERATION=MS[±JITTER]",
              callback=lambda ctx, param, value: _latency(value),
              help="Hold the answers of OPERATION (as --fault names it) MS milliseconds, give "
                   "or take up to JITTER (also written +-), throttles included: AWS answers a "
                   "control-plane call in roughly 100-300 ms. The most specific rule wins. "
                   "Repeatable.")
@click.option("--fault-seed", type=int, default=0, show_default=True,
              help="Seed of the random draws (faults, latency jitter, weighted alias routing).")
@click.option("--region", default=None, help="Default region (default: the config's, "
                                             "else us-east-1).")
@click.option("--iam", is_flag=True,
              help="Enforce IAM: authorize every call against its caller's policies (the "
                   "credentials printed here stay the account's own, unrestricted); "
                   "AssumeRoleWithWebIdentity checks the role's trust policy against the "
                   "token's claims (the token's signature is not checked); builds run with "
                   "their project's service role.")
@click.option("--repository", "repositories", multiple=True, metavar="URL=DIR",
              callback=lambda _c, _p, v: _repositories(v),
              help="Builds of a project whose source is the clone URL build from DIR (a "
                   "project made by `bootstrap --apply`, say). With --config, the config's "
                   "github.repository maps to the config's directory. Repeatable.")
def serve(port: int, config_path: Path | None, seed_path: Path | None,
          env_names: tuple[str, ...], publish_delay: float, rate_limit: float | None,
          delete_delay: float, deleting_versions_count: bool, scaling_delay: float,
          capacity_provider_delay: float, faults: dict[str, FaultRates],
          latency: dict[str, Latency], fault_seed: int, region: str | None, iam: bool,
          repositories: dict[str, str]) -> None:
    """Start the sandbox on 127.0.0.1 and serve until interrupted.

    \b
    Examples:
      lmi-delivery sandbox serve --config lmi-delivery.yml --publish-delay 2
      lmi-delivery sandbox serve --fault PutFunctionScalingConfig=500:1.0 --delete-delay 2
      lmi-delivery sandbox serve --rate-limit 15 --fault 'lambda:*=throttle:0.1'
      lmi-delivery sandbox serve --rate-limit 15 --latency '*=150+-30'
      lmi-delivery sandbox serve --iam --config lmi-delivery.yml
    """
    knobs = {"iam": iam, "repositories": repositories,
             "publish_delay_seconds": publish_delay, "rate_limit_per_second": rate_limit,
             "delete_delay_seconds": delete_delay,
             "deleting_counts_against_quota": deleting_versions_count,
             "scaling_delay_seconds": scaling_delay,
             "capacity_provider_delay_seconds": capacity_provider_delay,
             "faults": faults, "latency": latency, "seed": fault_seed}
    try:
        _serve(port, config_path, seed_path, env_names, knobs, region)
    except LmiError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(error.exit_code) from None


def _faults(specs: tuple[str, ...]) -> dict[str, FaultRates]:
    try:
        return parse_faults(specs)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--fault'") from None


def _repositories(specs: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for spec in specs:
        url, sep, directory = spec.rpartition("=")
        if not sep or not url or not Path(directory).is_dir():
            raise click.BadParameter(f"{spec!r}: expected URL=DIR with an existing DIR",
                                     param_hint="'--repository'")
        found[url] = str(Path(directory).resolve())
    return found


def _latency(specs: tuple[str, ...]) -> dict[str, Latency]:
    try:
        return parse_latency(specs)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--latency'") from None


def _serve(port: int, config_path: Path | None, seed_path: Path | None,
           env_names: tuple[str, ...], knobs: dict[str, Any], region: str | None) -> None:
    from lmi_delivery.sandbox.options import SandboxOptions
    from lmi_delivery.sandbox.server import Sandbox

    config = None
    if config_path is not None:
        from lmi_delivery.config import load

        config = load(config_path)
    elif env_names:
        raise UsageError("--env needs --config")
    if config is not None and config.github.repository:
        url = f"https://github.com/{config.github.repository}.git"
        knobs["repositories"] = {url: str(config.root.resolve()), **knobs["repositories"]}
    options = SandboxOptions(region=region or (config.region if config else "us-east-1"),
                             port=port, **knobs)
    sandbox = Sandbox(options)
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
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
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
