"""The post-deploy steps of one environment: the only place they are built from the config.

The dry run shows these steps; the post-deploy build executes these steps
(:mod:`lmi_delivery.postdeploy.sequence`), and each post-deploy command (``publish``,
``alias``, ``scale``, ``warm``) starts from the builder of its kind. What AWS must say (where an
alias points now, the version a publish creates) is resolved by the executor; the builders take
it when the caller knows it (``current``), else the steps say what they resolve at run time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import UsageError
from lmi_delivery.plan.steps import (
    AliasMove,
    CapacityCheck,
    Prune,
    Publish,
    Scale,
    ScaleDown,
    Step,
    Warm,
)

#: The version a publish step of the same run creates, before it exists.
NEW = "new"
#: Where an alias points: ``None`` when it does not exist; a missing key when unknown.
Current = Mapping[str, str | None]


def selected(config: Config, env: Environment, only: Iterable[str] | None) -> list[str]:
    """Function keys to act on: every configured one, or those named by key or by name."""
    if only is None:
        return list(config.functions)
    wanted = set(only)
    keys = [k for k in config.functions
            if k in wanted or naming.function_name(config, env, k) in wanted]
    if not keys:
        raise UsageError(f"no configured function matches {', '.join(sorted(wanted))}")
    return keys


def publish_steps(config: Config, env: Environment, where: str, *,
                  functions: Iterable[str] | None = None) -> tuple[Publish, ...]:
    names = naming.derived_names(config, env)
    return tuple(Publish(where, names.functions[key],
                         names.capacity_providers.get(config.functions[key].capacity_provider
                                                      or ""))
                 for key in selected(config, env, functions))


def alias_steps(config: Config, env: Environment, where: str, *,
                functions: Iterable[str] | None = None, versions: Mapping[str, str] | None = None,
                current: Current | None = None) -> tuple[AliasMove, ...]:
    """One move per function, to ``versions[name]`` (default: the version this run publishes).

    ``current`` maps a function name to where its alias points (``None``: the alias does not
    exist, so it is created, never through a rollout). Functions missing from it are unknown.
    """
    steps = []
    for key in selected(config, env, functions):
        fn = config.functions[key]
        name = naming.function_name(config, env, key)
        known = current is not None and name in current
        now = current.get(name) if current is not None else None
        exists = (now is not None) if known else None
        move = AliasMove(where, name, fn.alias, now, (versions or {}).get(name, NEW),
                         exists=exists)
        rollout = fn.rollout
        if exists is not False:
            move = dataclasses.replace(
                move, strategy=rollout.strategy, weights=rollout.weights(),
                interval_minutes=rollout.interval_minutes if rollout.weights() else 0.0,
                bake_minutes=rollout.bake_minutes, alarms=rollout.alarms,
                pre_traffic=rollout.pre_traffic, post_traffic=rollout.post_traffic)
        steps.append(move)
    return tuple(steps)


def capacity_checks(config: Config, env: Environment, where: str, *,
                    functions: Iterable[str] | None = None,
                    peaks: Mapping[str, str] | None = None) -> tuple[CapacityCheck, ...]:
    """One headroom check per capacity provider the selected LMI functions run on; ``peaks``
    maps a provider's name to its computed peak when AWS was read."""
    names = naming.derived_names(config, env)
    by_provider: dict[str, list[str]] = {}
    for key in selected(config, env, functions):
        provider = config.functions[key].capacity_provider
        if provider is not None:
            by_provider.setdefault(names.capacity_providers[provider], []).append(
                names.functions[key])
    return tuple(CapacityCheck(where, provider, tuple(found), (peaks or {}).get(provider))
                 for provider, found in sorted(by_provider.items()))


