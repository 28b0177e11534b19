"""Set each LMI version's execution environments, before traffic moves and after it left.

Post-deploy is one possible owner of this knob (the Terraform AWS provider has
``aws_lambda_function_scaling_config`` since 6.54); one function should have one owner.
Before the alias moves, the new version's minimum is raised to the live version's *applied*
environments (the default 3 when none is applied), capped by ``max``
(:func:`lmi_delivery.plan.headroom.new_minimum`), and applied before anything moves. After
it moved, the version the alias left is scaled down to the function's ``scaling.floor`` (0:
deactivated with min 0 / max 0) once no alias routes to it (:func:`resolve_scale_down`).

``PutFunctionScalingConfig(Qualifier=<version>, FunctionScalingConfig={Min…, Max…})``, then
``GetFunctionScalingConfig`` is polled until the *applied* config equals the requested one, with
a bounded wait and progress lines. A Put on a version that is still starting answers
``ResourceConflictException`` (AWS-FACTS.md): it is retried within the same bounded wait. On LMI
the minimum environment count is what keeps a function warm; warm-up invocations only prime
those environments. 0/0 deactivates a version: it is then no longer invocable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.fanout import WORKERS, fan_out
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import AwsError, OperationFailed
from lmi_delivery.plan.headroom import new_minimum
from lmi_delivery.plan.release_steps import NEW, scale_steps
from lmi_delivery.plan.steps import RUNNER, Scale, ScaleDown
from lmi_delivery.postdeploy.alias import read_alias
from lmi_delivery.postdeploy.headroom import applied_environments
from lmi_delivery.postdeploy.publish import aws_call
from lmi_delivery.postdeploy.report import ProgressLog

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


@dataclass(frozen=True)
class ScaleWait:
    delay: float = 5.0
    timeout: float = 300.0
    progress_every: float = 10.0


@dataclass(frozen=True)
class ScalePlan:
    steps: tuple[Scale, ...]


@dataclass(frozen=True)
class ScaleResult:
    function: str
    qualifier: str
    min: int
    max: int


def plan_scale(client: LambdaClient | None, config: Config, env: Environment, *,
               versions: Mapping[str, str] | None = None,
               functions: Iterable[str] | None = None, where: str = RUNNER) -> ScalePlan:
    """Read-only. The qualifier is ``versions[name]``, else where the alias points now (read
    through ``client``), else ``new`` (resolved by the publish step at run time)."""
    steps = scale_steps(config, env, where, functions=functions, versions=versions)
    return resolve_scale(client, config, env, steps)


def resolve_scale(client: LambdaClient | None, config: Config, env: Environment,
                  steps: Iterable[Scale], *, unpublished: Iterable[str] = (),
                  live: Mapping[str, str | None] | None = None,
                  environments: Mapping[str, int] | None = None) -> ScalePlan:
    """Each scale step on a concrete version: ``new`` is where the alias points now, except
    for the ``unpublished`` functions (a dry run's publishes: the version does not exist).

    A step that matches the live version gets a minimum of at least the applied environments
    of ``live[function]`` (the version its alias routes to; read when not given), up to its
    max (``environments``: function → those environments, already read by the headroom
    check). A step on the live version itself, or of a function with no alias yet, keeps its
    configured minimum."""
    pending = set(unpublished)
    known = dict(live or {})
    applied = dict(environments or {})
    aliases = {naming.function_name(config, env, key): fn.alias
               for key, fn in config.functions.items()}
    resolved = []
    for step in steps:
        qualifier = step.qualifier
        if qualifier == NEW and client is not None and step.function not in pending:
            found = read_alias(client, step.function, aliases[step.function])[0]
            if found is None:
                raise OperationFailed(
                    f"{step.function}: no version to scale (alias {aliases[step.function]} "
                    "does not exist yet): publish and move the alias first")
            qualifier = found
        step = replace(step, qualifier=qualifier)
        if step.match_live and client is not None:
            step = _matched(client, step, known, aliases[step.function], applied)
        resolved.append(step)
    return ScalePlan(tuple(resolved))


def _matched(client: LambdaClient, step: Scale, live: dict[str, str | None], alias: str,
             applied: Mapping[str, int]) -> Scale:
    """``step`` with its minimum raised to the live version's applied environments."""
    if step.function not in live:
        live[step.function] = read_alias(client, step.function, alias)[0]
    current = live[step.function]
    if current is None or current == step.qualifier:
        return replace(step, match_live=False)
    environments = (applied[step.function] if step.function in applied
                    else applied_environments(client, step.function, current))
    return replace(step, min=new_minimum(step.min, step.max, environments), match_live=False)


def resolve_scale_down(client: LambdaClient, steps: Iterable[ScaleDown], *,
                       left: Mapping[str, str], reporter: ProgressLog,
                       check_routing: bool = True) -> ScalePlan:
    """The scale-down steps as scale steps on the version each alias left this run
    (``left``: function name → version), for those no alias routes to any more (every alias
    of the function is read, weighted routing included, the functions at once; not when
    ``check_routing`` is off, as in a dry run, where the alias has not moved yet). The rest are
    skipped, said why."""
    candidates = [(step, version) for step in steps
                  if (version := step.version or left.get(step.function)) is not None]
    routing = (fan_out(lambda item: _routed_by(client, item[0].function, item[1]), candidates,
                       name="scale-down-read")
               if check_routing else [[] for _ in candidates])
    resolved = []
    for (step, version), routed in zip(candidates, routing, strict=True):
        if routed:
            reporter.say(f"not scaling {step.function}:{version} down: alias(es) "
                         f"{', '.join(routed)} still route to it")
            continue
        resolved.append(Scale(step.where, step.function, version, step.min, step.max))
    return ScalePlan(tuple(resolved))


def _routed_by(client: LambdaClient, function: str, version: str) -> list[str]:
    """The aliases of ``function`` that route to ``version`` (primary or weighted)."""
    found = []
    for page in client.get_paginator("list_aliases").paginate(FunctionName=function):
        for alias in page["Aliases"]:
            item: Any = alias
            weights = (item.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            if str(item["FunctionVersion"]) == version or version in weights:
                found.append(str(item["Name"]))
    return sorted(found)


def execute_scale(client: LambdaClient, plan: ScalePlan, *, reporter: ProgressLog,
                  wait: ScaleWait | None = None, sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> tuple[ScaleResult, ...]:
    """Set every step's scaling config and wait until each is applied, the functions at once
    (each mostly waits; the budget paces the calls). Every step is tried; the first failure,
    in the plan's order, is raised once all are done."""
    settings = wait or ScaleWait()

    def one(step: Scale) -> ScaleResult:
        wanted: Any = {"MinExecutionEnvironments": step.min,
                       "MaxExecutionEnvironments": step.max}
        _put(client, step, wanted, settings, reporter, sleep, clock)
        reporter.record("scale", step.function, f"{step.qualifier}:{step.min}-{step.max}",
                        message=f"requested {step.function}:{step.qualifier} min {step.min}, "
                                f"max {step.max}")
        _await_applied(client, step, wanted, settings, reporter, sleep, clock)
        return ScaleResult(step.function, step.qualifier, step.min, step.max)

    return tuple(fan_out(one, plan.steps, workers=max(WORKERS, len(plan.steps)), name="scale"))


def _put(client: LambdaClient, step: Scale, wanted: Any, wait: ScaleWait,
         reporter: ProgressLog, sleep: Callable[[float], None],
         clock: Callable[[], float]) -> None:
    """The Put, retried while the version is still starting (``ResourceConflictException``)."""
    started = clock()
    last_report: float | None = None
    while True:
        try:
            aws_call("PutFunctionScalingConfig",
                     partial(client.put_function_scaling_config, FunctionName=step.function,
                             Qualifier=step.qualifier, FunctionScalingConfig=wanted),
                     function=step.function)
            return
        except AwsError as refused:
            if refused.code != "ResourceConflictException":
                raise
            now = clock()
            if now - started >= wait.timeout:
                raise OperationFailed(
                    f"{step.function}:{step.qualifier} refused its scaling config for "
                    f"{wait.timeout:.0f} s: {refused.message}",
                    context={"function": step.function}) from None
            if last_report is None or now - last_report >= wait.progress_every:
                last_report = now
                reporter.say(f"{step.function}:{step.qualifier} is not ready for a scaling "
                             f"change yet (still starting): retrying…")
        sleep(wait.delay)


def _await_applied(client: LambdaClient, step: Scale, wanted: dict[str, Any], wait: ScaleWait,
                   reporter: ProgressLog, sleep: Callable[[float], None],
                   clock: Callable[[], float]) -> None:
    started = last_report = clock()
    while True:
        answer: Any = aws_call("GetFunctionScalingConfig",
                               partial(client.get_function_scaling_config,
                                       FunctionName=step.function, Qualifier=step.qualifier),
                               function=step.function)
        applied = {k: answer.get("AppliedFunctionScalingConfig", {}).get(k) for k in wanted}
        if applied == wanted:
            reporter.record("scaled", step.function, step.qualifier,
                            message=f"{step.function}:{step.qualifier} scaling applied")
            return
        now = clock()
        if now - started >= wait.timeout:
            raise OperationFailed(
                f"{step.function}:{step.qualifier} scaling not applied after {wait.timeout:.0f} s:"
                f" requested {wanted}, applied {applied}", context={"function": step.function})
        if now - last_report >= wait.progress_every:
            last_report = now
            reporter.say(f"waiting for {step.function}:{step.qualifier} scaling to apply "
                         f"(applied {applied}, {now - started:.0f} s)…")
        sleep(wait.delay)
