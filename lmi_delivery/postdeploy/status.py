"""``lmi-delivery status``: what an environment serves now, read-only.

Per function of the config: where its alias routes (version and weights), every published
version with its state and its requested and applied scaling (``GetFunctionScalingConfig``
answers both while a change settles), the execution environments still applied to versions no
alias routes to (superseded versions keep their cost until scaled down or pruned), and the last
deploys from the alias history (commit, plan sha256, approver, time: claims from S3, shown as
such). Per capacity provider of the config: the versions bound to it against the quota of 100.

Reads only. The reads of one step do not depend on each other, so they run at once
(:func:`lmi_delivery.aws.fanout.fan_out`) through the paced Lambda client: the shared budget
(15 requests/s), not the thread count, sets the rate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.errors import error_code
from lmi_delivery.aws.fanout import fan_out
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.escape import code_span
from lmi_delivery.postdeploy.alias import numbered_versions
from lmi_delivery.postdeploy.history import Entry, HistoryStore
from lmi_delivery.postdeploy.prune.types import QUOTA_VERSIONS_PER_PROVIDER

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

SCHEMA = "lmi-delivery/status@1"
LAST_DEPLOYS = 5


@dataclass(frozen=True)
class VersionStatus:
    version: str
    state: str
    requested: tuple[int, int] | None = None
    """(min, max) environments requested and not applied yet; ``None`` when settled."""
    applied: tuple[int, int] | None = None
    """(min, max) environments applied; ``None`` when the version has no scaling config."""
    routed: float = 0.0
    """Share of the alias's traffic it receives (1.0 for the primary without weights)."""


@dataclass(frozen=True)
class FunctionStatus:
    function: str
    alias: str
    alias_version: str | None
    weights: dict[str, float] = field(default_factory=dict)
    versions: tuple[VersionStatus, ...] = ()
    deploys: tuple[Entry, ...] = ()
    history_error: str | None = None

    @property
    def superseded_environments(self) -> int:
        """Applied minimum environments of versions no alias routes to."""
        return sum(v.applied[0] for v in self.versions if v.routed == 0 and v.applied)


@dataclass(frozen=True)
class ProviderStatus:
    name: str
    versions: int | None
    """Versions bound to it (``None``: the provider does not exist)."""


@dataclass(frozen=True)
class Status:
    service: str
    environment: str
    functions: tuple[FunctionStatus, ...]
    providers: tuple[ProviderStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "service": self.service, "environment": self.environment,
            "functions": [{
                "function": f.function, "alias": f.alias, "alias_version": f.alias_version,
                "weights": f.weights, "superseded_environments": f.superseded_environments,
                "versions": [{"version": v.version, "state": v.state, "routed": v.routed,
                              "requested": _pair(v.requested), "applied": _pair(v.applied)}
                             for v in f.versions],
                "deploys": [e.to_dict() for e in f.deploys], "history_error": f.history_error,
            } for f in self.functions],
            "capacity_providers": [{"name": p.name, "versions": p.versions,
                                    "quota": QUOTA_VERSIONS_PER_PROVIDER}
                                   for p in self.providers],
        }

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2) + "\n"
        return _markdown(self) if fmt == "markdown" else _text(self)


def _pair(value: tuple[int, int] | None) -> dict[str, int] | None:
    return None if value is None else {"min": value[0], "max": value[1]}


def _scaling_text(v: VersionStatus) -> str:
    applied = f"applied {v.applied[0]}-{v.applied[1]}" if v.applied else "no scaling config"
    return applied + (f", requested {v.requested[0]}-{v.requested[1]}" if v.requested else "")


def _routing(f: FunctionStatus) -> str:
    if f.alias_version is None:
        return f"{f.alias}: (no alias)"
    extra = "".join(f" + {v} at {w:.0%}" for v, w in sorted(f.weights.items()))
    return f"{f.alias} -> {f.alias_version}{extra}"


def _deploy(e: Entry) -> str:
    return (f"{e.at or '?'} {e.action} {e.previous or '(new)'} -> {e.version} commit "
            f"{e.commit or '-'} plan {(e.plan_sha256 or '-')[:12]} approver {e.approver or '-'}")


def _text(status: Status) -> str:
    lines = [f"status {status.service} / {status.environment}"]
    for f in status.functions:
        lines.append(f"{f.function}: {_routing(f)}")
        for v in f.versions:
            served = f", serves {v.routed:.0%}" if v.routed else ""
            lines.append(f"  {v.version:<6} {v.state:<12} {_scaling_text(v)}{served}")
        lines.append(f"  superseded versions hold {f.superseded_environments} environment(s)")
        if f.history_error:
            lines.append(f"  history unreadable: {f.history_error}")
        lines += [f"  deploy {_deploy(e)}" for e in f.deploys]
    for p in status.providers:
        held = "does not exist" if p.versions is None else \
            f"{p.versions} of {QUOTA_VERSIONS_PER_PROVIDER} versions"
        lines.append(f"capacity provider {p.name}: {held}")
    return "\n".join(lines) + "\n"


