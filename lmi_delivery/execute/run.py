"""Build the services of a run (clients, reporter, approval, setup check) and run the plan."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from lmi_delivery.commands.plan import PlanRequest, make_plan
from lmi_delivery.config import load
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import GateRefused, UsageError
from lmi_delivery.events import ContextFlags
from lmi_delivery.execute.executor import Execution, RunServices, execute_all
from lmi_delivery.steps import AwaitApproval, DeliveryPlan

Executor = Callable[[Sequence[DeliveryPlan], RunServices], list[Execution]]

@dataclass(frozen=True)
class RunRequest:
    config_path: str
    env_names: tuple[str, ...]
    flags: ContextFlags
    sandbox: bool = False
    poll_interval: float | None = None


def refuse_unapproved(step: AwaitApproval) -> None:
    """Outside GitHub nothing can prove an approval: an approval environment is refused."""
    raise GateRefused(
        f"environment {step.environment} requires an approved deployment; approvals are "
        "verified by `lmi-delivery ci` in the deploy workflow's job for that GitHub "
        "environment. Nothing was applied.")


def setup_problems(config: Config) -> Sequence[str]:
    """The delivery setup's blocking problems (lmi-delivery doctor's errors)."""
    from lmi_delivery.doctor.runner import diagnose

    return [str(f) for f in diagnose(config) if f.severity == "error"]


def make_services(config: Config, env: Environment, environ: Mapping[str, str],
                  poll_interval: float, log: TextIO) -> RunServices:
    from lmi_delivery.aws import AwsSettings, ClientFactory
    from lmi_delivery.codebuild import ConsoleLinks, TextReporter

    settings = AwsSettings.from_environ(environ, region=config.region_for(env),
                                        role_arn=env.role_arn)
    factory = ClientFactory(settings)
    codebuild = factory.client("codebuild")
    return RunServices(
        codebuild=codebuild,
        logs=factory.client("logs"),
        reporter=TextReporter(log),
        links=ConsoleLinks.for_client(codebuild),
        approve=refuse_unapproved,
        check_setup=lambda: setup_problems(config),
        poll_interval=poll_interval,
    )


def execute_plans(plans: Sequence[DeliveryPlan], services: RunServices,
                  executor: Executor = execute_all) -> list[Execution]:
    """Execute ``plans``; SIGINT/SIGTERM meanwhile stop every started build (exit 130)."""
    from lmi_delivery.codebuild import cancel_on_signals

    with cancel_on_signals() as cancel:
        services.cancel = cancel
        return executor(plans, services)


def _execute(config: Config, envs: Sequence[Environment], request: RunRequest,
             environ: Mapping[str, str], poll_interval: float, log: TextIO) -> list[Execution]:
    plans = [make_plan(PlanRequest(request.config_path, env.name, request.flags), environ,
                       config=config) for env in envs]
    # One account and region for the run's clients: the first environment's.
    return execute_plans(plans, make_services(config, envs[0], environ, poll_interval, log))


def run(request: RunRequest, environ: Mapping[str, str],
        log: TextIO = sys.stderr) -> list[Execution]:
    config = load(request.config_path)
    envs = [config.environment(name) for name in request.env_names]
    if len({(config.region_for(e), e.account_id, e.role_arn) for e in envs}) > 1:
        raise UsageError("environments of one run must share account, region and role; "
                         "run them separately (e.g. a GitHub Actions matrix)")
    poll = request.poll_interval or config.codebuild.poll_interval_seconds
    if not request.sandbox:
        return _execute(config, envs, request, environ, poll, log)

    from lmi_delivery.execute.sandbox_run import SANDBOX_POLL_SECONDS, sandboxed

    def say(line: str) -> None:
        print(line, file=log, flush=True)

    with sandboxed(config, envs, environ, say) as (sandbox_environ, commit):
        flags = replace(request.flags, sha=request.flags.sha or commit)
        return _execute(config, envs, replace(request, flags=flags), sandbox_environ,
                        request.poll_interval or SANDBOX_POLL_SECONDS, log)


def write_report(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
