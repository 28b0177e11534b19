"""The vocabulary of a prune decision: the policy, the reasons a version stays, the verdicts."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from lmi_delivery.errors import UsageError

#: AWS quota: function versions per capacity provider (AWS-FACTS.md), not raisable.
QUOTA_VERSIONS_PER_PROVIDER = 100


class Action(Enum):
    KEEP = "keep"
    DELETE = "delete"
    FAILED = "failed"
    """Chosen for deletion, but the executor's delete failed (the version is still there)."""
    DELETING = "deleting"
    """Being deleted already (``State: Deleting``): going, nothing to do. It may still count
    against the capacity provider's quota until it is gone (AWS does not say)."""


class Reason(Enum):
    """Why a version has its verdict; the order here is the order reasons are reported in."""

    OUT_OF_SCOPE = "out-of-scope"
    CONCURRENT_PUBLISH = "concurrent-publish"
    LATEST = "latest"
    ALIAS = "alias"
    WEIGHTED_ALIAS = "weighted-alias"
    EVENT_SOURCE_MAPPING = "event-source-mapping"
    ROLLBACK_TARGET = "rollback-target"
    SCALING_MIN = "scaling-min"
    NEWEST = "newest"
    DELETE = "delete"
    FAILED = "failed"
    DELETING = "deleting"


_ORDER = {reason: index for index, reason in enumerate(Reason)}


@dataclass(frozen=True)
class Protection:
    """One reason a version must stay, with what it refers to."""

    reason: Reason
    detail: str = ""
    """Alias name, mapping UUID, environment count, keep count, or scope explanation."""
    weight: float | None = None
    """The routing weight, for ``weighted-alias``."""

    def sort_key(self) -> tuple[int, str, float]:
        return (_ORDER[self.reason], self.detail, self.weight or 0.0)

    def describe(self, version: str) -> str:
        r, d = self.reason, self.detail
        if r is Reason.OUT_OF_SCOPE:
            return f"out of scope: {d}"
        if r is Reason.CONCURRENT_PUBLISH:
            return ("still Pending: being published right now" if d == "Pending"
                    else "published while the prune was running")
        if r is Reason.LATEST:
            return f"{d} resolves to it" if d != version else f"{version} is never deleted"
        if r is Reason.ALIAS:
            return f"alias {d} points to it"
        if r is Reason.WEIGHTED_ALIAS:
            return f"alias {d} routes {(self.weight or 0.0) * 100:g}% of its traffic to it"
        if r is Reason.EVENT_SOURCE_MAPPING:
            return f"event source mapping {d} invokes it"
        if r is Reason.ROLLBACK_TARGET:
            return f"alias {d} served it before: rollback may go back to it (alias history)"
        if r is Reason.SCALING_MIN:
            return (f"its scaling config keeps {d} execution environment(s) warm and this "
                    f"config does not own the function")
        if r is Reason.NEWEST:
            return ("the newest version nothing else keeps" if d == "1"
                    else f"one of the {d} newest versions nothing else keeps")
        return str(r.value)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": self.reason.value, "detail": self.detail}
        if self.weight is not None:
            out["weight"] = self.weight
        return out


@dataclass(frozen=True)
class Verdict:
    """What happens to one version of one function."""

    function: str
    version: str
    capacity_provider_arn: str | None
    action: Action
    protections: tuple[Protection, ...] = ()
    """Every reason the version stays, headline first (empty unless kept)."""
    note: str = ""
    """Why it is deleted, or the error when the deletion failed."""

    @property
    def reason(self) -> Reason:
        if self.action is Action.FAILED:
            return Reason.FAILED
        if self.action is Action.DELETING:
            return Reason.DELETING
        return self.protections[0].reason if self.protections else Reason.DELETE

    @property
    def going(self) -> bool:
        """Whether the version is on its way out: chosen for deletion or being deleted."""
        return self.action in (Action.DELETE, Action.DELETING)

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(p.reason for p in self.protections)

    def describe(self) -> str:
        if self.action is Action.KEEP:
            return "kept: " + "; ".join(p.describe(self.version) for p in self.protections)
        return f"{self.action.value}: {self.note}"

    def failed(self, error: str) -> Verdict:
        return replace(self, action=Action.FAILED, note=error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "version": self.version,
            "capacity_provider_arn": self.capacity_provider_arn,
            "action": self.action.value,
            "reason": self.reason.value,
            "protections": [p.to_dict() for p in self.protections],
            "message": self.describe(),
        }


def _names(value: Iterable[str] | None, what: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        raise UsageError(f"{what} must be a collection of names, not the string {value!r}")
    return frozenset(value)


@dataclass(frozen=True)
class PrunePolicy:
    """What may be pruned. Name sets may be given as any set; they are stored as frozensets."""

    keep: int = 3
    """The newest published versions every function keeps (at least 1), counted besides the
    versions something else protects (an alias, a mapping, the history, …)."""
    history_keep: int = 2
    """Per alias, the newest versions that served through it (the current one included)
    that stay as rollback targets, from the alias history (at least 1)."""
    capacity_providers: AbstractSet[str] = field(default_factory=frozenset)
    """Providers (ARNs or names) whose versions may go; empty selects every version."""
    functions: AbstractSet[str] | None = None
    """Functions whose versions may go; ``None`` selects every function of the snapshot."""
    owned_functions: AbstractSet[str] = field(default_factory=frozenset)
    """Functions whose scaling the config manages: their old versions' min environments do not
    protect them. On other functions a version with min > 0 is someone's warm capacity."""
    retire_capacity_providers: AbstractSet[str] = field(default_factory=frozenset)
    """Retire mode: delete every version bound to these providers, whatever ``keep`` says;
    ``capacity_providers`` is then ignored."""

    def __post_init__(self) -> None:
        if isinstance(self.keep, bool) or not isinstance(self.keep, int) or self.keep < 1:
            raise UsageError(f"prune keep must be an integer >= 1, not {self.keep!r}")
        if isinstance(self.history_keep, bool) or not isinstance(self.history_keep, int) or \
                self.history_keep < 1:
            raise UsageError(f"history_keep must be an integer >= 1, not {self.history_keep!r}")
        for name in ("capacity_providers", "owned_functions", "retire_capacity_providers"):
            object.__setattr__(self, name, _names(getattr(self, name), name))
        if self.functions is not None:
            object.__setattr__(self, "functions", _names(self.functions, "functions"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "keep": self.keep,
            "history_keep": self.history_keep,
            "capacity_providers": sorted(self.capacity_providers),
            "functions": None if self.functions is None else sorted(self.functions),
            "owned_functions": sorted(self.owned_functions),
            "retire_capacity_providers": sorted(self.retire_capacity_providers),
        }
