"""The sandbox's own records beside moto's: what moto does not know about Lambda.

Capacity providers, the LMI configuration and ``State`` of every function version, version
numbering that never reuses a number, revision ids, scaling configs, publishes told to fail,
deletions in progress and the log of invocations. moto keeps the functions, versions and aliases
themselves; this state is keyed by ``(region, function name)`` and cleared together with moto's
on reset.

States move on with time, checked whenever they are read (``settle``): a version ``Pending`` ->
``Active`` (or ``Failed``), ``Deactivating`` -> ``Deactivated``; a capacity provider ``Pending``
-> ``Active``; a scaling config ``Requested`` -> ``Applied``. What is ``Deleting`` is removed for
good (from moto too) by :meth:`SandboxState.sweep`, which the sandbox runs before every Lambda
call. Time is the state's ``clock`` (``SandboxOptions.clock``: monotonic seconds), which every
record that moves on with time is given.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID

ACCOUNT_ID: str = DEFAULT_ACCOUNT_ID
LATEST = "$LATEST"
LATEST_PUBLISHED = "$LATEST.PUBLISHED"
#: The "version" of a capacity provider's entry in :attr:`SandboxState.deletions`.
PROVIDER = "#capacity-provider"
#: Function versions one capacity provider may hold (AWS-FACTS.md).
VERSIONS_PER_CAPACITY_PROVIDER = 100
Clock: TypeAlias = Callable[[], float]
"""Monotonic seconds: when records move on with time."""


class ApiError(Exception):
    """An AWS error to answer with: HTTP status, error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def not_found(message: str) -> ApiError:
    return ApiError(404, "ResourceNotFoundException", message)


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterValueException", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "ResourceConflictException", message)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())


def conflict_state(state: str) -> ApiError:
    """AWS's refusal of an operation on a function version in the wrong state."""
    return conflict("The operation cannot be performed at this time. The function is "
                    f"currently in the following state: {state}")


@dataclass
class CapacityProvider:
    name: str
    region: str
    spec: dict[str, Any]
    """Create/Update parameters as AWS echoes them (VpcConfig, PermissionsConfig, ...)."""
    state: str = "Active"
    last_modified: str = field(default_factory=now_iso)
    ready_at: float = 0.0
    """When a ``Pending`` provider turns ``Active``."""
    clock: Clock = field(default=time.monotonic, repr=False, compare=False)

    def settle(self) -> None:
        if self.state == "Pending" and self.clock() >= self.ready_at:
            self.state = "Active"

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:capacity-provider:{self.name}"

    def to_json(self, *, settle: bool = True) -> dict[str, Any]:
        if settle:
            self.settle()
        return {"CapacityProviderArn": self.arn, "State": self.state, **self.spec,
                "LastModified": self.last_modified}


#: States a version moves on from by itself, and where to.
_SETTLES = {"Pending": "Active", "Deactivating": "Deactivated"}
#: The ``StateReasonCode`` and ``StateReason`` of a version in a passing state.
_REASONS = {
    "Pending": ("Creating", "The function is being created."),
    "Deleting": ("Deleting", "The function is being deleted."),
    "Deactivating": ("Deactivating", "The function version is being deactivated: its scaling "
                     "config allows no execution environment."),
    "Deactivated": ("Deactivated", "The function version is deactivated: its scaling config "
                    "allows no execution environment."),
    "ActiveNonInvocable": ("ActiveNonInvocable", "$LATEST of a function on a capacity provider "
                           "cannot be invoked: publish a version."),
}


