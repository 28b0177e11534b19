"""Prime the runtimes of a new version, or behind each alias, with concurrent warm-up invocations.

Before traffic moves, the new version is invoked by its number (a warm step with a
``qualifier``); otherwise the alias is. ``$LATEST`` never is (warming ``$LATEST`` does not warm
the alias). Invocations are made with
``concurrency`` parallel requests carrying the payload of :mod:`lmi_delivery.warmup`. An alias
that routes to a version that is not ``Active`` (one a 0/0 scaling config deactivated, above
all) is refused before anything is invoked. Each
invocation's latency and ``ExecutedVersion`` are reported; an invocation that ran any version
other than the ones the alias should route to fails the step (exit 1).

On Lambda Managed Instances invocations do not create execution environments (scaling follows
CPU and concurrency saturation, AWS-FACTS.md): the minimum environment count set by the scale
step is what keeps a function warm. These invocations only prime the environments that exist:
imports, JIT, caches, connections. Parallel requests are not guaranteed to land on distinct
environments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.fanout import fan_out
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import OperationFailed
from lmi_delivery.plan.release_steps import NEW, warm_steps
from lmi_delivery.plan.steps import RUNNER, Warm
from lmi_delivery.postdeploy.alias import not_active_hint, version_state
from lmi_delivery.postdeploy.report import ProgressLog, WarmInvocation
from lmi_delivery.warmup import warmup_payload

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

#: More parallel invocations than this are refused: warming is not load testing.
MAX_CONCURRENCY = 64
#: Aliases warmed at once: invocations take no control-plane budget, only round trips.
ALIASES_AT_ONCE = 32


@dataclass(frozen=True)
class WarmTarget:
    step: Warm
    expected: frozenset[str]
    """Versions the alias routes to; an invocation running anything else fails the step."""


@dataclass(frozen=True)
class WarmPlan:
    targets: tuple[WarmTarget, ...]

    @property
    def steps(self) -> tuple[Warm, ...]:
        return tuple(t.step for t in self.targets)


def alias_versions(client: LambdaClient, function: str, alias: str) -> frozenset[str]:
    """The versions an alias routes to: its primary and any weighted additional version."""
    try:
        found: Any = client.get_alias(FunctionName=function, Name=alias)
    except client.exceptions.ResourceNotFoundException:
        return frozenset()
    weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return frozenset({str(found["FunctionVersion"]), *(str(v) for v in weights)})


def plan_warm(client: LambdaClient | None, config: Config, env: Environment, *,
              versions: Mapping[str, str] | None = None, functions: Iterable[str] | None = None,
              where: str = RUNNER) -> WarmPlan:
    """Read-only. The expected version is ``versions[name]`` when the deploy is moving the alias
    there, else whatever the alias routes to now."""
    return resolve_warm(client, warm_steps(config, env, where, functions=functions),
                        versions=versions)


def resolve_warm(client: LambdaClient | None, steps: Iterable[Warm], *,
                 versions: Mapping[str, str] | None = None) -> WarmPlan:
    """Each warm step with the versions its invocations must land on. A step on ``new``
    invokes the version this run published (``versions``), or the alias when nothing was
    published."""
    targets = []
    for step in steps:
        if not 1 <= step.concurrency <= MAX_CONCURRENCY:
            raise OperationFailed(f"warm concurrency of {step.function} must be "
                                  f"1..{MAX_CONCURRENCY}")
        name = step.function
        if step.qualifier == NEW:
            step = replace(step, qualifier=(versions or {}).get(name))
        if step.qualifier:
            expected = frozenset({step.qualifier})
        elif versions and name in versions:
            expected = frozenset({versions[name]})
        elif client is not None:
            expected = alias_versions(client, name, step.alias)
            if not expected:
                raise OperationFailed(f"{name}: alias {step.alias} does not exist: nothing to "
                                      "warm")
        else:
            expected = frozenset({NEW})  # offline: the version the deploy publishes
        targets.append(WarmTarget(step, expected))
    return WarmPlan(tuple(targets))


def execute_warm(client: LambdaClient, plan: WarmPlan, *, reporter: ProgressLog,
                 run_id: str = "warm") -> dict[str, list[WarmInvocation]]:
    """Invoke every alias ``concurrency`` times in parallel, the aliases at once (after every
    target's state was checked); fail on an unexpected version."""
    results: dict[str, list[WarmInvocation]] = {}
    problems: list[str] = []
    fan_out(partial(_refuse_unready, client), plan.targets, name="warm-state")

    def invocations(target: WarmTarget) -> list[WarmInvocation]:
        step = target.step
        ids = [f"{run_id}-{step.function}-{i}" for i in range(step.concurrency)]
        with ThreadPoolExecutor(max_workers=step.concurrency,
                                thread_name_prefix="warm") as pool:
            return list(pool.map(partial(_invoke, client, step), ids))

    made = fan_out(invocations, plan.targets, workers=ALIASES_AT_ONCE, name="warm")
    for target, done in zip(plan.targets, made, strict=True):
        step = target.step
        label = f"{step.function}:{step.qualifier or step.alias}"
        results[step.function] = done
        for item in done:
            reporter.record("warm", step.function, item.executed_version,
                            message=f"warm {label} #{item.id}: ran "
                                    f"{item.executed_version} in {item.latency_ms:.0f} ms"
                                    + (f" ({item.error})" if item.error else ""))
            if item.error:
                problems.append(f"{label} invocation {item.id} failed: "
                                f"{item.error}")
            elif item.executed_version not in target.expected:
                problems.append(f"{label} invocation {item.id} ran version "
                                f"{item.executed_version}, expected "
                                f"{' or '.join(sorted(target.expected))}")
    if problems:
        raise OperationFailed("warm-up failed:\n  " + "\n  ".join(problems),
                              context={"results": {k: len(v) for k, v in results.items()}})
    return results


def _refuse_unready(client: LambdaClient, target: WarmTarget) -> None:
    """Refuse to warm an alias that routes to a version that cannot serve (``Deactivated`` by a
    0/0 scaling config, still ``Pending``, ...): its invocations could only fail."""
    for version in sorted(target.expected):
        if version == "new":
            continue
        state = version_state(client, target.step.function, version)
        if state != "Active":
            raise OperationFailed(
                f"refusing to warm {target.step.function}:{target.step.alias}: it routes to "
                f"version {version}, which is {state}, not Active{not_active_hint(state)}",
                context={"function": target.step.function, "version": version})


def _invoke(client: LambdaClient, step: Warm, invocation_id: str) -> WarmInvocation:
    from botocore.exceptions import BotoCoreError, ClientError

    payload = json.dumps(warmup_payload(invocation_id)).encode()
    started = time.perf_counter()
    try:
        answer: Any = client.invoke(FunctionName=step.function,
                                    Qualifier=step.qualifier or step.alias, Payload=payload)
    except (ClientError, BotoCoreError) as refused:
        return WarmInvocation(invocation_id, "-", (time.perf_counter() - started) * 1000, 0,
                              str(refused))
    latency = (time.perf_counter() - started) * 1000
    body = answer.get("Payload")
    if body is not None:
        body.read()
    error = answer.get("FunctionError")
    return WarmInvocation(invocation_id, str(answer.get("ExecutedVersion", "-")), latency,
                          int(answer.get("StatusCode", 0)),
                          f"function error: {error}" if error else None)
