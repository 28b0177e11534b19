"""Move an existing alias's traffic to a new version step by step, watching alarms and hooks.

A rollout (:class:`~lmi_delivery.plan.steps.AliasMove` with ``weights``, ``alarms`` or hooks):

1. the ``pre_traffic`` hook function is invoked with the versions; a failure stops here, with
   the routing untouched;
2. for each share of ``weights`` (one for a canary, ``step, 2·step, …`` for linear), the alias
   keeps its version and sends that share to the new one
   (``RoutingConfig.AdditionalVersionWeights``), and the alarms are watched for
   ``interval_minutes``;
3. the alias moves to the new version alone, and the alarms are watched for ``bake_minutes``
   (at least once);
4. the ``post_traffic`` hook function is invoked.

Every poll reads the alarms (``DescribeAlarms``); one in ``ALARM``, or a failing hook, restores
the previous routing (the old version alone) at once, within the poll that saw it, and raises
:class:`RolloutRolledBack` (exit 1) saying which. Every routing change goes through the
``route`` callable the alias step hands in: the one alias-move primitive
(:func:`lmi_delivery.postdeploy.alias.route`), which passes the ``RevisionId`` of the previous
change, so a concurrent change is detected, not overwritten. AWS's LMI deployment guide documents
weighted-alias blue/green (``AdditionalVersionWeights``) for LMI versions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lmi_delivery.errors import OperationFailed
from lmi_delivery.plan.steps import AliasMove
from lmi_delivery.postdeploy.report import ProgressLog

POLL_SECONDS = 30.0

#: ``route(primary, additional_weights)``: one routing change of the alias being moved.
Route = Callable[[str, dict[str, float]], None]


class RolloutRolledBack(OperationFailed):
    """An alarm fired or a hook failed during a rollout; the previous routing was restored."""


@dataclass(frozen=True)
class RolloutClock:
    """Time, injectable so tests never wait for real."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    poll_seconds: float = POLL_SECONDS


class _Stop(Exception):
    """Why a rollout stops: an alarm in ALARM or a failing hook (the message says which)."""


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


def hook_payload(step: AliasMove, stage: str) -> dict[str, Any]:
    """What a ``pre_traffic``/``post_traffic`` hook function is invoked with."""
    return {"lmi-delivery": {"hook": stage, "function": step.function, "alias": step.alias,
                             "from_version": step.from_version,
                             "to_version": step.to_version}}


def invoke_hook(lam: Any, hook: str, step: AliasMove, stage: str) -> str | None:
    """Invoke ``hook`` synchronously; why it failed, or ``None`` when it succeeded."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = lam.invoke(FunctionName=hook, InvocationType="RequestResponse",
                            Payload=json.dumps(hook_payload(step, stage)).encode())
    except (ClientError, BotoCoreError) as error:
        return f"{stage} hook {hook} could not be invoked: {error}"
    body = answer.get("Payload")
    text = body.read().decode(errors="replace")[:300] if body is not None else ""
    if answer.get("FunctionError"):
        return f"{stage} hook {hook} failed ({answer['FunctionError']}): {text}"
    if int(answer.get("StatusCode", 200)) >= 300:
        return f"{stage} hook {hook} answered HTTP {answer.get('StatusCode')}"
    return None


def run_rollout(lam: Any, cloudwatch: Any, step: AliasMove, route: Route, *,
                reporter: ProgressLog, clock: RolloutClock | None = None) -> None:
    """Carry out the rollout of ``step`` through ``route``; restore the previous routing and
    raise :class:`RolloutRolledBack` when an alarm fires or a hook fails."""
    clock = clock or RolloutClock()
    label = f"{step.function}:{step.alias}"
    old, new = step.from_version, step.to_version
    if old is None:  # pragma: no cover - a new alias has no traffic to protect; callers create it
        raise OperationFailed(f"no rollout for {label}: the alias does not exist yet")
    if step.alarms and cloudwatch is None:
        raise OperationFailed(f"the rollout of {label} watches alarms but no CloudWatch client "
                              "was given")
    if step.pre_traffic:
        failed = invoke_hook(lam, step.pre_traffic, step, "pre_traffic")
        if failed:
            raise RolloutRolledBack(f"rollout of {label} stopped before any traffic moved: "
                                    f"{failed}; the alias stays on {old}",
                                    context={"function": step.function, "reason": failed})
    shown = None
    try:
        for index, weight in enumerate(step.weights, 1):
            route(old, {new: weight})
            shown = f"{weight:.0%} to {new}"
            reporter.say(f"rollout {label}: step {index}/{len(step.weights) + 1}: {shown}, "
                         f"{old} keeps the rest, for {step.interval_minutes:g} min watching "
                         f"{len(step.alarms)} alarm(s)")
            _watch(cloudwatch, step, step.interval_minutes, clock)
        route(new, {})
        shown = f"100% to {new}"
        reporter.say(f"rollout {label}: {shown}, baking {step.bake_minutes:g} min")
        _watch(cloudwatch, step, step.bake_minutes, clock)
        if step.post_traffic:
            failed = invoke_hook(lam, step.post_traffic, step, "post_traffic")
            if failed:
                raise _Stop(failed)
    except _Stop as why:
        route(old, {})
        reporter.say(f"rollout {label}: restored {old} alone ({why})")
        raise RolloutRolledBack(
            f"rollout of {label} rolled back to version {old}: {why} while {shown} went",
            context={"function": step.function, "reason": str(why)}) from None
    reporter.say(f"rollout {label}: {new} takes all traffic (alarms quiet)")


def _watch(cloudwatch: Any, step: AliasMove, minutes: float, clock: RolloutClock) -> None:
    """Poll the alarms for ``minutes`` (at least once); raise :class:`_Stop` on one in ALARM."""
    deadline = clock.now() + minutes * 60
    while True:
        alarms = firing(cloudwatch, step.alarms) if step.alarms else []
        if alarms:
            raise _Stop(f"alarm(s) {', '.join(alarms)} in ALARM")
        left = deadline - clock.now()
        if left <= 0:
            return
        clock.sleep(min(clock.poll_seconds, left))
