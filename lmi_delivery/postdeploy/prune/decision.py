"""Which function versions to delete: a pure function of an account snapshot and a policy.

:func:`decide` reads nothing but its arguments and returns one :class:`Verdict` per version,
sorted by function and version. A version is deleted only when it is in scope and nothing
protects it. Protections, all reported (the first is the headline reason):

``concurrent-publish``  published while the run was going (not in the start snapshot, newer than
                        ``started_at``, or still ``Pending``)
``latest``              ``$LATEST``, ``$LATEST.PUBLISHED`` and the version it resolves to
``alias``               an alias's primary version
``weighted-alias``      a version an alias routes weighted traffic to
``event-source-mapping`` a version an event source mapping invokes
``rollback-target``     among the ``history_keep`` newest versions that served through an alias,
                        the current one included, as its history shows (the way rollback goes
                        back: :func:`lmi_delivery.postdeploy.history.way_back`)
``scaling-min``         min execution environments > 0 on a function the config does not own
``newest``              among the ``keep`` newest versions of the function that nothing above
                        protects (normal mode only): ``keep`` counts versions *besides* those an
                        alias, a mapping or the history keeps, as the config schema says
``out-of-scope``        a function or capacity provider the policy does not select

In ``retire_capacity_providers`` mode every in-scope version bound to a retiring provider is
deleted regardless of ``keep``; protected ones are reported as blockers (the provider cannot be
deleted while a version references it).

A version AWS is deleting already (``State: Deleting``: LMI deletions are asynchronous) is
neither kept nor deleted again: its verdict is ``deleting``, it counts as going, and it does not
count among a function's ``keep`` newest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from lmi_delivery.postdeploy.history import way_back
from lmi_delivery.postdeploy.prune.state import (
    LATEST_PUBLISHED,
    AccountSnapshot,
    EventSourceMappingInfo,
    FunctionSnapshot,
    VersionInfo,
    provider_matches,
    provider_name,
    version_key,
)
from lmi_delivery.postdeploy.prune.types import (
    QUOTA_VERSIONS_PER_PROVIDER,
    Action,
    Protection,
    PrunePolicy,
    Reason,
    Verdict,
)

#: The state of a version AWS is deleting (LMI deletions are asynchronous).
DELETING = "Deleting"

__all__ = [
    "QUOTA_VERSIONS_PER_PROVIDER",
    "Action",
    "Protection",
    "PruneDecision",
    "PrunePolicy",
    "Reason",
    "Verdict",
    "decide",
]


@dataclass(frozen=True)
class PruneDecision:
    policy: PrunePolicy
    verdicts: tuple[Verdict, ...] = field(default=())

    @property
    def deletions(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.action is Action.DELETE)

    @property
    def kept(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.action is Action.KEEP)

    @property
    def failures(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.action is Action.FAILED)

    @property
    def deleting(self) -> tuple[Verdict, ...]:
        """Versions AWS was deleting already when the snapshot was taken."""
        return tuple(v for v in self.verdicts if v.action is Action.DELETING)

    def verdict(self, function: str, version: str | int) -> Verdict | None:
        return next((v for v in self.verdicts
                     if v.function == function and v.version == str(version)), None)

    def versions_bound(self, provider: str) -> int:
        """Versions (numbered ones and ``$LATEST``) that stay on ``provider`` (ARN or name)
        after the decision: kept ones and those whose deletion failed."""
        return sum(1 for v in self.verdicts
                   if not v.going and v.version != LATEST_PUBLISHED
                   and provider_matches(v.capacity_provider_arn, (provider,)))

    def headroom(self, provider: str) -> int:
        """How many more versions ``provider`` can take after the decision (may be < 0)."""
        return QUOTA_VERSIONS_PER_PROVIDER - self.versions_bound(provider)

    def needed_for_publish(self, provider: str, n_publishes: int = 1) -> int:
        """How many more versions must go on ``provider`` before ``n_publishes`` publishes fit
        in the quota (0 when they already fit)."""
        return max(0, n_publishes - self.headroom(provider))

    def providers(self) -> tuple[str, ...]:
        return tuple(sorted({v.capacity_provider_arn for v in self.verdicts
                             if v.capacity_provider_arn}))

    def blockers(self) -> tuple[Verdict, ...]:
        """Retire mode: versions on a retiring provider that must stay, with the reason."""
        if not self.policy.retire_capacity_providers:
            return ()
        return tuple(v for v in self.verdicts if not v.going
                     and v.reason is not Reason.OUT_OF_SCOPE
                     and provider_matches(v.capacity_provider_arn,
                                          self.policy.retire_capacity_providers))

    def refusal(self) -> str | None:
        """Why a capacity provider cannot be retired yet, or ``None`` when nothing blocks it."""
        blockers = self.blockers()
        if not blockers:
            return None
        lines = [f"cannot retire capacity provider(s) "
                 f"{', '.join(sorted(self.policy.retire_capacity_providers))}: "
                 f"{len(blockers)} version(s) must stay"]
        lines += [f"  {v.function}:{v.version} {v.describe()}" for v in blockers]
        return "\n".join(lines)

    def with_failure(self, function: str, version: str | int, error: str) -> PruneDecision:
        """The decision after the executor failed to delete one version."""
        key = (function, str(version))
        return replace(self, verdicts=tuple(
            v.failed(error) if (v.function, v.version) == key else v for v in self.verdicts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.to_dict(),
            "summary": {a.value: sum(1 for v in self.verdicts if v.action is a) for a in Action},
            "capacity_providers": {
                p: {"versions_after": self.versions_bound(p), "headroom": self.headroom(p),
                    "quota": QUOTA_VERSIONS_PER_PROVIDER} for p in self.providers()},
            "blockers": [f"{v.function}:{v.version}" for v in self.blockers()],
            "verdicts": [v.to_dict() for v in self.verdicts],
        }


def decide(snapshot: AccountSnapshot, policy: PrunePolicy) -> PruneDecision:
    """The prune decision for ``snapshot`` under ``policy``; pure and deterministic."""
    verdicts: list[Verdict] = []
    for function in sorted(snapshot.functions, key=lambda f: f.name):
        mappings = [m for m in snapshot.event_source_mappings if m.function_name == function.name]
        verdicts += _decide_function(function, mappings, snapshot, policy)
    verdicts.sort(key=lambda v: (v.function, version_key(v.version)))
    return PruneDecision(policy, tuple(verdicts))


def _decide_function(function: FunctionSnapshot, mappings: list[EventSourceMappingInfo],
                     snapshot: AccountSnapshot, policy: PrunePolicy) -> list[Verdict]:
    versions = {v.version: v for v in function.versions}  # one verdict per version string
    guards = _protections(function, mappings, snapshot, policy)
    if not policy.retire_capacity_providers:
        baseline = sorted((n for v in versions.values() if (n := v.number) is not None
                           and v.state != DELETING and v.version not in guards), reverse=True)
        for number in baseline[:policy.keep]:
            guards.setdefault(str(number), []).append(
                Protection(Reason.NEWEST, str(policy.keep)))
    verdicts = []
    for version in versions.values():
        if version.state == DELETING:
            verdicts.append(Verdict(function.name, version.version,
                                    version.capacity_provider_arn, Action.DELETING,
                                    note="AWS is deleting it already (State Deleting)"))
            continue
        found = sorted(set(guards.get(version.version, ())), key=Protection.sort_key)
        scope_note = _out_of_scope(function.name, version, policy)
        if scope_note is not None:
            found.insert(0, Protection(Reason.OUT_OF_SCOPE, scope_note))
        provider = version.capacity_provider_arn
        if found:
            verdicts.append(Verdict(function.name, version.version, provider, Action.KEEP,
                                    tuple(found)))
        else:
            verdicts.append(Verdict(function.name, version.version, provider, Action.DELETE,
                                    note=_why_delete(provider, policy)))
    return verdicts


def _why_delete(provider: str | None, policy: PrunePolicy) -> str:
    if policy.retire_capacity_providers:
        return f"bound to retiring capacity provider {provider_name(provider or '')}"
    newest = "the newest version" if policy.keep == 1 else f"the {policy.keep} newest versions"
    return f"older than {newest} nothing else keeps, and nothing refers to it"


def _protections(function: FunctionSnapshot, mappings: list[EventSourceMappingInfo],
                 snapshot: AccountSnapshot,
                 policy: PrunePolicy) -> dict[str, list[Protection]]:
    guards: dict[str, list[Protection]] = {}

    def add(version: str, protection: Protection) -> None:
        guards.setdefault(version, []).append(protection)

    for version in function.versions:
        if version.number is None:
            add(version.version, Protection(Reason.LATEST, version.version))
        elif _concurrent(version, function.name, snapshot):
            detail = "Pending" if version.state == "Pending" else ""
            add(version.version, Protection(Reason.CONCURRENT_PUBLISH, detail))
    if function.latest_published is not None:
        add(function.latest_published, Protection(Reason.LATEST, LATEST_PUBLISHED))
    for alias in function.aliases:
        add(alias.version, Protection(Reason.ALIAS, alias.name))
        for routed, weight in alias.additional_weights:
            add(routed, Protection(Reason.WEIGHTED_ALIAS, alias.name, weight))
        if policy.retire_capacity_providers:
            continue  # a retirement deletes rollback targets too: none can stay on the provider
        served = way_back(function.entries(alias.name), alias.version)
        for served_version in served[1:policy.history_keep]:
            add(served_version, Protection(Reason.ROLLBACK_TARGET, alias.name))
    for mapping in mappings:
        if mapping.qualifier is not None:
            add(mapping.qualifier, Protection(Reason.EVENT_SOURCE_MAPPING, mapping.uuid))
    if function.name not in policy.owned_functions:
        for config in function.scaling:
            if config.min_environments > 0:
                add(config.qualifier,
                    Protection(Reason.SCALING_MIN, str(config.min_environments)))
    return guards


def _concurrent(version: VersionInfo, function: str, snapshot: AccountSnapshot) -> bool:
    number = version.number
    if number is None:
        return False
    if version.state == "Pending":
        return True
    if snapshot.known_versions is not None:
        known = snapshot.known_versions.get(function, frozenset())
        if number not in known or number > max(known, default=0):
            return True
    started, modified = _utc(snapshot.started_at), _utc(version.last_modified)
    return started is not None and modified is not None and modified > started


def _out_of_scope(function: str, version: VersionInfo, policy: PrunePolicy) -> str | None:
    if policy.functions is not None and function not in policy.functions:
        return f"function {function} is not selected"
    selectors = policy.retire_capacity_providers or policy.capacity_providers
    if selectors and not provider_matches(version.capacity_provider_arn, selectors):
        bound = version.capacity_provider_arn
        where = f"capacity provider {provider_name(bound)}" if bound else "no capacity provider"
        return f"{where} is not selected"
    return None


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)

