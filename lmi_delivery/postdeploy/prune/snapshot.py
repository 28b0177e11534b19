"""Reading an :class:`AccountSnapshot` from AWS, read-only and with as few calls as it can.

Every Lambda control-plane call shares the account's 15 requests/s, so the reader asks only what
the prune decision needs:

1. ``ListFunctionVersionsByCapacityProvider`` for each provider (50 a page): which versions are
   bound to it, across every function of the account.
2. For each function in scope only (``function_names``; all of them when ``None``):
   ``ListVersionsByFunction`` (states, modification times, the provider of every version, also
   versions left on other providers) and ``ListAliases`` (with weighted routing), both paged.
   Functions out of scope keep what the provider listing said: they count against the quota but
   cost no further call.
3. One account-wide ``ListEventSourceMappings`` (100 a page) instead of one call per function:
   cheaper, and it does not depend on how the ``FunctionName`` filter treats qualified mappings.
4. ``GetFunctionScalingConfig`` only for versions the decision would otherwise delete, on
   functions whose scaling the config does not manage (with a policy; without one, for every
   published version).

The reads of one step do not depend on each other: they run on a few threads (``fan_out``), so
that AWS's round trip (100-300 ms) does not leave the shared budget idle; the budget, not the
thread count, sets the rate.

When the capacity-provider API is unavailable (``UnknownOperationException``, a bare 404, an
SDK that predates it) the reader falls back to ``ListFunctions`` and reads each function on a
selected provider. The fallback cannot see functions that have since moved to another provider.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.fanout import WORKERS, fan_out
from lmi_delivery.postdeploy.prune.decision import PrunePolicy, decide
from lmi_delivery.postdeploy.prune.state import (
    AccountSnapshot,
    AliasInfo,
    EventSourceMappingInfo,
    FunctionSnapshot,
    ScalingConfigInfo,
    VersionInfo,
    provider_name,
    snapshot_from_dicts,
    version_key,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

PAGE_SIZE = 50
ESM_PAGE_SIZE = 100
_UNAVAILABLE_CODES = frozenset({"UnknownOperationException", "UnsupportedOperationException",
                                "InvalidAction", "NotImplemented"})


@dataclass
class SnapshotStats:
    """What a snapshot cost and saw: API calls by operation, versions listed per provider."""

    calls: Counter[str] = field(default_factory=Counter)
    listed: dict[str, int] = field(default_factory=dict)
    """Provider ARN → versions AWS lists as bound to it (the count its quota is checked on)."""
    fallback: str | None = None
    """Why the capacity-provider listing was not used, when it was not."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, operation: str) -> None:
        """One more call of ``operation`` (thread-safe: the reads run on several threads)."""
        with self._lock:
            self.calls[operation] += 1

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def merge(self, other: SnapshotStats) -> None:
        self.calls.update(other.calls)
        self.listed.update(other.listed)
        self.fallback = self.fallback or other.fallback


@dataclass(frozen=True)
class _Bound:
    function: str
    version: str
    state: str
    provider_arn: str


def take_snapshot(client: LambdaClient, *, capacity_provider_arns: Iterable[str],
                  function_names: Collection[str] | None = None,
                  known_versions: Mapping[str, frozenset[int]] | None = None,
                  started_at: datetime | None, policy: PrunePolicy | None = None,
                  stats: SnapshotStats | None = None, workers: int = WORKERS) -> AccountSnapshot:
    """The account as the pruner sees it, for the versions bound to ``capacity_provider_arns``.

    ``function_names`` limits the detailed reads to those functions; ``policy`` limits the
    scaling-config reads to the versions it would delete; ``stats`` receives the call counts;
    ``workers`` threads make the reads of each step.
    """
    reader = _Reader(client, stats if stats is not None else SnapshotStats(), workers)
    providers = list(dict.fromkeys(capacity_provider_arns))
    bound = reader.bound_versions(providers)
    if bound is None:
        bound = reader.bound_versions_fallback(providers, function_names)
    detailed = sorted({b.function for b in bound
                       if function_names is None or b.function in function_names})
    functions: dict[str, FunctionSnapshot] = {}
    for name, read in zip(detailed, reader.fan_out(reader.function, detailed), strict=True):
        if read is not None:  # None: deleted since the provider listing
            functions[name] = read
    for name in {b.function for b in bound} - set(detailed):
        functions[name] = _listed_only(name, bound)
    mappings = reader.event_source_mappings(set(detailed)) if detailed else ()
    snapshot = AccountSnapshot(
        functions=tuple(f for _, f in sorted(functions.items())),
        event_source_mappings=tuple(mappings), started_at=started_at,
        known_versions=known_versions)
    return reader.with_scaling(snapshot, set(detailed), policy)


