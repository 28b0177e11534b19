"""``post-deploy``: the planner's post-deploy steps, in order, carried out by one executor.

By default capacity comes first, then traffic: publish → the capacity headroom gate → scale (the
new version to at least the live version's applied environments, waited for) → warm (the new
version, by qualifier) → alias (all at once or through a rollout) → scale the versions left down
→ prune. A failure before the alias step leaves traffic where it was.

The steps are :func:`lmi_delivery.plan.release_steps.post_deploy_steps`, the very steps the
dry run shows, grouped by kind in the order ``post_deploy.steps`` lists. Each group is first
resolved read-only against AWS (what each publish publishes, where each alias points, which
versions a prune deletes), then handed to the executor: :class:`LiveExecutor` changes AWS;
:class:`DisplayExecutor` (``--dry-run``) only says what it would do. No step carries a dry-run
flag. Values flow forward: the versions the publish steps create are what the ``new`` of the
alias, scale and warm steps resolves to. Where the aliases point is read while the new versions
start (the rate budget is idle then; a move from a stale read is refused by AWS and stops the
alias step, as any concurrent change). Whatever happens, the report says what was done; on
failure the partial report travels in the error's ``context["report"]``.

With an S3 client, every alias move first appends its entry to the alias's history
(:mod:`lmi_delivery.postdeploy.history`): when the bucket cannot be written, the alias does not
move and post-deploy fails (exit 1) with traffic where it was; there is no move without a
record. The prune step reads the same histories to keep the way back. After a live run that
moved (or began to move) aliases, the report is also stored as ``post-deploy/last.json``, on
failure too; when that copy cannot be stored, the report says so (the histories hold the moves).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from lmi_delivery.aws.errors import translated
from lmi_delivery.aws.fanout import WORKERS, fan_out, in_background
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import LmiError
from lmi_delivery.plan.headroom import CutoverPeak
from lmi_delivery.plan.release_steps import NEW, post_deploy_steps, selected
from lmi_delivery.plan.steps import (
    RUNNER,
    AliasMove,
    CapacityCheck,
    Prune,
    Publish,
    Scale,
    ScaleDown,
    Step,
    Warm,
)
from lmi_delivery.postdeploy import alias, headroom, publish, scale, schedule, warm
from lmi_delivery.postdeploy.history import HistoryStore, Provenance, recorder
from lmi_delivery.postdeploy.report import PostDeployReport, ProgressLog, WarmInvocation, store_last
from lmi_delivery.postdeploy.rollout import RolloutClock

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class PostDeployClients:
    lambda_: LambdaClient
    events: EventBridgeClient | None = None
    s3: S3Client | None = None
    """Where the alias histories and the deploy record go (``codebuild.artifacts``); ``None``
    keeps no history (library use only: the CLI always has one)."""
    cloudwatch: Any = None
    """Reads the alarms a rollout watches; ``None`` when no rollout watches alarms."""


@dataclass(frozen=True)
class PruneHooks:
    """The pruner's entry points (``lmi_delivery.postdeploy.prune.api``), injectable for tests."""

    plan: Callable[..., Any]
    execute: Callable[..., Any]

    @classmethod
    def default(cls) -> PruneHooks:
        from lmi_delivery.postdeploy.prune.api import execute_prune, plan_prune

        return cls(plan_prune, execute_prune)


@dataclass(frozen=True)
class RunOptions:
    wait: publish.WaitSettings = field(default_factory=publish.WaitSettings)
    scale_wait: scale.ScaleWait = field(default_factory=scale.ScaleWait)
    workers: int = WORKERS
    """Threads that keep AWS calls in flight (reads, room before a publish, deletions); the
    shared rate budget, not this number, sets the rate."""
    headroom: publish.Headroom | None = None
    """``ensure_headroom``; ``None`` uses the pruner's."""
    prune: PruneHooks | None = None
    """``None`` uses the pruner's."""
    run_id: str | None = None
    steps: tuple[str, ...] | None = None
    """Kinds of steps to run, in order; ``None`` runs ``config.post_deploy.steps``."""
    where: str = RUNNER
    """Where the steps run (``codebuild:<project>`` inside the post-deploy build)."""
    functions: tuple[str, ...] | None = None
    """Function keys or names to act on; ``None`` acts on every configured function."""
    versions: Mapping[str, str] | None = None
    """Function name → version to move aliases to when no publish step runs."""
    canary_clock: RolloutClock | None = None
    """Time for rollouts (tests pass a fake); ``None`` is real time."""
    provenance: Provenance = field(default_factory=Provenance)
    """Commit, plan sha256 and approver written into every history entry of the run."""