def scale_down_steps(config: Config, env: Environment, where: str, *,
                     functions: Iterable[str] | None = None,
                     current: Current | None = None) -> tuple[ScaleDown, ...]:
    """Scale the version each alias leaves to its ``scaling.floor`` (0: deactivate it), for the
    LMI functions with ``scaling:``; none for an alias known not to exist yet."""
    steps = []
    for key in selected(config, env, functions):
        fn = config.functions[key]
        name = naming.function_name(config, env, key)
        if fn.scaling is None or fn.capacity_provider is None:
            continue
        if current is not None and name in current and current[name] is None:
            continue
        floor = fn.scaling.superseded_min
        steps.append(ScaleDown(where, name, fn.alias, (current or {}).get(name), floor,
                               fn.scaling.max if floor else 0))
    return tuple(steps)


def scale_steps(config: Config, env: Environment, where: str, *,
                functions: Iterable[str] | None = None,
                versions: Mapping[str, str] | None = None,
                match_live: bool = False) -> tuple[Scale, ...]:
    """The scaling of each LMI function with ``scaling:``, on ``versions[name]`` (default: the
    version this run publishes); ``match_live`` raises the minimum to the live version's."""
    steps = []
    for key in selected(config, env, functions):
        fn = config.functions[key]
        if fn.scaling is None or fn.capacity_provider is None:
            continue
        name = naming.function_name(config, env, key)
        steps.append(Scale(where, name, (versions or {}).get(name, NEW), fn.scaling.min,
                           fn.scaling.max, match_live))
    return tuple(steps)


def warm_steps(config: Config, env: Environment, where: str, *,
               functions: Iterable[str] | None = None,
               qualifier: str | None = None) -> tuple[Warm, ...]:
    """Warm-ups of the alias, or of ``qualifier`` (``new``: the version this run publishes,
    before traffic moves to it)."""
    steps = []
    for key in selected(config, env, functions):
        fn = config.functions[key]
        if fn.warm is not None:
            steps.append(Warm(where, naming.function_name(config, env, key), fn.alias,
                              fn.warm.concurrency, fn.warm.schedule, qualifier))
    return tuple(steps)


def prune_steps(config: Config, env: Environment, where: str) -> tuple[Prune, ...]:
    """One prune over every configured capacity provider (none without providers)."""
    names = naming.derived_names(config, env)
    providers = tuple(names.capacity_providers[key] for key in sorted(config.capacity_providers))
    if not providers:
        return ()
    return (Prune(where, providers, config.post_deploy.prune_keep),)


def post_deploy_steps(config: Config, env: Environment, where: str, *,
                      kinds: Iterable[str] | None = None, functions: Iterable[str] | None = None,
                      current: Current | None = None,
                      peaks: Mapping[str, str] | None = None) -> tuple[Step, ...]:
    """Every post-deploy step, in the order ``post_deploy.steps`` lists the kinds (or
    ``kinds``), for every configured function (or those of ``functions``; a prune and a
    headroom check are per capacity provider, not per function).

    The capacity headroom checks come first in whichever of the scale and alias steps runs
    first; a scale step matches the live version's environments; a warm step before the
    alias step primes the new version by qualifier; the alias step is followed by scaling the
    versions it leaves down. ``peaks`` are the computed headroom figures, when AWS was read.
    """
    only = list(functions) if functions else None
    order = list(config.post_deploy.steps if kinds is None else kinds)
    steps: list[Step] = []
    checks = capacity_checks(config, env, where, functions=only, peaks=peaks)
    gate = next((k for k in order if k in ("scale", "alias")), None)
    for kind in order:
        if kind == gate:
            steps += checks
        if kind == "publish":
            steps += publish_steps(config, env, where, functions=only)
        elif kind == "alias":
            steps += alias_steps(config, env, where, functions=only, current=current)
            steps += scale_down_steps(config, env, where, functions=only, current=current)
        elif kind == "scale":
            steps += scale_steps(config, env, where, functions=only, match_live=True)
        elif kind == "warm":
            moves_before = "alias" in order and order.index("alias") < order.index("warm")
            steps += warm_steps(config, env, where, functions=only,
                                qualifier=None if moves_before else NEW)
        elif kind == "prune":
            steps += prune_steps(config, env, where)
        else:
            raise UsageError(f"unknown post-deploy step {kind!r}")
    return tuple(steps)
