"""``post-deploy``: publish → alias → scale → warm → prune, in the order the config lists.

Each step plans (read-only) and then executes; under ``dry_run`` only the plans are made and
reported. Values flow forward: the versions the publish step creates are what the alias, scale
and warm steps target. Whatever happens, the report says what was done; on failure the partial
report travels in the error's ``context["report"]``. After a real run that moved aliases, the
report is stored as the deploy record ``rollback`` reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.errors import translated
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import LmiError
from lmi_delivery.postdeploy import alias, publish, scale, schedule, warm
from lmi_delivery.postdeploy.canary import CanaryClock
from lmi_delivery.postdeploy.report import PostDeployReport, Reporter, store_last

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class PostDeployClients:
    lambda_: LambdaClient
    events: EventBridgeClient | None = None
    s3: S3Client | None = None
    """Where the deploy record goes (``codebuild.artifacts``); ``None`` keeps no record."""
    cloudwatch: Any = None
    """Reads the alarms a canary watches; ``None`` when no function has a canary."""


@dataclass(frozen=True)
class PruneHooks:
    """The pruner's entry points (``lmi_delivery.postdeploy.prune``), injectable for tests."""

    plan: Callable[..., Any]
    execute: Callable[..., Any]

    @classmethod
    def default(cls) -> PruneHooks:
        from lmi_delivery.postdeploy.prune import execute_prune, plan_prune

        return cls(plan_prune, execute_prune)


@dataclass(frozen=True)
class RunOptions:
    wait: publish.WaitSettings = field(default_factory=publish.WaitSettings)
    scale_wait: scale.ScaleWait = field(default_factory=scale.ScaleWait)
    workers: int = 4
    headroom: publish.Headroom | None = None
    """``ensure_headroom``; ``None`` uses the pruner's."""
    prune: PruneHooks | None = None
    """``None`` uses the pruner's."""
    run_id: str | None = None
    steps: tuple[str, ...] | None = None
    """Steps to run, in order; ``None`` runs ``config.post_deploy.steps``."""
    functions: tuple[str, ...] | None = None
    """Function keys or names to act on; ``None`` acts on every configured function."""
    versions: Mapping[str, str] | None = None
    """Function name → version to move aliases to when no publish step runs."""
    canary_clock: CanaryClock | None = None
    """Time for canaries (tests pass a fake); ``None`` is real time."""


def run_post_deploy(config: Config, env: Environment, clients: PostDeployClients, *,
                    dry_run: bool, reporter: Reporter,
                    options: RunOptions | None = None) -> PostDeployReport:
    run = _Run(config, env, clients, dry_run, reporter, options or RunOptions())
    try:
        with translated():  # an AWS failure of any step still leaves the partial report
            for step in run.options.steps or config.post_deploy.steps:
                run.report.steps.append(step)
                getattr(run, f"step_{step}")()
        run.report.status = "planned" if dry_run else "succeeded"
    except LmiError as exc:
        run.report.status, run.report.error = "failed", str(exc)
        run.report.events = list(reporter.events)
        exc.context["report"] = run.report
        raise
    run.report.events = list(reporter.events)
    if not dry_run and run.moved and clients.s3 is not None:
        run.store_record()
    return run.report


