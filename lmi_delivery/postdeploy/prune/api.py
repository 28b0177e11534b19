"""Pruning old function versions: plan (read-only), execute (deletes), and quota headroom.

:func:`plan_prune` resolves the capacity providers, reads a snapshot and returns the pure
decision; :func:`execute_prune` carries out its deletions; :func:`ensure_headroom` is what the
publish step calls so that a publish never meets the 100-versions-per-provider quota;
:func:`render_prune_report` prints any of their decisions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from lmi_delivery.aws.fanout import fan_out
from lmi_delivery.config import naming
from lmi_delivery.config.model import PRUNE_SCOPES as SCOPES
from lmi_delivery.config.model import Config, Environment, PruneScope
from lmi_delivery.errors import OperationFailed, UsageError
from lmi_delivery.postdeploy.prune.decision import (
    QUOTA_VERSIONS_PER_PROVIDER,
    PruneDecision,
    PrunePolicy,
    Reason,
    Verdict,
    decide,
)
from lmi_delivery.postdeploy.prune.execute import CONFLICT_NOTE, DeleteProgress, execute_prune
from lmi_delivery.postdeploy.prune.release import Progress, ReleaseWait, await_room
from lmi_delivery.postdeploy.prune.report import render_prune_report
from lmi_delivery.postdeploy.prune.snapshot import SnapshotStats, take_snapshot
from lmi_delivery.postdeploy.prune.state import AccountSnapshot, provider_matches
from lmi_delivery.postdeploy.prune.state import provider_name as short_name

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from lmi_delivery.postdeploy.history import HistoryStore

__all__ = [
    "CONFLICT_NOTE",
    "DeleteProgress",
    "ensure_headroom",
    "execute_prune",
    "plan_prune",
    "render_prune_report",
    "resolve_provider",
]


def resolve_provider(client: LambdaClient, config: Config, env: Environment, provider: str,
                     *, stats: SnapshotStats | None = None) -> str | None:
    """The ARN of ``provider``: a config key (named by the naming rule), a name or an ARN.
    ``None`` when no such provider exists."""
    from botocore.exceptions import ClientError

    if provider.startswith("arn:"):
        return provider
    name = (naming.capacity_provider_name(config, env, provider)
            if provider in config.capacity_providers else provider)
    if stats is not None:
        stats.count("GetCapacityProvider")
    try:
        found = client.get_capacity_provider(CapacityProviderName=name)
    except ClientError as exc:
        if (exc.response.get("Error") or {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return str(found["CapacityProvider"]["CapacityProviderArn"])


def plan_prune(client: LambdaClient, config: Config, env: Environment, *,
               keep: int | None = None, capacity_provider: str | None = None,
               capacity_providers: Iterable[str] | None = None,
               retire_capacity_provider: str | None = None, started_at: datetime | None = None,
               stats: SnapshotStats | None = None, history: HistoryStore | None = None,
               scope: PruneScope | None = None) -> PruneDecision:
    """What a prune would delete now, and why every other version stays. Reads only.

    Normal mode prunes the versions on ``capacity_provider`` (or on each of
    ``capacity_providers``, the post-deploy prune step's; every provider of the config that
    exists when neither is given) of the functions ``scope`` selects
    (``post_deploy.prune.scope`` when not given): ``config``, the functions of ``config``;
    ``capacity-provider``, every function bound to those providers, whoever owns it, with the
    same protections. Retire mode selects every version bound to ``retire_capacity_provider``,
    whoever owns its function, so the provider can be deleted.

    ``history`` (the environment's alias histories) keeps each alias's way back
    (``rollback-target``); without it only Lambda's own references protect versions. A history
    that cannot be read stops the prune here, before anything is deleted.
    """
    if capacity_provider and retire_capacity_provider:
        raise UsageError("choose --capacity-provider or --retire-capacity-provider, not both")
    stats = stats if stats is not None else SnapshotStats()
    scope = scope or config.post_deploy.prune_scope
    if scope not in SCOPES:
        raise UsageError(f"prune scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    functions = {naming.function_name(config, env, key) for key in config.functions}
    owned = {naming.function_name(config, env, key)
             for key, function in config.functions.items() if function.scaling is not None}
    keep = config.post_deploy.prune_keep if keep is None else keep
    history_keep = config.post_deploy.history_keep
    if retire_capacity_provider:
        arn = _required(client, config, env, retire_capacity_provider, stats)
        policy = PrunePolicy(keep=keep, retire_capacity_providers={arn},
                             owned_functions=owned, history_keep=history_keep)
        selected: set[str] | None = None
        arns = [arn]
    else:
        if capacity_provider:
            arns = [_required(client, config, env, capacity_provider, stats)]
        else:  # a planned step's providers, else the config's: those that exist yet
            names = (list(capacity_providers) if capacity_providers is not None
                     else sorted(config.capacity_providers))
            arns = [a for a in fan_out(partial(_resolved, client, config, env, stats), names)
                    if a is not None]
        selected = functions if scope == "config" else None
        policy = PrunePolicy(keep=keep, capacity_providers=set(arns), functions=selected,
                             owned_functions=owned, history_keep=history_keep)
    if not arns:
        return decide(AccountSnapshot(), policy)
    snapshot = take_snapshot(client, capacity_provider_arns=arns, function_names=selected,
                             started_at=started_at or datetime.now(UTC), policy=policy,
                             stats=stats)
    if history is not None and not retire_capacity_provider:
        snapshot = with_history(snapshot, history)
    return decide(snapshot, policy)


def with_history(snapshot: AccountSnapshot, history: HistoryStore) -> AccountSnapshot:
    """``snapshot`` with the history of every alias it holds (those that have one)."""
    wanted = [(f.name, a.name) for f in snapshot.functions for a in f.aliases]
    found = history.read_many(wanted) if wanted else {}
    return replace(snapshot, functions=tuple(
        replace(f, history=tuple(sorted((alias, found[(f.name, alias)].entries)
                                        for name, alias in found if name == f.name)))
        for f in snapshot.functions))


def _resolved(client: LambdaClient, config: Config, env: Environment, stats: SnapshotStats,
              provider: str) -> str | None:
    return resolve_provider(client, config, env, provider, stats=stats)


def _required(client: LambdaClient, config: Config, env: Environment, provider: str,
              stats: SnapshotStats) -> str:
    arn = resolve_provider(client, config, env, provider, stats=stats)
    if arn is None:
        raise UsageError(f"capacity provider {provider} does not exist in "
                         f"{config.region_for(env)} (environment {env.name})")
    return arn


# -- quota headroom before a publish ----------------------------------------------------------


def ensure_headroom(client: LambdaClient, config: Config, env: Environment,
                    provider_name: str, publishes: int, *, wait: ReleaseWait | None = None,
                    progress: Progress | None = None,
                    history: HistoryStore | None = None) -> PruneDecision | None:
    """Make room for ``publishes`` new versions on a capacity provider (config key, name or
    ARN). Returns ``None`` when they already fit, else the executed prune decision.

    LMI deletions are asynchronous: deleted versions stay listed, ``Deleting``, for a while, and
    whether they count against the quota meanwhile is not documented. So versions being
    deleted count as going when deciding whether pruning can make room, and as present until
    they are gone: after the deletions the provider is listed again until the publishes fit
    (``await_room``, ``progress`` tells how it goes).

    Raises :class:`OperationFailed` before anything is published, and before anything is
    deleted when pruning cannot make enough room, naming what protects the versions left.
    ``history`` keeps the aliases' rollback targets, as in :func:`plan_prune`.
    """
    stats = SnapshotStats()
    arn = _required(client, config, env, provider_name, stats)
    decision = plan_prune(client, config, env, capacity_provider=arn, stats=stats,
                          history=history)
    before = _bound(decision, stats, arn, after=False)
    if publishes <= QUOTA_VERSIONS_PER_PROVIDER - before:
        return None
    if publishes > QUOTA_VERSIONS_PER_PROVIDER - _bound(decision, stats, arn, after=True):
        raise OperationFailed(_no_room(decision, arn, publishes, before),
                              context={"capacity_provider": arn})
    result = execute_prune(client, decision)
    if publishes > QUOTA_VERSIONS_PER_PROVIDER - _bound(result, stats, arn, after=True):
        errors = "; ".join(f"{v.function}:{v.version} {v.note}" for v in result.failures[:5])
        raise OperationFailed(
            f"capacity provider {short_name(arn)}: pruning left no room for {publishes} "
            f"more version(s) of the {QUOTA_VERSIONS_PER_PROVIDER} allowed; "
            f"{len(result.failures)} deletion(s) failed: {errors}",
            context={"capacity_provider": arn})
    await_room(client, arn, publishes, wait=wait, progress=progress)
    return result


def _bound(decision: PruneDecision, stats: SnapshotStats, arn: str, *, after: bool) -> int:
    """Versions on the provider before the decision's deletions, or ``after`` them: the larger
    of the decision's count and the count AWS lists (they differ on ``$LATEST`` and
    ``$LATEST.PUBLISHED``; the larger one never lets a publish meet the quota). Versions AWS is
    deleting already count before, not after."""
    going = sum(1 for v in decision.verdicts
                if v.going and provider_matches(v.capacity_provider_arn, (arn,)))
    counted = decision.versions_bound(arn) + (0 if after else going)
    listed = stats.listed.get(arn, 0) - (going if after else 0)
    return max(counted, listed)


def _no_room(decision: PruneDecision, arn: str, publishes: int, before: int) -> str:
    kept = [v for v in decision.verdicts if not v.going
            and provider_matches(v.capacity_provider_arn, (arn,))]
    deletable = sum(1 for v in decision.deletions
                    if provider_matches(v.capacity_provider_arn, (arn,)))
    needed = publishes - (QUOTA_VERSIONS_PER_PROVIDER - before)
    return (f"capacity provider {short_name(arn)} holds {before} of "
            f"{QUOTA_VERSIONS_PER_PROVIDER} function versions: publishing {publishes} more "
            f"needs {needed} deleted first, but only {deletable} may be pruned. The other "
            f"{len(kept)} are protected: {protection_summary(kept)}. Lower "
            f"post_deploy.prune.keep, point aliases and event source mappings at newer "
            f"versions, or move functions to another capacity provider.")


def protection_summary(kept: Iterable[Verdict]) -> str:
    """``"40 newest (keep 3), 2 alias (live), …"``: what protects a set of kept versions."""
    kept = list(kept)
    counts: Counter[Reason] = Counter(v.reason for v in kept)
    details: dict[Reason, set[str]] = {}
    for v in kept:
        headline = v.protections[0] if v.protections else None
        if headline is None:
            continue
        if headline.reason is Reason.OUT_OF_SCOPE:
            details.setdefault(headline.reason, set()).add(v.function)
        elif headline.reason is Reason.NEWEST:
            details.setdefault(headline.reason, set()).add(f"keep {headline.detail}")
        elif headline.detail and headline.reason is not Reason.LATEST:
            details.setdefault(headline.reason, set()).add(headline.detail)
    parts = []
    for reason, count in sorted(counts.items(), key=lambda item: -item[1]):
        names = sorted(details.get(reason, ()))
        shown = ", ".join(names[:4]) + (", …" if len(names) > 4 else "")
        parts.append(f"{count} {_LABELS.get(reason, reason.value)}"
                     + (f" ({shown})" if shown else ""))
    return ", ".join(parts) or "nothing"


_LABELS = {
    Reason.NEWEST: "newest", Reason.ALIAS: "alias", Reason.WEIGHTED_ALIAS: "weighted alias",
    Reason.EVENT_SOURCE_MAPPING: "event source mapping", Reason.SCALING_MIN: "scaling minimum",
    Reason.ROLLBACK_TARGET: "rollback target",
    Reason.CONCURRENT_PUBLISH: "published during the run", Reason.LATEST: "$LATEST",
    Reason.OUT_OF_SCOPE: "of functions this config does not own",
    Reason.FAILED: "failed deletions",
}
