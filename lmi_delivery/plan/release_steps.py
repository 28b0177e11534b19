"""The post-deploy steps of one environment: the only place they are built from the config.

The dry run shows these steps; the post-deploy build executes these steps
(:mod:`lmi_delivery.postdeploy.sequence`), and each post-deploy command (``publish``,
``alias``, ``scale``, ``warm``) starts from the builder of its kind. What AWS must say (where an
alias points now, the version a publish creates) is resolved by the executor; the builders take
it when the caller knows it (``current``), else the steps say what they resolve at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import UsageError
from lmi_delivery.plan.steps import AliasMove, Prune, Publish, Scale, Step, Warm

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
    exist, so it is created, never through a canary). Functions missing from it are unknown.
    """
    steps = []
    for key in selected(config, env, functions):
        fn = config.functions[key]
        name = naming.function_name(config, env, key)
        known = current is not None and name in current
        now = current.get(name) if current is not None else None
        exists = (now is not None) if known else None
        canary = fn.canary if exists is not False else None
        steps.append(AliasMove(where, name, fn.alias, now, (versions or {}).get(name, NEW),
                               canary.weight if canary else None,
                               canary.minutes if canary else None, exists))
    return tuple(steps)


def scale_steps(config: Config, env: Environment, where: str, *,
                functions: Iterable[str] | None = None,
                versions: Mapping[str, str] | None = None) -> tuple[Scale, ...]:
    """The scaling of each LMI function with ``scaling:``, on ``versions[name]`` (default: the
    version this run publishes)."""
    steps = []
    for key in selected(config, env, functions):
        fn = config.functions[key]
        if fn.scaling is None or fn.capacity_provider is None:
            continue
        name = naming.function_name(config, env, key)
        steps.append(Scale(where, name, (versions or {}).get(name, NEW), fn.scaling.min,
                           fn.scaling.max))
    return tuple(steps)


def warm_steps(config: Config, env: Environment, where: str, *,
               functions: Iterable[str] | None = None) -> tuple[Warm, ...]:
    steps = []
    for key in selected(config, env, functions):
        fn = config.functions[key]
        if fn.warm is not None:
            steps.append(Warm(where, naming.function_name(config, env, key), fn.alias,
                              fn.warm.concurrency, fn.warm.schedule))
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
                      current: Current | None = None) -> tuple[Step, ...]:
    """Every post-deploy step, in the order ``post_deploy.steps`` lists the kinds (or
    ``kinds``), for every configured function (or those of ``functions``; a prune is per
    capacity provider, not per function)."""
    only = list(functions) if functions else None
    steps: list[Step] = []
    for kind in config.post_deploy.steps if kinds is None else kinds:
        if kind == "publish":
            steps += publish_steps(config, env, where, functions=only)
        elif kind == "alias":
            steps += alias_steps(config, env, where, functions=only, current=current)
        elif kind == "scale":
            steps += scale_steps(config, env, where, functions=only)
        elif kind == "warm":
            steps += warm_steps(config, env, where, functions=only)
        elif kind == "prune":
            steps += prune_steps(config, env, where)
        else:
            raise UsageError(f"unknown post-deploy step {kind!r}")
    return tuple(steps)