class _Run:
    def __init__(self, config: Config, env: Environment, clients: PostDeployClients,
                 dry_run: bool, reporter: Reporter, options: RunOptions) -> None:
        self.config, self.env, self.clients = config, env, clients
        self.lam = clients.lambda_
        self.dry_run, self.reporter, self.options = dry_run, reporter, options
        self.report = PostDeployReport(config.service, env.name, dry_run)
        self.started = datetime.now(UTC)
        self.versions: dict[str, str] | None = dict(options.versions or {}) or None
        """Function name → the version the deploy publishes/moves to (``new`` in a dry run)."""
        self.moved = False
        self.run_id = options.run_id or self.started.strftime("%Y%m%dT%H%M%S")
        self.only = options.functions

    def step_publish(self) -> None:
        plan = publish.plan_publish(self.lam, self.config, self.env, functions=self.only)
        if self.dry_run:
            self.versions = {t.function: alias.NEW for t in plan.targets}
            for t in plan.targets:
                self.report.function(t.function).published_version = alias.NEW
                self.reporter.say(f"would {t.step.describe()}")
            self.report.notes.append("dry run: quota headroom is checked (and made) at run time")
            return
        done = publish.execute_publish(self.lam, plan, self.config, self.env,
                                       reporter=self.reporter, wait=self.options.wait,
                                       headroom=self.options.headroom,
                                       workers=self.options.workers)
        self.versions = {p.function: p.version for p in done}
        for p in done:
            self.report.function(p.function).published_version = p.version

    def step_alias(self) -> None:
        plan = alias.plan_alias(self.lam, self.config, self.env, functions=self.only,
                                versions=self.versions)
        for move in plan.moves:
            entry = self.report.function(move.step.function)
            entry.alias, entry.alias_from = move.step.alias, move.step.from_version
            entry.alias_to, entry.alias_action = move.step.to_version, "planned"
        if self.dry_run:
            for move in plan.moves:
                self.reporter.say(f"would {move.step.describe()}")
            return
        for result in alias.execute_alias(self.lam, plan, reporter=self.reporter,
                                          cloudwatch=self.clients.cloudwatch,
                                          canary_clock=self.options.canary_clock):
            self.report.function(result.function).alias_action = result.action
        self.versions = {m.step.function: m.step.to_version for m in plan.moves}
        self.moved = True

    def step_scale(self) -> None:
        plan = scale.plan_scale(self.lam, self.config, self.env, functions=self.only,
                                versions=self.versions)
        for step in plan.steps:
            self.report.function(step.function).scaling = {"min": step.min, "max": step.max}
        if self.dry_run:
            for step in plan.steps:
                self.reporter.say(f"would {step.describe()}")
            return
        scale.execute_scale(self.lam, plan, reporter=self.reporter,
                            wait=self.options.scale_wait)

    def step_warm(self) -> None:
        plan = warm.plan_warm(self.lam, self.config, self.env, functions=self.only,
                              versions=self.versions)
        if self.dry_run:
            for step in plan.steps:
                self.reporter.say(f"would {step.describe()}")
        else:
            results = warm.execute_warm(self.lam, plan, reporter=self.reporter,
                                        run_id=self.run_id)
            for name, invocations in results.items():
                self.report.function(name).warm = invocations
        self.step_schedules()

    def step_schedules(self) -> None:
        keys = [k for k in publish.selected(self.config, self.env, self.only)
                if (f := self.config.functions[k]).warm and f.warm.schedule]
        if keys and self.clients.events is None:
            self.report.notes.append("no EventBridge client: warm-up schedules not managed")
            return
        for key in keys:
            assert self.clients.events is not None
            change = schedule.plan_schedule(self.clients.events, self.lam, self.config,
                                            self.env, key)
            if change is None:
                continue
            self.report.function(change.function).schedule = change.describe()
            if self.dry_run:
                self.reporter.say(f"would {change.describe()}")
            else:
                schedule.execute_schedule(self.clients.events, self.lam, change,
                                          reporter=self.reporter)

    def step_prune(self) -> None:
        hooks = self.options.prune or PruneHooks.default()
        # Planned now, after this run's publishes: they count among the newest versions kept;
        # anything published from here on is protected as concurrent by the pruner.
        decision = hooks.plan(self.lam, self.config, self.env)
        decision = hooks.execute(self.lam, decision, dry_run=self.dry_run,
                                 workers=self.options.workers)
        deleted = len(getattr(decision, "deletions", ()))
        failed = len(getattr(decision, "failures", ()))
        kept = len(getattr(decision, "kept", ()))
        verb = "would delete" if self.dry_run else "deleted"
        self.report.prune = {
            "deleted": deleted, "kept": kept, "failed": failed,
            "summary": f"{verb} {deleted} version(s), kept {kept}"
                       + (f", {failed} failed" if failed else ""),
        }
        self.reporter.record("prune", "*", str(deleted),
                             message=f"prune: {self.report.prune['summary']}")

    def store_record(self) -> None:
        assert self.clients.s3 is not None
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            where = store_last(self.clients.s3, self.config, self.env, self.report)
        except (BotoCoreError, ClientError) as error:
            bucket = naming.artifact_location(self.config).bucket
            self.report.notes.append(f"could not store the deploy record in {bucket}: {error}; "
                                     "rollback falls back to the newest older Active version")
            return
        self.report.notes.append(f"deploy record stored at {where}")
