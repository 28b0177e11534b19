"""What an account looks like to the pruner: a frozen snapshot of functions, versions, aliases,
event source mappings and scaling configs.

Building it from AWS is the snapshot reader's job; :func:`snapshot_from_dicts` builds one from
plain data (terse test shorthand or AWS-shaped response items) so decisions can be tested and
replayed without AWS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lmi_delivery.postdeploy.history import Entry

LATEST = "$LATEST"
LATEST_PUBLISHED = "$LATEST.PUBLISHED"
UNNUMBERED = (LATEST, LATEST_PUBLISHED)


def provider_name(arn_or_name: str) -> str:
    """``arn:aws:lambda:…:capacity-provider:NAME`` → ``NAME`` (a bare name is returned as is)."""
    return arn_or_name.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def provider_matches(arn: str | None, selectors: Iterable[str]) -> bool:
    """Whether a version's provider ARN is named, by ARN or by name, in ``selectors``."""
    if not arn:
        return False
    return any(s == arn or s == provider_name(arn) for s in selectors)


def version_key(version: str) -> tuple[int, int]:
    """Sort key: ``$LATEST``, ``$LATEST.PUBLISHED``, then numbers ascending."""
    if version in UNNUMBERED:
        return (0, UNNUMBERED.index(version))
    return (1, int(version))


@dataclass(frozen=True)
class VersionInfo:
    version: str
    """A published version number (``"7"``), or ``$LATEST`` / ``$LATEST.PUBLISHED``."""
    state: str = "Active"
    """``Pending``, ``Active``, ``Inactive`` or ``Failed``."""
    last_modified: datetime | None = None
    capacity_provider_arn: str | None = None

    @property
    def number(self) -> int | None:
        return None if self.version in UNNUMBERED else int(self.version)


@dataclass(frozen=True)
class AliasInfo:
    name: str
    version: str
    """The primary version (a number, or ``$LATEST``)."""
    additional_weights: tuple[tuple[str, float], ...] = ()
    """``RoutingConfig.AdditionalVersionWeights`` as (version, weight) pairs."""


@dataclass(frozen=True)
class EventSourceMappingInfo:
    uuid: str
    function_name: str
    qualifier: str | None = None
    """A version number, an alias name, or ``None`` for the unqualified function."""


@dataclass(frozen=True)
class ScalingConfigInfo:
    qualifier: str
    """A version number or ``$LATEST.PUBLISHED``."""
    min_environments: int
    max_environments: int


@dataclass(frozen=True)
class FunctionSnapshot:
    name: str
    versions: tuple[VersionInfo, ...] = ()
    aliases: tuple[AliasInfo, ...] = ()
    scaling: tuple[ScalingConfigInfo, ...] = ()
    latest_published: str | None = None
    """The version ``$LATEST.PUBLISHED`` resolves to, when known."""
    history: tuple[tuple[str, tuple[Entry, ...]], ...] = ()
    """(alias name, its history entries, oldest first) of each alias that has a history."""

    def entries(self, alias: str) -> tuple[Entry, ...]:
        return next((e for name, e in self.history if name == alias), ())


@dataclass(frozen=True)
class AccountSnapshot:
    functions: tuple[FunctionSnapshot, ...] = ()
    event_source_mappings: tuple[EventSourceMappingInfo, ...] = ()
    started_at: datetime | None = None
    """When the run started: a version modified after it was published concurrently."""
    known_versions: Mapping[str, frozenset[int]] | None = field(default=None, compare=False)
    """Versions per function seen by the snapshot taken at the start of the run. When given,
    any other version (or a function missing from it) was published concurrently."""

    def function(self, name: str) -> FunctionSnapshot | None:
        return next((f for f in self.functions if f.name == name), None)

    def watermark(self) -> dict[str, frozenset[int]]:
        """The numbered versions of every function: pass it as ``known_versions`` of a later
        snapshot to protect whatever gets published in between."""
        return {f.name: frozenset(n for v in f.versions if (n := v.number) is not None)
                for f in self.functions}


# -- building from plain data ----------------------------------------------------------------------


