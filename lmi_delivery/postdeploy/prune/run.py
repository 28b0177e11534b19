"""One prune run, as the CLI and the scheduled Lambda handler both do it: load the config, build
the Lambda client, plan, refuse a blocked retirement, execute, and say how it went.

A retirement keeps its promise that the provider can be deleted: LMI deletions are asynchronous,
so after the deletes it waits until AWS lists no version on the provider any more, or, with
``delete_capacity_provider``, deletes the provider, retrying while AWS still refuses because
versions being deleted reference it (:mod:`.prune_release`).

No click here: the Lambda handler imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.fanout import WORKERS
from lmi_delivery.config import load
from lmi_delivery.config.model import Config, Environment, PruneScope
from lmi_delivery.errors import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, OperationFailed
from lmi_delivery.postdeploy.prune.api import plan_prune
from lmi_delivery.postdeploy.prune.decision import PruneDecision
from lmi_delivery.postdeploy.prune.execute import DeleteProgress, execute_prune, is_conflict
from lmi_delivery.postdeploy.prune.release import (
    Progress,
    ReleaseWait,
    await_released,
    delete_capacity_provider,
)
from lmi_delivery.postdeploy.prune.report import report_dict
from lmi_delivery.postdeploy.prune.snapshot import SnapshotStats

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from lmi_delivery.postdeploy.history import HistoryStore

ClientMaker = Callable[[Config, Environment, Mapping[str, str]], "LambdaClient"]
HistoryMaker = Callable[[Config, Environment, Mapping[str, str]], "HistoryStore | None"]


@dataclass(frozen=True)
class PruneRequest:
    config_path: str
    env_name: str
    keep: int | None = None
    capacity_provider: str | None = None
    retire_capacity_provider: str | None = None
    dry_run: bool = False
    scope: PruneScope | None = None
    """``config`` or ``capacity-provider``; ``None``: ``post_deploy.prune.scope``."""
    workers: int = WORKERS
    delete_capacity_provider: bool = False
    """Retire mode: also delete the provider once no version references it any more."""
    release_wait: ReleaseWait = field(default_factory=ReleaseWait)


@dataclass(frozen=True)
class Retirement:
    """What became of the retired capacity provider after the deletions."""

    capacity_provider: str
    outcome: str
    """``released`` (nothing references it: it can be deleted), ``deleted``, ``failed``."""
    refusals: int = 0
    """How often AWS refused ``DeleteCapacityProvider`` while versions were being deleted."""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"capacity_provider": self.capacity_provider, "outcome": self.outcome,
                "refusals": self.refusals, "error": self.error}


@dataclass(frozen=True)
class PruneOutcome:
    decision: PruneDecision
    dry_run: bool
    stats: SnapshotStats = field(default_factory=SnapshotStats)
    seconds: float = 0.0
    retirement: Retirement | None = None

    @property
    def refusal(self) -> str | None:
        """Retire mode: why the provider cannot be retired (nothing was deleted then)."""
        return self.decision.refusal()

    @property
    def errors(self) -> tuple[str, ...]:
        """Deletions that failed for a reason other than a concurrent alias (those are the
        guard doing its job: the version is in use and stays)."""
        return tuple(f"{v.function}:{v.version}: {v.note}" for v in self.decision.failures
                     if not is_conflict(v))

    @property
    def exit_code(self) -> int:
        if self.refusal:
            return EXIT_REFUSED
        failed = self.retirement is not None and self.retirement.error is not None
        return EXIT_FAILED if self.errors or failed else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        retirement = None if self.retirement is None else self.retirement.to_dict()
        return {**report_dict(self.decision, dry_run=self.dry_run),
                "exit_code": self.exit_code, "seconds": round(self.seconds, 3),
                "api_calls": dict(sorted(self.stats.calls.items())),
                "retirement": retirement}


def lambda_client(config: Config, env: Environment, environ: Mapping[str, str]) -> LambdaClient:
    """The paced Lambda client of the environment's account and region (boto3 loads here)."""
    from lmi_delivery.aws.clients import clients_for

    return clients_for(config, env, environ).client("lambda")


def history_store(config: Config, env: Environment,
                  environ: Mapping[str, str]) -> HistoryStore:
    """The environment's alias histories, in the artifacts bucket (boto3 loads here)."""
    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.postdeploy.history import HistoryStore

    return HistoryStore(clients_for(config, env, environ).client("s3"), config, env)


def run_prune(request: PruneRequest, environ: Mapping[str, str], *,
              reporter: DeleteProgress | None = None, progress: Progress | None = None,
              make_client: ClientMaker = lambda_client,
              make_history: HistoryMaker = history_store) -> PruneOutcome:
    """Plan and (unless dry run or refused) execute one prune; in retire mode, see the provider
    released (or deleted) too. ``progress`` hears about the waits. The alias histories keep
    each alias's rollback targets; one that cannot be read stops the prune before it deletes."""
    started = datetime.now(UTC)
    config = load(request.config_path)
    env = config.environment(request.env_name)
    client = make_client(config, env, environ)
    stats = SnapshotStats()
    decision = plan_prune(client, config, env, keep=request.keep,
                          capacity_provider=request.capacity_provider,
                          retire_capacity_provider=request.retire_capacity_provider,
                          started_at=started, stats=stats, scope=request.scope,
                          history=make_history(config, env, environ))
    retirement = None
    if decision.refusal() is None and not request.dry_run:
        decision = execute_prune(client, decision, reporter=reporter, workers=request.workers)
        if decision.policy.retire_capacity_providers:
            retirement = _retire(client, request, decision, progress)
    elapsed = (datetime.now(UTC) - started).total_seconds()
    return PruneOutcome(decision, request.dry_run, stats, elapsed, retirement)


def _retire(client: LambdaClient, request: PruneRequest, decision: PruneDecision,
            progress: Progress | None) -> Retirement:
    """After a retirement's deletions: wait until nothing references the provider, or delete
    it, retrying while versions being deleted still do."""
    arn = sorted(decision.policy.retire_capacity_providers)[0]
    failures = [v for v in decision.failures if not is_conflict(v)]
    if failures:
        return Retirement(arn, "failed", error=f"{len(failures)} version(s) could not be "
                          "deleted: the capacity provider is still in use")
    try:
        if request.delete_capacity_provider:
            refusals = delete_capacity_provider(client, arn, wait=request.release_wait,
                                                progress=progress)
            return Retirement(arn, "deleted", refusals)
        await_released(client, arn, wait=request.release_wait, progress=progress)
    except OperationFailed as error:
        return Retirement(arn, "failed", error=error.message)
    return Retirement(arn, "released")