@dataclass
class VersionRecord:
    capacity_provider_config: dict[str, Any] | None
    revision_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: str = "Active"
    ready_at: float = 0.0
    """When a ``Pending`` or ``Deactivating`` version moves on."""
    failure: tuple[str, str] | None = None
    """(reason code, reason) the version ends with instead of turning Active."""
    gone_at: float | None = None
    """When a ``Deleting`` version is gone for good."""
    clock: Clock = field(default=time.monotonic, repr=False, compare=False)

    @classmethod
    def latest(cls, capacity_provider_config: dict[str, Any] | None,
               clock: Clock = time.monotonic) -> VersionRecord:
        """The record of ``$LATEST``: an LMI function's is ``ActiveNonInvocable``."""
        record = cls(capacity_provider_config, clock=clock)
        if capacity_provider_config:
            record.state = "ActiveNonInvocable"
        return record

    @property
    def capacity_provider_arn(self) -> str | None:
        if not self.capacity_provider_config:
            return None
        inner = self.capacity_provider_config["LambdaManagedInstancesCapacityProviderConfig"]
        return str(inner["CapacityProviderArn"])

    def settle(self) -> None:
        """Move a Pending or Deactivating version on once its delay has passed."""
        if self.state in _SETTLES and self.clock() >= self.ready_at:
            self.state = "Failed" if self.state == "Pending" and self.failure \
                else _SETTLES[self.state]

    def payload(self, *, settle: bool = True) -> dict[str, Any]:
        """The fields this record contributes to a FunctionConfiguration."""
        if settle:
            self.settle()
        out: dict[str, Any] = {"State": self.state, "RevisionId": self.revision_id}
        if self.capacity_provider_config:
            out["CapacityProviderConfig"] = self.capacity_provider_config
        if self.state in _REASONS:
            out["StateReasonCode"], out["StateReason"] = _REASONS[self.state]
        elif self.state == "Failed" and self.failure:
            out["StateReasonCode"], out["StateReason"] = self.failure
        return out


@dataclass
class ScalingRecord:
    """A version's function scaling config: what was asked, and what is in force."""

    requested: dict[str, int] | None
    applied: dict[str, int] | None = None
    apply_at: float = 0.0
    clock: Clock = field(default=time.monotonic, repr=False, compare=False)

    def settle(self) -> None:
        """Once applied, the requested config is what is in force and no longer ``Requested``."""
        if self.requested is not None and self.clock() >= self.apply_at:
            self.applied, self.requested = self.requested, None

    def in_force(self) -> dict[str, int] | None:
        self.settle()
        return self.applied


@dataclass(frozen=True)
class RoutingChange:
    """One change of an alias's routing, with the scaling in force when it was made."""

    function: str
    alias: str
    version: str
    weights: dict[str, float]
    applied_min: dict[str, int | None]
    """Every version of the function with a scaling config → its *applied* minimum execution
    environments at that moment (``None``: only requested yet); versions without a config run
    the default environments."""
    at: float
    """``time.time()`` when the change was made."""


@dataclass
class FunctionRecord:
    capacity_provider_config: dict[str, Any] | None
    versions: dict[str, VersionRecord] = field(default_factory=dict)
    next_version: int = 1
    scaling: dict[str, ScalingRecord] = field(default_factory=dict)
    fail_next_publish: tuple[str, str] | None = None
    failing_invocations: str | None = None
    """The ``FunctionError`` every invocation answers with (``Unhandled``), or ``None``."""
    gone_at: float | None = None
    """When a function being deleted (``DeleteFunction`` without a qualifier) is gone."""

    @property
    def is_lmi(self) -> bool:
        return self.capacity_provider_config is not None


@dataclass(frozen=True)
class Invocation:
    function: str
    qualifier: str | None
    executed_version: str
    payload: str
    region: str
    time: float

    def to_json(self) -> dict[str, Any]:
        return {"FunctionName": self.function, "Qualifier": self.qualifier,
                "ExecutedVersion": self.executed_version, "Payload": self.payload,
                "Region": self.region, "Time": self.time}