def snapshot_from_dicts(data: Mapping[str, Any]) -> AccountSnapshot:
    """An :class:`AccountSnapshot` from plain data. Terse keys or AWS response keys::

        {"functions": [{"name": "f", "capacity_provider": "arn:…:capacity-provider:cp",
                        "versions": [1, 2, {"version": 3, "state": "Pending"}],
                        "aliases": {"live": 2, "canary": {"version": 2, "weights": {"3": 0.1}}},
                        "scaling": {"2": [1, 4]}, "latest_published": 3,
                        "history": {"live": [[1, 2], [2, 3]]}}],
         "event_source_mappings": [{"uuid": "u", "function": "f", "qualifier": "1"}],
         "known_versions": {"f": [1, 2]}, "started_at": "2026-01-01T00:00:00+00:00"}
    """
    known = data.get("known_versions")
    return AccountSnapshot(
        functions=tuple(_function(f) for f in data.get("functions", ())),
        event_source_mappings=tuple(_esm(m) for m in data.get("event_source_mappings", ())),
        started_at=_time(data.get("started_at")),
        known_versions=None if known is None else {
            name: frozenset(int(v) for v in versions) for name, versions in known.items()},
    )


def _pick(item: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    return next((item[k] for k in keys if k in item), default)


def _provider_of(item: Mapping[str, Any]) -> str | None:
    nested = (item.get("CapacityProviderConfig") or {}).get(
        "LambdaManagedInstancesCapacityProviderConfig") or {}
    value = _pick(item, "capacity_provider", "CapacityProviderArn",
                  default=nested.get("CapacityProviderArn"))
    return None if value is None else str(value)


def _function(item: Mapping[str, Any]) -> FunctionSnapshot:
    name = str(_pick(item, "name", "FunctionName"))
    default_provider = _provider_of(item)
    versions = tuple(_version(v, default_provider) for v in _pick(item, "versions", default=()))
    aliases = _pick(item, "aliases", default=())
    if isinstance(aliases, Mapping):
        aliases = [{"name": k, **(v if isinstance(v, Mapping) else {"version": v})}
                   for k, v in aliases.items()]
    scaling = _pick(item, "scaling", default=())
    if isinstance(scaling, Mapping):
        scaling = [{"qualifier": k, "min": v[0], "max": v[1]} for k, v in scaling.items()]
    latest = _pick(item, "latest_published")
    history = _pick(item, "history", default={})
    return FunctionSnapshot(
        name=name, versions=versions,
        aliases=tuple(_alias(a) for a in aliases),
        scaling=tuple(_scaling(s) for s in scaling),
        latest_published=None if latest is None else str(latest),
        history=tuple(sorted((str(alias), tuple(_entry(e) for e in entries))
                             for alias, entries in history.items())),
    )


def _entry(item: Any) -> Entry:
    """A history entry: an :class:`Entry`, or ``[previous, version]`` (a deploy)."""
    if isinstance(item, Entry):
        return item
    previous, version = item
    return Entry(None if previous is None else str(previous), str(version))


def _version(item: Any, default_provider: str | None) -> VersionInfo:
    if not isinstance(item, Mapping):
        return VersionInfo(str(item), capacity_provider_arn=default_provider)
    provider = _provider_of(item)
    return VersionInfo(
        version=str(_pick(item, "version", "Version")),
        state=str(_pick(item, "state", "State", default="Active")),
        last_modified=_time(_pick(item, "last_modified", "LastModified")),
        capacity_provider_arn=provider if provider is not None else default_provider,
    )


def _alias(item: Mapping[str, Any]) -> AliasInfo:
    weights = _pick(item, "weights", default=None)
    if weights is None:
        weights = (item.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return AliasInfo(
        name=str(_pick(item, "name", "Name")),
        version=str(_pick(item, "version", "FunctionVersion")),
        additional_weights=tuple(sorted((str(k), float(w)) for k, w in weights.items())),
    )


def _esm(item: Mapping[str, Any]) -> EventSourceMappingInfo:
    function = str(_pick(item, "function", "FunctionArn", "FunctionName"))
    qualifier = _pick(item, "qualifier")
    if function.startswith("arn:"):
        # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        parts = function.split(":")
        function = parts[6]
        if qualifier is None and len(parts) > 7:
            qualifier = parts[7]
    return EventSourceMappingInfo(
        uuid=str(_pick(item, "uuid", "UUID")), function_name=function,
        qualifier=None if qualifier is None else str(qualifier))


def _scaling(item: Mapping[str, Any]) -> ScalingConfigInfo:
    return ScalingConfigInfo(
        qualifier=str(_pick(item, "qualifier", "Qualifier")),
        min_environments=int(_pick(item, "min", "MinExecutionEnvironments", default=0)),
        max_environments=int(_pick(item, "max", "MaxExecutionEnvironments", default=0)),
    )


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    text = str(value)
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # Lambda's "…+0000" → "…+00:00"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