def _listed_only(name: str, bound: list[_Bound]) -> FunctionSnapshot:
    versions = sorted({b.version: VersionInfo(b.version, b.state, None, b.provider_arn)
                       for b in bound if b.function == name}.values(),
                      key=lambda v: version_key(v.version))
    return FunctionSnapshot(name, versions=tuple(versions))


def _function_and_qualifier(arn: str) -> tuple[str, str | None]:
    """``arn:aws:lambda:R:A:function:NAME[:QUALIFIER]`` → (NAME, QUALIFIER)."""
    parts = arn.split(":")
    if len(parts) >= 7 and parts[5] == "function":
        return parts[6], parts[7] if len(parts) > 7 else None
    name, _, qualifier = arn.partition(":")
    return name, qualifier or None


def _error(exc: Exception) -> tuple[str, int]:
    response = getattr(exc, "response", None) or {}
    code = str((response.get("Error") or {}).get("Code", ""))
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def lmi_api_unavailable(exc: Exception) -> bool:
    """Whether an error means the endpoint does not know the capacity-provider API."""
    code, status = _error(exc)
    return code in _UNAVAILABLE_CODES or (status == 404 and code != "ResourceNotFoundException")


class _Reader:
    def __init__(self, client: LambdaClient, stats: SnapshotStats, workers: int) -> None:
        self.client = client
        self.stats = stats
        self.workers = workers

    def fan_out(self, call: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return fan_out(call, items, workers=self.workers, name="lmi-snapshot")

    def pages(self, operation: str, call: Callable[..., Mapping[str, Any]], key: str,
              **params: Any) -> Iterator[Mapping[str, Any]]:
        marker: str | None = None
        while True:
            self.stats.count(operation)
            page = call(**params, **({"Marker": marker} if marker else {}))
            yield from page.get(key) or ()
            marker = page.get("NextMarker")
            if not marker:
                return

    # -- which versions are bound to the providers ----------------------------------------

    def bound_versions(self, providers: list[str]) -> list[_Bound] | None:
        """Every version bound to the providers; ``None`` when the LMI API is unavailable."""
        listing = getattr(self.client, "list_function_versions_by_capacity_provider", None)
        if listing is None:
            self.stats.fallback = "the AWS SDK predates ListFunctionVersionsByCapacityProvider"
            return None
        found: list[_Bound] = []
        for arn, entries in zip(providers, self.fan_out(partial(self._bound, listing),
                                                        providers), strict=True):
            if entries is None:
                return None
            self.stats.listed[arn] = len(entries)
            found += entries
        return found

    def _bound(self, listing: Callable[..., Mapping[str, Any]],
               arn: str) -> list[_Bound] | None:
        from botocore.exceptions import ClientError

        entries: list[_Bound] = []
        try:
            for item in self.pages("ListFunctionVersionsByCapacityProvider", listing,
                                   "FunctionVersions", MaxItems=PAGE_SIZE,
                                   CapacityProviderName=provider_name(arn)):
                function, version = _function_and_qualifier(str(item["FunctionArn"]))
                entries.append(_Bound(function, version or "$LATEST",
                                      str(item.get("State") or "Active"), arn))
        except ClientError as exc:
            if lmi_api_unavailable(exc):
                code, status = _error(exc)
                self.stats.fallback = (f"ListFunctionVersionsByCapacityProvider is "
                                       f"unavailable ({code or status})")
                return None
            if _error(exc)[0] != "ResourceNotFoundException":
                raise
        return entries

    def bound_versions_fallback(self, providers: list[str],
                                function_names: Collection[str] | None) -> list[_Bound]:
        """Without the LMI listing: every function on a provider (by its ``$LATEST``) or named
        in ``function_names``, read version by version."""
        wanted = set(providers)
        names = []
        for item in self.pages("ListFunctions", self.client.list_functions, "Functions",
                               MaxItems=PAGE_SIZE):
            name, arn = str(item["FunctionName"]), _provider(item)
            if (arn and arn in wanted) or (function_names and name in function_names):
                names.append(name)
        found: list[_Bound] = []
        for name, versions in zip(names, self.fan_out(self.versions, names), strict=True):
            for version in versions or ():
                if version.capacity_provider_arn in wanted:
                    found.append(_Bound(name, version.version, version.state,
                                        version.capacity_provider_arn or ""))
        for arn in providers:
            self.stats.listed[arn] = sum(1 for b in found if b.provider_arn == arn
                                         and b.version != "$LATEST")
        return found

    # -- per function ----------------------------------------------------------------------

    def versions(self, name: str) -> list[VersionInfo] | None:
        from botocore.exceptions import ClientError

        try:
            items = list(self.pages("ListVersionsByFunction",
                                    self.client.list_versions_by_function, "Versions",
                                    FunctionName=name, MaxItems=PAGE_SIZE))
        except ClientError as exc:
            if _error(exc)[0] == "ResourceNotFoundException":
                return None  # deleted since the provider listing
            raise
        snapshot = snapshot_from_dicts({"functions": [{"name": name, "versions": items}]})
        return list(snapshot.functions[0].versions)

    def aliases(self, name: str) -> list[AliasInfo]:
        items = self.pages("ListAliases", self.client.list_aliases, "Aliases",
                           FunctionName=name, MaxItems=PAGE_SIZE)
        snapshot = snapshot_from_dicts({"functions": [{"name": name, "aliases": list(items)}]})
        return list(snapshot.functions[0].aliases)

    def function(self, name: str) -> FunctionSnapshot | None:
        versions = self.versions(name)
        if versions is None:
            return None
        return FunctionSnapshot(name, versions=tuple(versions),
                                aliases=tuple(self.aliases(name)))

    def event_source_mappings(self, functions: set[str]) -> list[EventSourceMappingInfo]:
        found = []
        for item in self.pages("ListEventSourceMappings",
                               self.client.list_event_source_mappings, "EventSourceMappings",
                               MaxItems=ESM_PAGE_SIZE):
            function, qualifier = _function_and_qualifier(str(item.get("FunctionArn", "")))
            if function in functions:
                found.append(EventSourceMappingInfo(str(item["UUID"]), function, qualifier))
        return found

    # -- scaling configs, only where they can change the decision --------------------------

    def with_scaling(self, snapshot: AccountSnapshot, detailed: set[str],
                     policy: PrunePolicy | None) -> AccountSnapshot:
        if policy is not None:
            wanted = [(v.function, v.version) for v in decide(snapshot, policy).deletions
                      if v.function in detailed and v.function not in policy.owned_functions]
        else:
            wanted = [(f.name, v.version) for f in snapshot.functions if f.name in detailed
                      for v in f.versions if v.version != "$LATEST"]
        if not wanted:
            return snapshot
        configs: dict[str, list[ScalingConfigInfo]] = {}
        for (function, _), found in zip(wanted, self.fan_out(lambda key: self.scaling(*key),
                                                             wanted), strict=True):
            if found is not None:
                configs.setdefault(function, []).append(found)
        return AccountSnapshot(
            functions=tuple(_with(f, configs.get(f.name)) for f in snapshot.functions),
            event_source_mappings=snapshot.event_source_mappings,
            started_at=snapshot.started_at, known_versions=snapshot.known_versions)

    def scaling(self, function: str, version: str) -> ScalingConfigInfo | None:
        from botocore.exceptions import ClientError

        self.stats.count("GetFunctionScalingConfig")
        try:
            answer = self.client.get_function_scaling_config(FunctionName=function,
                                                             Qualifier=version)
        except ClientError as exc:
            if _error(exc)[0] in ("ResourceNotFoundException", "AccessDeniedException"):
                return None  # gone, or not an LMI function: no scaling config
            raise
        configs: list[Mapping[str, Any]] = [
            c for c in (answer.get("RequestedFunctionScalingConfig"),
                        answer.get("AppliedFunctionScalingConfig")) if c]
        if not configs:
            return None
        return ScalingConfigInfo(
            version, max(int(c.get("MinExecutionEnvironments", 0)) for c in configs),
            max(int(c.get("MaxExecutionEnvironments", 0)) for c in configs))


def _with(function: FunctionSnapshot,
          configs: list[ScalingConfigInfo] | None) -> FunctionSnapshot:
    if not configs:
        return function
    return FunctionSnapshot(function.name, function.versions, function.aliases,
                            (*function.scaling, *configs), function.latest_published)


def _provider(item: Mapping[str, Any]) -> str | None:
    nested = (item.get("CapacityProviderConfig") or {}).get(
        "LambdaManagedInstancesCapacityProviderConfig") or {}
    arn = nested.get("CapacityProviderArn")
    return None if arn is None else str(arn)