def run_post_deploy(config: Config, env: Environment, clients: PostDeployClients, *,
                    executor: Executor, reporter: ProgressLog,
                    options: RunOptions | None = None) -> PostDeployReport:
    """Carry out (or, with :data:`DISPLAY`, only show) the post-deploy steps of ``env``."""
    options = options or RunOptions()
    steps = post_deploy_steps(config, env, options.where, kinds=options.steps,
                              functions=options.functions)
    run = _Run(config, env, clients, executor, reporter, options, steps)
    number = itertools.count(1)
    try:
        with translated():  # an AWS failure of any step still leaves the partial report
            for kind, grouped in itertools.groupby(steps, key=lambda s: s.kind):
                group = tuple(grouped)
                for step in group:
                    reporter.say(f"step {next(number)}/{len(steps)}: {step.describe()}")
                run.report.steps.append(kind)
                run.group(kind, group)
        run.report.status = "succeeded" if executor.live else "planned"
    except LmiError as exc:
        run.report.status, run.report.error = "failed", str(exc)
        run.report.events = list(reporter.events)
        if executor.live and run.moved and clients.s3 is not None:
            run.store_record()
        exc.context["report"] = run.report
        raise
    run.report.events = list(reporter.events)
    if executor.live and run.moved and clients.s3 is not None:
        run.store_record()
    return run.report


class Executor(Protocol):
    """Carries out resolved post-deploy steps, or only says what it would do."""

    live: bool

    def publish(self, run: _Run, plan: publish.PublishPlan) -> dict[str, str]:
        """Function name → the version published."""

    def alias(self, run: _Run, plan: alias.AliasPlan) -> dict[str, str]:
        """Function name → what happened to its alias."""

    def scale(self, run: _Run, plan: scale.ScalePlan) -> None: ...

    def headroom(self, run: _Run, peaks: Sequence[CutoverPeak]) -> None:
        """Refuse (exit 3) a peak over its provider's ``MaxVCpuCount``."""

    def warm(self, run: _Run, plan: warm.WarmPlan) -> dict[str, list[WarmInvocation]]:
        """Function name → the warm-up invocations made."""

    def schedule(self, run: _Run, change: schedule.ScheduleChange) -> None: ...

    def prune(self, run: _Run, decision: Any) -> Any:
        """The decision as carried out."""


class LiveExecutor:
    """Changes AWS: publishes, moves aliases, scales, invokes, deletes."""

    live = True

    def publish(self, run: _Run, plan: publish.PublishPlan) -> dict[str, str]:
        done = publish.execute_publish(run.lam, plan, run.config, run.env,
                                       reporter=run.reporter, wait=run.options.wait,
                                       headroom=run.options.headroom,
                                       workers=run.options.workers,
                                       meanwhile=run.read_aliases_meanwhile,
                                       history=run.history)
        return {p.function: p.version for p in done}

    def alias(self, run: _Run, plan: alias.AliasPlan) -> dict[str, str]:
        results = alias.execute_alias(run.lam, plan, reporter=run.reporter,
                                      cloudwatch=run.clients.cloudwatch,
                                      canary_clock=run.options.canary_clock,
                                      before_move=run.before_move)
        return {r.function: r.action for r in results}

    def scale(self, run: _Run, plan: scale.ScalePlan) -> None:
        scale.execute_scale(run.lam, plan, reporter=run.reporter, wait=run.options.scale_wait)

    def headroom(self, run: _Run, peaks: Sequence[CutoverPeak]) -> None:
        for peak in peaks:
            run.reporter.record("headroom", peak.capacity_provider, f"{peak.peak_vcpus:g}",
                                message=peak.describe())
            headroom.enforce(peak)

    def warm(self, run: _Run, plan: warm.WarmPlan) -> dict[str, list[WarmInvocation]]:
        return dict(warm.execute_warm(run.lam, plan, reporter=run.reporter, run_id=run.run_id))

    def schedule(self, run: _Run, change: schedule.ScheduleChange) -> None:
        assert run.clients.events is not None
        schedule.execute_schedule(run.clients.events, run.lam, change, reporter=run.reporter)

    def prune(self, run: _Run, decision: Any) -> Any:
        return run.prune_hooks.execute(run.lam, decision, workers=run.options.workers)


