"""Drift in what post-deploy owns and Terraform cannot see, read from AWS (read-only).

Terraform's plan shows drift in the resources it manages; post-deploy's own state (where
aliases route, the scaling of versions, the warm-up rules, the versions bound to a capacity
provider) lives outside it. :func:`find_drift` reads that state through
:func:`~lmi_delivery.postdeploy.status.read_status` (the paced Lambda client, reads fanned out
within the account's budget) plus the warm-up rules, and reports each kind of drift:

- ``alias-off-deployed``: an alias not on the version its history says was last deployed (or
  rolled back to): someone moved it by hand, or a move was never recorded;
- ``leftover-weights``: an alias still sending part of its traffic to another version, as an
  aborted canary leaves it;
- ``scaling-unsettled``: a served version whose requested scaling is not what is applied;
- ``warm-rule-without-target``: a warm-up rule that no longer sends to the function's alias;
- ``provider-near-quota``: a capacity provider within :data:`QUOTA_MARGIN` versions of the
  quota of 100 versions per provider (the next publishes will fail).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.errors import error_code
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.postdeploy.history import HistoryStore
from lmi_delivery.postdeploy.prune.types import QUOTA_VERSIONS_PER_PROVIDER
from lmi_delivery.postdeploy.status import FunctionStatus, Status, read_status

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient

#: A provider this close to the quota is drift worth a look: prune, or publishes start failing.
QUOTA_MARGIN = 10
KINDS = ("alias-off-deployed", "leftover-weights", "scaling-unsettled",
         "warm-rule-without-target", "provider-near-quota")


@dataclass(frozen=True)
class DriftFinding:
    kind: str
    """One of :data:`KINDS`."""
    subject: str
    """What drifted: ``function:alias``, ``function:version``, a rule or a provider."""
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message}


def _alias_findings(f: FunctionStatus) -> list[DriftFinding]:
    found: list[DriftFinding] = []
    subject = f"{f.function}:{f.alias}"
    if f.alias_version is not None and f.deploys and f.deploys[0].version != f.alias_version:
        last = f.deploys[0]
        found.append(DriftFinding(
            "alias-off-deployed", subject,
            f"alias {f.alias} is on version {f.alias_version}, but the last {last.action} "
            f"recorded in its history put it on version {last.version}"))
    if f.weights:
        shares = ", ".join(f"version {v} at {w:.0%}" for v, w in sorted(f.weights.items()))
        found.append(DriftFinding(
            "leftover-weights", subject,
            f"alias {f.alias} still routes {shares} besides version {f.alias_version} "
            "(what an aborted canary leaves)"))
    for v in f.versions:
        if v.routed > 0 and v.requested is not None and v.requested != v.applied:
            applied = f"{v.applied[0]}-{v.applied[1]}" if v.applied else "nothing"
            found.append(DriftFinding(
                "scaling-unsettled", f"{f.function}:{v.version}",
                f"version {v.version} (served by {f.alias}) has scaling "
                f"{v.requested[0]}-{v.requested[1]} requested, {applied} applied"))
    return found


def _rule_findings(events: EventBridgeClient, alias_arns: dict[str, str], config: Config,
                   env: Environment) -> list[DriftFinding]:
    from botocore.exceptions import ClientError

    found: list[DriftFinding] = []
    for key, alias_arn in alias_arns.items():
        warm = config.functions[key].warm
        if warm is None or not warm.schedule:
            continue  # no warm-up rule is post-deploy's to keep
        rule = naming.warm_rule_name(config, env, key)
        try:
            events.describe_rule(Name=rule)
            answer: Any = events.list_targets_by_rule(Rule=rule)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                continue
            raise
        if not any(str(t.get("Arn")) == alias_arn for t in answer.get("Targets") or ()):
            found.append(DriftFinding(
                "warm-rule-without-target", rule,
                f"warm-up rule {rule} does not target {alias_arn}: its pings reach nothing "
                "(post-deploy's warm step restores the target)"))
    return found


def _alias_arns(lam: LambdaClient, config: Config, env: Environment) -> dict[str, str]:
    """Function key -> the alias ARN its warm-up rule should target (from the function's ARN
    as Lambda reports it, no guessing of partition or account); missing functions are left
    out."""
    arns = {}
    for key, fn in config.functions.items():
        name = naming.function_name(config, env, key)
        try:
            found: Any = lam.get_function_configuration(FunctionName=name)
        except lam.exceptions.ResourceNotFoundException:
            continue
        arns[key] = f"{str(found['FunctionArn']).split(':function:')[0]}:function:{name}:{fn.alias}"
    return arns


def findings_of(status: Status) -> list[DriftFinding]:
    """The drift a status shows: aliases, weights, scaling, capacity providers."""
    found = [finding for f in status.functions for finding in _alias_findings(f)]
    limit = QUOTA_VERSIONS_PER_PROVIDER - QUOTA_MARGIN
    for p in status.providers:
        if p.versions is not None and p.versions >= limit:
            found.append(DriftFinding(
                "provider-near-quota", p.name,
                f"capacity provider {p.name} holds {p.versions} of "
                f"{QUOTA_VERSIONS_PER_PROVIDER} versions (within {QUOTA_MARGIN} of the quota): "
                "prune before the next publishes fail"))
    return found


def find_drift(lam: LambdaClient, events: EventBridgeClient | None, config: Config,
               env: Environment, history: HistoryStore | None) -> tuple[DriftFinding, ...]:
    """Every drift of post-deploy's state in ``env`` (reads only)."""
    found = findings_of(read_status(lam, config, env, history))
    if events is not None:
        found += _rule_findings(events, _alias_arns(lam, config, env), config, env)
    return tuple(found)