def _markdown(status: Status) -> str:
    lines = [f"### Status `{status.service}` / `{status.environment}`", "",
             "| Function | Alias | Version | State | Scaling | Traffic |",
             "|---|---|---|---|---|---|"]
    for f in status.functions:
        for v in f.versions:
            lines.append(f"| `{f.function}` | {code_span(_routing(f), table=True)} | "
                         f"{v.version} | {v.state} | {_scaling_text(v)} | {v.routed:.0%} |")
    lines += ["", "| Function | Superseded environments |", "|---|---|"]
    lines += [f"| `{f.function}` | {f.superseded_environments} |" for f in status.functions]
    lines += ["", "| Capacity provider | Versions | Quota |", "|---|---|---|"]
    lines += [f"| `{p.name}` | {'-' if p.versions is None else p.versions} | "
              f"{QUOTA_VERSIONS_PER_PROVIDER} |" for p in status.providers]
    lines += ["", "| Function | Last deploys |", "|---|---|"]
    lines += [f"| `{f.function}` | {code_span(_deploy(e), table=True)} |"
              for f in status.functions for e in f.deploys]
    return "\n".join(lines) + "\n"


def _alias(lam: LambdaClient, function: str, alias: str) -> tuple[str | None, dict[str, float]]:
    try:
        found: Any = lam.get_alias(FunctionName=function, Name=alias)
    except lam.exceptions.ResourceNotFoundException:
        return None, {}
    weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return str(found["FunctionVersion"]), {str(k): float(w) for k, w in weights.items()}


def _versions(lam: LambdaClient, function: str) -> list[tuple[str, str]]:
    """(version, State) of every numbered version, oldest first; none for a missing function."""
    try:
        found = numbered_versions(lam, function)
    except lam.exceptions.ResourceNotFoundException:
        return []
    return [(str(number), state) for number, state in reversed(found)]


def _scaling(lam: LambdaClient, function: str, version: str
             ) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    from botocore.exceptions import ClientError

    try:
        answer: Any = lam.get_function_scaling_config(FunctionName=function, Qualifier=version)
    except ClientError as exc:
        if error_code(exc) in ("ResourceNotFoundException", "AccessDeniedException"):
            return None, None
        raise

    def pair(key: str) -> tuple[int, int] | None:
        found = answer.get(key)
        return None if not found else (int(found.get("MinExecutionEnvironments", 0)),
                                       int(found.get("MaxExecutionEnvironments", 0)))

    return pair("RequestedFunctionScalingConfig"), pair("AppliedFunctionScalingConfig")


def _provider_versions(lam: LambdaClient, name: str) -> int | None:
    from botocore.exceptions import ClientError

    count, marker = 0, None
    while True:
        try:
            page: Any = lam.list_function_versions_by_capacity_provider(
                CapacityProviderName=name, MaxItems=50, **({"Marker": marker} if marker else {}))
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        count += sum(1 for v in page.get("FunctionVersions") or ()
                     if not str(v["FunctionArn"]).endswith(("$LATEST", "$LATEST.PUBLISHED")))
        marker = page.get("NextMarker")
        if not marker:
            return count


def read_status(lam: LambdaClient, config: Config, env: Environment,
                history: HistoryStore | None) -> Status:
    """The environment's status; every read at once where they do not depend on each other."""
    from lmi_delivery.errors import LmiError

    targets = [(naming.function_name(config, env, key), fn.alias)
               for key, fn in config.functions.items()]
    aliases = fan_out(lambda t: _alias(lam, *t), targets, name="status")
    listed = fan_out(lambda t: _versions(lam, t[0]), targets, name="status")
    wanted = [(t[0], v) for t, versions in zip(targets, listed, strict=True)
              for v, _ in versions]
    scaling = dict(zip(wanted, fan_out(lambda w: _scaling(lam, *w), wanted, name="status"),
                       strict=True))
    providers = [naming.capacity_provider_name(config, env, key)
                 for key in sorted(config.capacity_providers)]
    counts = fan_out(lambda name: _provider_versions(lam, name), providers, name="status")
    histories: dict[tuple[str, str], Any] = {}
    history_error = None
    if history is not None:
        try:
            histories = history.read_many(targets)
        except LmiError as exc:
            history_error = exc.message
    functions = []
    for (name, alias), (current, weights), versions in zip(targets, aliases, listed,
                                                           strict=True):
        share = {current: 1.0 - sum(weights.values())} if current else {}
        share.update(weights)
        found = histories.get((name, alias))
        functions.append(FunctionStatus(
            name, alias, current, weights,
            tuple(VersionStatus(v, state, *scaling[(name, v)], routed=share.get(v, 0.0))
                  for v, state in versions),
            found.last_deploys(LAST_DEPLOYS) if found is not None else (), history_error))
    return Status(config.service, env.name, tuple(functions),
                  tuple(ProviderStatus(p, c) for p, c in zip(providers, counts, strict=True)))