class DisplayExecutor:
    """Changes nothing: says what each resolved step would do (``--dry-run``)."""

    live = False

    def _say(self, run: _Run, steps: Sequence[Step]) -> None:
        for step in steps:
            run.reporter.say(f"would {step.describe()}")

    def publish(self, run: _Run, plan: publish.PublishPlan) -> dict[str, str]:
        self._say(run, plan.steps)
        run.report.notes.append("dry run: quota headroom is checked (and made) at run time")
        return {t.function: NEW for t in plan.targets}

    def alias(self, run: _Run, plan: alias.AliasPlan) -> dict[str, str]:
        self._say(run, plan.steps)
        return {m.step.function: "planned" for m in plan.moves}

    def scale(self, run: _Run, plan: scale.ScalePlan) -> None:
        self._say(run, plan.steps)

    def headroom(self, run: _Run, peaks: Sequence[CutoverPeak]) -> None:
        for peak in peaks:
            verdict = "" if peak.fits else "; would refuse the deploy (exit 3)"
            run.reporter.say(f"would check {peak.describe()}{verdict}")

    def warm(self, run: _Run, plan: warm.WarmPlan) -> dict[str, list[WarmInvocation]]:
        self._say(run, [t.step for t in plan.targets])
        return {}

    def schedule(self, run: _Run, change: schedule.ScheduleChange) -> None:
        run.reporter.say(f"would {change.describe()}")

    def prune(self, run: _Run, decision: Any) -> Any:
        return decision


LIVE: Executor = LiveExecutor()
DISPLAY: Executor = DisplayExecutor()


def _resolved(step: Step, versions: Mapping[str, str]) -> Step:
    """``step`` with its ``new`` version replaced by the one this run published."""
    if isinstance(step, AliasMove) and step.to_version == NEW and step.function in versions:
        return dataclasses.replace(step, to_version=versions[step.function])
    if isinstance(step, Scale) and step.qualifier == NEW and step.function in versions:
        return dataclasses.replace(step, qualifier=versions[step.function])
    if isinstance(step, Warm) and step.qualifier == NEW and step.function in versions:
        return dataclasses.replace(step, qualifier=versions[step.function])
    return step