class SandboxState:
    """Everything the sandbox adds to moto, behind one lock (moto itself is not thread-safe)."""

    def __init__(self, seed: int = 0, clock: Clock = time.monotonic) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.clock = clock
        self.providers: dict[tuple[str, str], CapacityProvider] = {}
        self.functions: dict[tuple[str, str], FunctionRecord] = {}
        self.invocations: list[Invocation] = []
        self.routing = random.Random(seed)
        self.deletions: list[tuple[float, str, str, str | None]] = []
        """(when gone, region, function or provider name, version or None) of every
        deletion in progress; a provider's entry has the version ``PROVIDER``."""
        self.routing_changes: list[RoutingChange] = []
        """Every CreateAlias / UpdateAlias answered, oldest first."""

    def clear(self) -> None:
        with self.lock:
            self.providers.clear()
            self.functions.clear()
            self.invocations.clear()
            self.routing_changes.clear()
            self.deletions.clear()
            self.routing = random.Random(self.seed)

    # -- deletions that take time ------------------------------------------------------------

    def delete_later(self, when: float, region: str, name: str, version: str | None) -> None:
        self.deletions.append((when, region, name, version))

    def sweep(self, now: float | None = None) -> None:
        """Remove for good, from moto too, whatever has been ``Deleting`` long enough."""
        if not self.deletions:
            return
        now = self.clock() if now is None else now
        due = [d for d in self.deletions if d[0] <= now]
        if not due:
            return
        self.deletions = [d for d in self.deletions if d[0] > now]
        for _, region, name, version in due:
            self.forget(region, name, version)

    def forget(self, region: str, name: str, version: str | None) -> None:
        """Remove a function, one version of it, or (``PROVIDER``) a capacity provider."""
        if version == PROVIDER:
            self.providers.pop((region, name), None)
            return
        with contextlib.suppress(JsonRESTError):  # already gone from moto: nothing to remove
            self.backend(region).delete_function(name, version)
        if version is None:
            self.functions.pop((region, name), None)
            return
        record = self.functions.get((region, name))
        if record is not None:
            record.versions.pop(version, None)
            record.scaling.pop(version, None)

    @staticmethod
    def backend(region: str) -> LambdaBackend:
        return lambda_backends[ACCOUNT_ID][region]

    def function(self, region: str, name: str) -> FunctionRecord:
        """The record of an existing moto function (made on demand for functions we missed)."""
        key = (region, name)
        record = self.functions.get(key)
        if record is None:
            record = self.functions[key] = FunctionRecord(None)
            for fn in self.backend(region).list_versions_by_function(name):
                version = str(fn.version)
                record.versions[version] = VersionRecord(None, clock=self.clock)
                if version.isdigit():
                    record.next_version = max(record.next_version, int(version) + 1)
        return record

    def version(self, region: str, name: str, version: str) -> VersionRecord:
        record = self.function(region, name)
        found = record.versions.get(version)
        if found is None:
            config = record.capacity_provider_config
            found = record.versions[version] = (
                VersionRecord.latest(config, self.clock) if version == LATEST
                else VersionRecord(config, clock=self.clock))
        return found

    def provider_by_name_or_arn(self, region: str, name_or_arn: str) -> CapacityProvider:
        name = name_or_arn.rsplit(":capacity-provider:", 1)[-1]
        found = self.providers.get((region, name))
        if found is None:
            raise not_found(f"Capacity provider not found: {name}")
        return found

    def provider_by_arn(self, arn: str) -> CapacityProvider | None:
        for provider in self.providers.values():
            if provider.arn == arn:
                return provider
        return None

    def versions_using(self, arn: str, *, published_only: bool,
                       deleting: bool = True) -> list[tuple[str, str, str]]:
        """(region, function, version) of every version that references a provider
        (``deleting``: with the versions being deleted)."""
        found = []
        for (region, name), record in sorted(self.functions.items()):
            for version, meta in record.versions.items():
                if published_only and version == LATEST:
                    continue
                if not deleting and meta.state == "Deleting":
                    continue
                if meta.capacity_provider_arn == arn:
                    found.append((region, name, version))
        return sorted(found, key=_version_order)


def routing_weights(routing_config: object) -> dict[str, Any]:
    """The AdditionalVersionWeights of an alias's routing config (moto stores it untyped)."""
    if not isinstance(routing_config, dict):
        return {}
    weights = routing_config.get("AdditionalVersionWeights") or {}
    return dict(weights) if isinstance(weights, dict) else {}


def _version_order(item: tuple[str, str, str]) -> tuple[str, str, int, str]:
    region, name, version = item
    return region, name, int(version) if version.isdigit() else -1, version


def moto_function(region: str, name: str, qualifier: str | None = None) -> LambdaFunction:
    """moto's function object; raises moto's own ResourceNotFoundException when missing."""
    return SandboxState.backend(region).get_function(name, qualifier)


def function_arn(region: str, name: str, version: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
    return f"{arn}:{version}" if version else arn
