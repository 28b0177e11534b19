"""Build the services of a run (clients, reporter, approval, setup check) and run the plan."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from lmi_delivery.config import load
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.config.roots import ROOT_VARIABLE
from lmi_delivery.errors import GateRefused, UsageError
from lmi_delivery.execute.executor import Execution, PlanBuild, RunServices, execute_all
from lmi_delivery.plan.events import ContextFlags
from lmi_delivery.plan.prepare import PlanRequest, make_plan, make_plans
from lmi_delivery.plan.steps import AwaitApproval, DeliveryPlan

#: The stages a plan build covers: ``apply --plan-build ID`` skips them and applies that build's.
PLAN_STAGES = ("security", "validate", "plan")

Executor = Callable[[Sequence[DeliveryPlan], RunServices], list[Execution]]

@dataclass(frozen=True)
class RunRequest:
    config_path: str
    env_names: tuple[str, ...]
    flags: ContextFlags
    sandbox: bool = False
    poll_interval: float | None = None
    stop_apply_on_cancel: bool = False
    all_roots: bool = False
    """With ``terraform.roots``: run every root, whatever changed."""


def refuse_unapproved(step: AwaitApproval) -> None:
    """Outside GitHub nothing can prove an approval: an approval environment is refused."""
    raise GateRefused(
        f"environment {step.environment} requires an approved deployment; approvals are "
        "verified by `lmi-delivery ci` in the deploy workflow's job for that GitHub "
        "environment. Nothing was applied.")


def setup_problems(config: Config) -> Sequence[str]:
    """The delivery setup's blocking problems (lmi-delivery doctor's errors)."""
    from lmi_delivery.doctor.diagnose import diagnose
    from lmi_delivery.doctor.report import problems

    return problems(diagnose(config))


def make_services(config: Config, env: Environment, environ: Mapping[str, str],
                  poll_interval: float, log: TextIO) -> RunServices:
    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.codebuild import ConsoleLinks, TextReporter
    from lmi_delivery.selfdist.publish import build_variables

    factory = clients_for(config, env, environ)
    codebuild = factory.client("codebuild")
    return RunServices(
        codebuild=codebuild,
        logs=factory.client("logs"),
        reporter=TextReporter(log),
        links=ConsoleLinks.for_client(codebuild),
        approve=refuse_unapproved,
        check_setup=lambda: setup_problems(config),
        poll_interval=poll_interval,
        # Every build installs this lmi-delivery's own wheel (stored in S3 by its sha256).
        build_env=build_variables(config, factory.client("s3"), environ),
    )


def execute_plans(plans: Sequence[DeliveryPlan], services: RunServices,
                  executor: Executor = execute_all) -> list[Execution]:
    """Execute ``plans``; SIGINT/SIGTERM meanwhile stop every started build (exit 130)."""
    from lmi_delivery.codebuild import cancel_on_signals

    with cancel_on_signals() as cancel:
        services.cancel = cancel
        return executor(plans, services)


def _execute(config: Config, envs: Sequence[Environment], request: RunRequest,
             environ: Mapping[str, str], poll_interval: float, log: TextIO,
             stand_in_commit: str | None = None) -> list[Execution]:
    # Every environment's plans, each environment's roots in apply order.
    plans = [plan for env in envs for plan in make_plans(
        PlanRequest(request.config_path, env.name, request.flags,
                    stand_in_commit=stand_in_commit, all_roots=request.all_roots),
        environ, config=config).plans]
    # One account and region for the run's clients: the first environment's.
    services = replace(make_services(config, envs[0], environ, poll_interval, log),
                       stop_apply_on_cancel=request.stop_apply_on_cancel)
    return execute_plans(plans, services)


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
        # The sandbox's CodeBuild builds its snapshot commit: it stands for the event's commit.
        return _execute(config, envs, request, sandbox_environ,
                        request.poll_interval or SANDBOX_POLL_SECONDS, log, stand_in_commit=commit)


def bind_to_plan_build(codebuild: Any, build_id: str, *, commit: str | None,
                       expected_sha256: str | None, root: str | None = None) -> PlanBuild:
    """The deploy plan build ``build_id`` as CodeBuild recorded it, or a refusal (exit 3).

    ``expected_sha256`` is what the plan job reported to the approver: the record must say the
    same. The apply build checks the record again itself; this refuses early, before anything
    starts, and names the cause.
    """
    from lmi_delivery.terraform.binding import read_plan_build

    record = read_plan_build(codebuild, build_id)
    sha = record.exported.get("LMI_PLAN_SHA256", "")
    problems = []
    if record.status != "SUCCEEDED":
        problems.append(f"its status is {record.status or 'unknown'}")
    if record.exported.get("LMI_PLAN_KIND") != "deploy" or not sha:
        problems.append("it stored no deploy plan (a review or drift build never applies)")
    if commit and record.commit != commit.lower():
        problems.append(f"it planned {record.commit or 'an unknown commit'}, not {commit}")
    if expected_sha256 and sha != expected_sha256.strip().lower():
        problems.append(f"it exported sha256 {sha or '(none)'}, not the reviewed "
                        f"{expected_sha256.strip()}")
    if root is not None and record.variables.get(ROOT_VARIABLE, "") != root:
        problems.append(f"it planned Terraform root "
                        f"{record.variables.get(ROOT_VARIABLE) or '(the only one)'}, not {root}")
    if problems:
        raise GateRefused(f"no deploy plan to apply from build {build_id}: "
                          + "; ".join(problems) + ". Nothing was started.")
    return PlanBuild(build_id, sha)


def apply_only(plan: DeliveryPlan, plan_build: PlanBuild) -> DeliveryPlan:
    """``plan`` with the stages the plan build already ran marked as done by it."""
    reason = f"planned by build {plan_build.id} (sha256 {plan_build.sha256})"
    stages = tuple(replace(s, status="skipped", reason=reason, steps=())
                   if s.name in PLAN_STAGES and s.status != "skipped" else s
                   for s in plan.stages)
    return replace(plan, stages=stages)


@dataclass(frozen=True)
class ApplyRequest:
    config_path: str
    env_name: str
    plan_build_id: str
    flags: ContextFlags
    plan_sha256: str | None = None
    poll_interval: float | None = None
    stop_apply_on_cancel: bool = False


def apply(request: ApplyRequest, environ: Mapping[str, str],
          log: TextIO = sys.stderr) -> Execution:
    """Approval check, the apply build bound to ``plan_build_id``, then post-deploy."""
    config = load(request.config_path)
    if config.terraform.roots:
        raise UsageError("apply --plan-build takes one plan build; with terraform.roots each "
                         "root has its own: use `lmi-delivery run`, or `lmi-delivery ci "
                         "--command apply` with plan-build-id as root=ID pairs")
    env = config.environment(request.env_name)
    poll = request.poll_interval or config.codebuild.poll_interval_seconds
    plan = make_plan(PlanRequest(request.config_path, env.name, request.flags), environ,
                     config=config)
    if plan.stage("apply").status == "skipped":
        raise GateRefused(f"nothing to apply: {plan.stage('apply').reason}")
    services = make_services(config, env, environ, poll, log)
    commit = plan.context.get("sha")
    bound = bind_to_plan_build(services.codebuild, request.plan_build_id,
                               commit=str(commit) if commit else None,
                               expected_sha256=request.plan_sha256)
    services = replace(services, plan_build=bound,
                       stop_apply_on_cancel=request.stop_apply_on_cancel)
    [execution] = execute_plans([apply_only(plan, bound)], services)
    return execution


def write_report(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