class _Run:
    def __init__(self, config: Config, env: Environment, clients: PostDeployClients,
                 executor: Executor, reporter: ProgressLog, options: RunOptions,
                 steps: Sequence[Step] = ()) -> None:
        self.config, self.env, self.clients = config, env, clients
        self.steps = tuple(steps)
        self.alias_reads: Future[dict[str, alias.Read]] | None = None
        """Where the aliases point, read while the publishes turn Active."""
        self._reads: dict[str, alias.Read] | None = None
        self.capacity_reads: Future[dict[str, int]] | None = None
        """Function name → the applied environments of the version its alias routes to, read
        after the aliases, while the publishes turn Active (for the headroom step)."""
        self.live_environments: dict[str, int] = {}
        """Function name → the applied environments of its live version, as the headroom
        check read them (the scale step needs them too)."""
        self.deferred_schedules: list[str] = []
        """Functions whose warm-up schedule waits for the alias step."""
        self.lam = clients.lambda_
        self.executor, self.reporter, self.options = executor, reporter, options
        self.report = PostDeployReport(config.service, env.name, not executor.live)
        self.started = datetime.now(UTC)
        self.versions: dict[str, str] = dict(options.versions or {})
        """Function name → the version the deploy publishes/moves to (``new`` in a dry run)."""
        self.moved = False
        """Whether an alias move was recorded (and so attempted)."""
        self.run_id = options.run_id or self.started.strftime("%Y%m%dT%H%M%S")
        self.prune_hooks = options.prune or PruneHooks.default()
        self.history = HistoryStore(clients.s3, config, env) if clients.s3 is not None else None
        self._record = (recorder(self.history, options.provenance)
                        if self.history is not None else None)
        if self.history is None and executor.live:
            self.report.notes.append("no S3 client: alias moves are not recorded in a history")

    def before_move(self, change: alias.AliasChange) -> None:
        """Append the move to the alias's history before it is made (the alias step's hook)."""
        if self._record is not None:
            self._record(change)
        self.moved = True

    def read_aliases_meanwhile(self) -> None:
        """Start reading the aliases a later alias step moves: where each points does not
        depend on the publishes, so it is read while the new versions start, when the rate
        budget is idle, not after."""
        if "alias" in self.report.steps:
            return
        moves = [s for s in self.steps if isinstance(s, AliasMove)]
        if moves:
            reads = in_background(partial(alias.read_aliases, self.lam, moves),
                                  name="alias-read")
            self.alias_reads = reads
            if any(isinstance(s, CapacityCheck) for s in self.steps):
                self.capacity_reads = in_background(partial(self._live_environments, reads),
                                                    name="capacity-read")

    def _live_environments(self, reads: Future[dict[str, alias.Read]]) -> dict[str, int]:
        """The applied environments of each live version (of ``reads``), the functions at
        once: they do not depend on the publishes either."""
        live = [(name, read[0]) for name, read in reads.result().items() if read[0]]
        found = fan_out(lambda item: headroom.applied_environments(self.lam, *item), live,
                        name="capacity-read")
        return {name: count for (name, _), count in zip(live, found, strict=True)}

    def reads(self) -> dict[str, alias.Read]:
        """Function name → (version, RevisionId) of the alias each alias step moves, read once
        (while the publishes turned Active, or now); the headroom, scale and alias steps all
        use this one read, so a move from it that is stale by then is refused by AWS."""
        if self._reads is None:
            if self.alias_reads is not None:
                self._reads, self.alias_reads = self.alias_reads.result(), None
            else:
                moves = [s for s in self.steps if isinstance(s, AliasMove)]
                self._reads = alias.read_aliases(self.lam, moves) if moves else {}
        return self._reads

    def live(self, functions: Sequence[str]) -> dict[str, str | None]:
        """Function name → the version its alias routes to now (``None``: no alias yet)."""
        found = {name: read[0] for name, read in self.reads().items()}
        aliases = {naming.function_name(self.config, self.env, k): fn.alias
                   for k, fn in self.config.functions.items()}
        for name in functions:
            if name not in found:
                found[name] = alias.read_alias(self.lam, name, aliases[name])[0]
        return found

    def remaining_kinds(self) -> list[str]:
        """The kinds of steps after the group running now."""
        done = len(self.report.steps)
        kinds = [k for k, _ in itertools.groupby(s.kind for s in self.steps)]
        return kinds[done:]

    @property
    def unpublished(self) -> list[str]:
        """Functions whose new version a dry run's publish step would create."""
        return [name for name, version in self.versions.items() if version == NEW]

    def group(self, kind: str, steps: tuple[Step, ...]) -> None:
        steps = tuple(_resolved(s, self.versions) for s in steps)
        if kind == "publish":
            self.publish([s for s in steps if isinstance(s, Publish)])
        elif kind == "alias":
            self.alias([s for s in steps if isinstance(s, AliasMove)])
        elif kind == "scale":
            self.scale([s for s in steps if isinstance(s, Scale)])
        elif kind == "headroom":
            self.headroom([s for s in steps if isinstance(s, CapacityCheck)])
        elif kind == "scale-down":
            self.scale_down([s for s in steps if isinstance(s, ScaleDown)])
        elif kind == "warm":
            self.warm([s for s in steps if isinstance(s, Warm)])
        elif kind == "prune":
            for step in steps:
                assert isinstance(step, Prune)
                self.prune(step)
        else:  # pragma: no cover - the builders make no other kind
            raise LmiError(f"post-deploy has no step of kind {kind}")

    def publish(self, steps: list[Publish]) -> None:
        plan = publish.resolve_publish(self.lam, steps)
        self.versions.update(self.executor.publish(self, plan))
        for target in plan.targets:
            self.report.function(target.function).published_version = \
                self.versions[target.function]

    def alias(self, steps: list[AliasMove]) -> None:
        plan = alias.resolve_alias(self.lam, self.config, self.env, steps,
                                   unpublished=self.unpublished, read=self.reads())
        for move in plan.moves:
            entry = self.report.function(move.step.function)
            entry.alias, entry.alias_from = move.step.alias, move.step.from_version
            entry.alias_to, entry.alias_action = move.step.to_version, "planned"
        for name, action in self.executor.alias(self, plan).items():
            self.report.function(name).alias_action = action
        self.versions.update({m.step.function: m.step.to_version for m in plan.moves})
        deferred, self.deferred_schedules = self.deferred_schedules, []
        self.schedules(deferred)

    def headroom(self, checks: list[CapacityCheck]) -> None:
        functions = [f for check in checks for f in check.functions]
        live = self.live(functions)
        new = {name: (None if version == NEW else version)
               for name, version in self.versions.items()}
        read, self.capacity_reads = (self.capacity_reads.result()
                                     if self.capacity_reads else None), None
        peaks = [peak for check in checks
                 if (peak := headroom.resolve_check(self.lam, self.config, self.env, check,
                                                    live=live, new=new,
                                                    live_environments=read)).functions]
        for peak in peaks:
            self.report.notes.append(peak.describe())
            self.live_environments.update(
                {f.function: f.live_environments for f in peak.functions if live.get(f.function)})
        self.executor.headroom(self, peaks)

    def scale_down(self, steps: list[ScaleDown]) -> None:
        left = {name: entry.alias_from for name, entry in self.report.functions.items()
                if entry.alias_from and entry.alias_to and entry.alias_from != entry.alias_to
                and entry.alias_action in ("moved", "planned")}
        plan = scale.resolve_scale_down(self.lam, steps, left=left, reporter=self.reporter,
                                        check_routing=self.executor.live)
        self.executor.scale(self, plan)
        verb = "scaled" if self.executor.live else "would scale"
        for step in plan.steps:
            self.report.notes.append(f"{verb} {step.function}:{step.qualifier} (superseded) "
                                     f"to min {step.min}, max {step.max}")

    def scale(self, steps: list[Scale]) -> None:
        plan = scale.resolve_scale(self.lam, self.config, self.env, steps,
                                   unpublished=self.unpublished,
                                   live=self.live([s.function for s in steps]),
                                   environments=self.live_environments)
        for step in plan.steps:
            self.report.function(step.function).scaling = {"min": step.min, "max": step.max}
        self.executor.scale(self, plan)

    def warm(self, steps: list[Warm]) -> None:
        plan = warm.resolve_warm(self.lam, steps, versions=self.versions)
        for name, invocations in self.executor.warm(self, plan).items():
            self.report.function(name).warm = invocations
        # A schedule targets the alias: when the warm-up primed the new version before the
        # alias step, the rule is managed once the alias exists and routes to it.
        scheduled = [s.function for s in steps if s.schedule]
        if any(s.qualifier for s in steps) and "alias" in self.remaining_kinds():
            self.deferred_schedules += scheduled
        else:
            self.schedules(scheduled)

    def schedules(self, functions: list[str]) -> None:
        keys = selected(self.config, self.env, functions) if functions else []
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
            self.executor.schedule(self, change)

    def prune(self, step: Prune) -> None:
        # Planned now, after this run's publishes: they count among the newest versions kept;
        # anything published from here on is protected as concurrent by the pruner.
        decision = self.prune_hooks.plan(self.lam, self.config, self.env,
                                         capacity_providers=step.capacity_providers,
                                         history=self.history)
        decision = self.executor.prune(self, decision)
        deleted = len(getattr(decision, "deletions", ()))
        failed = len(getattr(decision, "failures", ()))
        kept = len(getattr(decision, "kept", ()))
        verb = "deleted" if self.executor.live else "would delete"
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
            self.report.notes.append(f"could not store the deploy report in {bucket}: {error}; "
                                     "the alias histories hold every move")
            return
        self.report.notes.append(f"deploy record stored at {where}")
