"""The capacity headroom gate: the cutover's peak against the provider's ``MaxVCpuCount``.

Read-only. For each function of a :class:`~lmi_delivery.plan.steps.CapacityCheck`, the live
version is where its alias routes now, its environments are what
``GetFunctionScalingConfig`` shows *applied* for it (the default 3 when it shows none), the new
version's minimum is what the scale step will set (:func:`lmi_delivery.plan.headroom.new_minimum`;
the default 3 for a function without ``scaling:``), and an environment's vCPUs come from the
function's ``MemorySize`` and ``ExecutionEnvironmentMemoryGiBPerVCpu``. The provider's
``MaxVCpuCount`` comes from ``GetCapacityProvider``. A peak over it refuses the deploy
(:class:`HeadroomRefused`, exit 3) before anything is scaled or any traffic moves, with the
numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.fanout import fan_out
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import GateRefused
from lmi_delivery.plan.headroom import (
    DEFAULT_ENVIRONMENTS,
    DEFAULT_GIB_PER_VCPU,
    CutoverPeak,
    FunctionCutover,
    cutover_peak,
    new_minimum,
)
from lmi_delivery.plan.steps import CapacityCheck
from lmi_delivery.postdeploy.publish import aws_call

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class HeadroomRefused(GateRefused):
    """The cutover's peak does not fit the capacity provider's ``MaxVCpuCount``."""


def applied_environments(client: LambdaClient, function: str, version: str) -> int:
    """The minimum execution environments in force on ``version``: its applied scaling config,
    else the default a published version starts (3)."""
    answer: Any = aws_call("GetFunctionScalingConfig", partial(
        client.get_function_scaling_config, FunctionName=function, Qualifier=version),
        function=function)
    applied = answer.get("AppliedFunctionScalingConfig") or {}
    found = applied.get("MinExecutionEnvironments")
    return DEFAULT_ENVIRONMENTS if found is None else int(found)


def max_vcpus(client: LambdaClient, provider: str) -> int | None:
    """The provider's ``MaxVCpuCount``, ``None`` when it sets none."""
    answer: Any = aws_call("GetCapacityProvider", partial(
        client.get_capacity_provider, CapacityProviderName=provider))
    scaling = answer["CapacityProvider"].get("CapacityProviderScalingConfig") or {}
    found = scaling.get("MaxVCpuCount")
    return None if found is None else int(found)


def _memory(client: LambdaClient, function: str, qualifier: str) -> tuple[int, float]:
    conf: Any = aws_call("GetFunctionConfiguration", partial(
        client.get_function_configuration, FunctionName=function, Qualifier=qualifier),
        function=function)
    lmi = ((conf.get("CapacityProviderConfig") or {})
           .get("LambdaManagedInstancesCapacityProviderConfig") or {})
    ratio = lmi.get("ExecutionEnvironmentMemoryGiBPerVCpu")
    return int(conf.get("MemorySize", 2048)), float(ratio or DEFAULT_GIB_PER_VCPU)


def function_cutover(client: LambdaClient, config: Config, env: Environment, function: str, *,
                     live: str | None, new: str | None,
                     live_environments: int | None = None) -> FunctionCutover:
    """What moving ``function`` from version ``live`` to ``new`` holds at its peak (``new``
    ``None``: a version not published yet, read from ``$LATEST``). ``live_environments``: the
    live version's applied environments when the caller already read them."""
    key = next(k for k in config.functions if naming.function_name(config, env, k) == function)
    scaling = config.functions[key].scaling
    live_envs = (0 if not live else live_environments if live_environments is not None
                 else applied_environments(client, function, live))
    minimum = (new_minimum(scaling.min, scaling.max, live_envs) if scaling is not None
               else DEFAULT_ENVIRONMENTS)
    memory, ratio = _memory(client, function, new or "$LATEST")
    return FunctionCutover(function, live_envs, minimum, memory, ratio)


def resolve_check(client: LambdaClient, config: Config, env: Environment,
                  check: CapacityCheck, *, live: Mapping[str, str | None],
                  new: Mapping[str, str | None],
                  live_environments: Mapping[str, int] | None = None) -> CutoverPeak:
    """The peak of ``check``'s functions. ``live`` maps a function to the version its alias
    routes to now; ``new`` to the version it moves to (``None``: not published yet). A function
    missing from ``new``, or whose alias already routes to its new version, is not cut over
    and not counted; with none cut over, nothing is read and the peak is empty.
    ``live_environments`` (function name → applied environments of its ``live`` version) spares
    the reads the caller made already."""
    known = live_environments or {}
    moving = [f for f in check.functions if f in new and (new[f] is None or new[f] != live.get(f))]
    if not moving:  # nothing is cut over (``lmi-delivery scale`` of the live version)
        return cutover_peak(check.capacity_provider, (), None)
    cutovers = fan_out(lambda f: function_cutover(client, config, env, f, live=live.get(f),
                                                  new=new.get(f),
                                                  live_environments=known.get(f)),
                       moving, name="headroom")
    return cutover_peak(check.capacity_provider, cutovers,
                        max_vcpus(client, check.capacity_provider))


def enforce(peak: CutoverPeak) -> None:
    """Refuse (exit 3) a peak over the provider's ``MaxVCpuCount``, with the numbers."""
    if not peak.fits:
        raise HeadroomRefused(
            f"refusing the cutover: it needs {peak.peak_vcpus:g} vCPU at its peak on capacity "
            f"provider {peak.capacity_provider}, over its MaxVCpuCount {peak.max_vcpus} "
            f"({'; '.join(f.describe() for f in peak.functions)}); no traffic was moved: raise "
            "the provider's max_vcpu_count or lower scaling.min/max",
            context={"capacity_provider": peak.capacity_provider,
                     "peak_vcpus": peak.peak_vcpus, "max_vcpus": peak.max_vcpus or 0})
