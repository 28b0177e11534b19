"""An opt-in canary for an alias move: a weighted shift, alarms watched, then promote or roll back.

While the canary runs, the alias keeps routing to the version it had and sends ``weight`` of the
invocations to the new version (``RoutingConfig.AdditionalVersionWeights``). Every poll reads
the configured CloudWatch alarms; one in ``ALARM`` rolls the alias back (the extra weight
removed, the old version alone again) and stops the deploy. When the time is up with every alarm
quiet, the alias moves to the new version with no extra weight. Each update passes the
``RevisionId`` of the previous one, so a concurrent change is detected, not overwritten.

AWS has not confirmed weighted alias routing for Lambda Managed Instances versions: the canary
is opt-in (``functions.<f>.canary`` in the config).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lmi_delivery.config.model import Canary
from lmi_delivery.errors import OperationFailed
from lmi_delivery.plan.steps import AliasMove
from lmi_delivery.postdeploy.report import ProgressLog

POLL_SECONDS = 30.0


class CanaryRolledBack(OperationFailed):
    """An alarm fired during the canary; the alias was put back on its previous version."""


@dataclass(frozen=True)
class CanaryClock:
    """Time, injectable so tests never wait for real."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    poll_seconds: float = POLL_SECONDS


def firing(cloudwatch: Any, alarms: tuple[str, ...]) -> list[str]:
    """The alarms among ``alarms`` that are in ``ALARM`` now."""
    if not alarms:
        return []
    found: list[str] = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=list(alarms)):
        found += [a["AlarmName"] for a in page.get("MetricAlarms", [])
                  if a.get("StateValue") == "ALARM"]
        found += [a["AlarmName"] for a in page.get("CompositeAlarms", [])
                  if a.get("StateValue") == "ALARM"]
    return sorted(found)


def _route(lam: Any, step: AliasMove, primary: str, weights: dict[str, float],
           revision: str) -> str:
    answer = lam.update_alias(FunctionName=step.function, Name=step.alias,
                              FunctionVersion=primary, RevisionId=revision,
                              RoutingConfig={"AdditionalVersionWeights": weights})
    return str(answer["RevisionId"])


def run_canary(lam: Any, cloudwatch: Any, step: AliasMove, revision: str, canary: Canary, *,
               reporter: ProgressLog, clock: CanaryClock | None = None) -> None:
    """Shift, watch, then promote; roll back and raise :class:`CanaryRolledBack` on an alarm."""
    clock = clock or CanaryClock()
    label = f"{step.function}:{step.alias}"
    old, new = step.from_version, step.to_version
    if old is None:  # pragma: no cover - a new alias has no traffic to protect; callers create it
        raise OperationFailed(f"no canary for {label}: the alias does not exist yet")
    if canary.alarms and cloudwatch is None:
        raise OperationFailed(f"canary of {label} watches alarms but no CloudWatch client was "
                              "given")
    revision = _route(lam, step, old, {new: canary.weight}, revision)
    reporter.say(f"canary {label}: {canary.weight:.0%} of traffic to {new}, {old} keeps the "
                 f"rest, for {canary.minutes:g} min watching {len(canary.alarms)} alarm(s)")
    deadline = clock.now() + canary.minutes * 60
    while True:
        alarms = firing(cloudwatch, canary.alarms) if canary.alarms else []
        if alarms:
            _route(lam, step, old, {}, revision)
            reporter.say(f"canary {label}: rolled back to {old} ({', '.join(alarms)} in ALARM)")
            raise CanaryRolledBack(
                f"canary of {label} rolled back to version {old}: alarm(s) "
                f"{', '.join(alarms)} in ALARM while {canary.weight:.0%} of traffic went to "
                f"{new}", context={"function": step.function, "alarms": alarms})
        left = deadline - clock.now()
        if left <= 0:
            break
        clock.sleep(min(clock.poll_seconds, left))
    _route(lam, step, new, {}, revision)
    reporter.say(f"canary {label}: promoted {new} (alarms quiet for {canary.minutes:g} min)")
