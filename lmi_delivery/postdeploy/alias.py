"""Create or move each function's alias to a version, safely.

Planning reads where each alias points now and its ``RevisionId`` (``GetAlias``, the functions
at once), and resolves the target: the version just published, or, when none is given, the
newest Active numbered version. Executing first reads every target's state at once and refuses
the step, before any alias moves, when a target is not ``Active``
(``GetFunctionConfiguration(Qualifier=v)``): an alias never routes to a version whose execution
environments are not ready, nor to one its 0/0 scaling config has deactivated (``Deactivated``
is not invocable and does not recover). Then it moves the aliases one at a time, and for each:

- creates the alias (``CreateAlias``) or moves it: all at once, or through the function's
  rollout (:mod:`lmi_delivery.postdeploy.rollout`: canary or linear shares, alarms, hooks, the
  previous routing restored on a failure);
- stops at the first concurrent change (``PreconditionFailedException``, or an alias created in
  the meantime): nothing after it is moved, and the error says what was and was not moved.

Every alias change (``CreateAlias``, or ``UpdateAlias`` with the ``RevisionId`` of the previous
change), a rollout's steps and its restore included, goes through :func:`route`. Right before
each, ``before_move`` (:data:`BeforeMove`) is called with its :class:`AliasChange`; when it
raises, that call is not made and the step stops as at any other failure. The alias history
(:mod:`lmi_delivery.postdeploy.history`) writes its entry there, so no alias moves without its
entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.fanout import fan_out
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import OperationFailed
from lmi_delivery.plan.release_steps import NEW, alias_steps
from lmi_delivery.plan.steps import RUNNER, AliasMove
from lmi_delivery.postdeploy.publish import aws_call
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.postdeploy.rollout import RolloutClock, RolloutRolledBack, run_rollout

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient



@dataclass(frozen=True)
class AliasChange:
    """One ``CreateAlias``/``UpdateAlias`` about to be made."""

    function: str
    alias: str
    previous: str | None
    """The primary version the alias has before the call (``None``: it is created)."""
    version: str
    """The primary version it has after the call."""
    weights: Mapping[str, float] = field(default_factory=dict)
    """``AdditionalVersionWeights`` after the call (a rollout step); empty for a full move."""


BeforeMove = Callable[[AliasChange], None]
"""Called before each alias call with what it changes; raising stops the move (and the step)."""


class ConcurrentChange(OperationFailed):
    """An alias changed between planning and moving it (RevisionId no longer matches)."""


@dataclass(frozen=True)
class AliasTarget:
    step: AliasMove
    revision_id: str | None
    """The alias's RevisionId when read; ``None`` when the alias does not exist yet."""

    @property
    def action(self) -> str:
        if self.step.from_version == self.step.to_version:
            return "unchanged"
        return "create" if self.revision_id is None else "move"


@dataclass(frozen=True)
class AliasPlan:
    moves: tuple[AliasTarget, ...]

    @property
    def steps(self) -> tuple[AliasMove, ...]:
        return tuple(m.step for m in self.moves)


@dataclass(frozen=True)
class AliasResult:
    function: str
    alias: str
    from_version: str | None
    to_version: str
    action: str
    """``created``, ``moved`` or ``unchanged``."""


def read_alias(client: LambdaClient, function: str, alias: str) -> tuple[str | None, str | None]:
    """(version, RevisionId) of an alias, or (None, None) when it does not exist."""
    try:
        found: Any = client.get_alias(FunctionName=function, Name=alias)
    except client.exceptions.ResourceNotFoundException:
        return None, None
    return str(found["FunctionVersion"]), str(found["RevisionId"])


Read = tuple[str | None, str | None]
"""(version, RevisionId) of an alias, (None, None) when it does not exist."""


def read_aliases(client: LambdaClient, steps: Iterable[AliasMove]) -> dict[str, Read]:
    """Function name → what :func:`read_alias` says of its step's alias, the functions at once."""
    steps = list(steps)
    found = fan_out(lambda step: read_alias(client, step.function, step.alias), steps,
                    name="alias-read")
    return {step.function: read for step, read in zip(steps, found, strict=True)}


def numbered_versions(client: LambdaClient, function: str) -> list[tuple[int, str]]:
    """(number, State) of every numbered version of ``function``, newest first."""
    found: list[tuple[int, str]] = []
    for page in client.get_paginator("list_versions_by_function").paginate(
            FunctionName=function):
        for item in page["Versions"]:
            version: Any = item
            if str(version["Version"]).isdigit():
                found.append((int(version["Version"]), str(version.get("State", "Active"))))
    return sorted(found, reverse=True)


def newest_active(client: LambdaClient, function: str, *,
                  older_than: str | None = None) -> str | None:
    """The newest Active numbered version (older than ``older_than`` when given)."""
    limit = int(older_than) if older_than and older_than.isdigit() else None
    for number, state in numbered_versions(client, function):
        if state == "Active" and (limit is None or number < limit):
            return str(number)
    return None


def plan_alias(client: LambdaClient, config: Config, env: Environment, *,
               versions: Mapping[str, str] | None = None, functions: Iterable[str] | None = None,
               where: str = RUNNER) -> AliasPlan:
    """Read-only: where each alias goes. ``versions`` maps function name → target version;
    functions missing from it go to their newest Active version."""
    return resolve_alias(client, config, env,
                         alias_steps(config, env, where, functions=functions, versions=versions))


def resolve_alias(client: LambdaClient, config: Config, env: Environment,
                  steps: Iterable[AliasMove], *, unpublished: Iterable[str] = (),
                  read: Mapping[str, Read] | None = None) -> AliasPlan:
    """Read-only: each planned move with where the alias points now and its ``RevisionId``; a
    target of ``new`` becomes the newest Active version, except for the ``unpublished``
    functions (a dry run's publishes: the version does not exist yet). The step is built again
    by the planner's builder with these facts, so a missing alias is created without a
    rollout. ``read`` holds aliases already read (:func:`read_aliases`); a move from a stale
    read is refused by AWS (``RevisionId``) and stops the step, as any concurrent change."""
    pending = set(unpublished)
    known = read or {}

    def resolve(planned: AliasMove) -> AliasTarget:
        name = planned.function
        current, revision = (known[name] if name in known
                             else read_alias(client, name, planned.alias))
        target = (planned.to_version if planned.to_version != NEW or name in pending
                  else newest_active(client, name))
        if target is None:
            raise OperationFailed(f"{name} has no Active published version for alias "
                                  f"{planned.alias}: publish first (lmi-delivery publish)")
        (step,) = alias_steps(config, env, planned.where, functions=[name],
                              versions={name: target}, current={name: current})
        return AliasTarget(step, revision)

    return AliasPlan(tuple(fan_out(resolve, steps, name="alias-read")))


def execute_alias(client: LambdaClient, plan: AliasPlan, *, reporter: ProgressLog,
                  cloudwatch: Any = None, canary_clock: RolloutClock | None = None,
                  before_move: BeforeMove | None = None) -> tuple[AliasResult, ...]:
    """Move the aliases in order; stop at the first refusal without moving the rest.

    ``cloudwatch`` answers the alarms of rollouts; ``canary_clock`` is injectable time;
    ``before_move`` is called before every alias call (see the module's docstring).
    """
    _refuse_unready(client, plan)
    done: list[AliasResult] = []
    hook: BeforeMove = before_move or (lambda change: None)
    for index, move in enumerate(plan.moves):
        try:
            done.append(_move(client, move, reporter, cloudwatch, canary_clock, hook))
        except OperationFailed as exc:
            moved = [f"{r.function}:{r.alias} {r.from_version or '(new)'} -> {r.to_version}"
                     for r in done if r.action != "unchanged"]
            rest = [f"{m.step.function}:{m.step.alias}" for m in plan.moves[index + 1:]]
            detail = f"\n  already moved: {', '.join(moved)}" if moved else ""
            detail += f"\n  not moved: {', '.join(rest)}" if rest else ""
            kind = type(exc) if isinstance(exc, ConcurrentChange | RolloutRolledBack) \
                else OperationFailed
            raise kind(exc.message + detail, context=exc.context) from None
    return tuple(done)


def _move(client: LambdaClient, move: AliasTarget, reporter: ProgressLog, cloudwatch: Any,
          canary_clock: RolloutClock | None, hook: BeforeMove) -> AliasResult:
    step = move.step
    label = f"{step.function}:{step.alias}"
    if move.action == "unchanged":
        reporter.record("alias", step.function, f"{step.to_version}:unchanged",
                        message=f"alias {label} already on {step.to_version}")
        return AliasResult(step.function, step.alias, step.from_version, step.to_version,
                           "unchanged")
    revision: list[str | None] = [move.revision_id]
    current: list[str | None] = [step.from_version if move.revision_id is not None else None]

    def change(primary: str, weights: dict[str, float]) -> None:
        hook(AliasChange(step.function, step.alias, current[0], primary, dict(weights)))
        revision[0] = route(client, step, primary, weights, revision[0])
        current[0] = primary

    if move.revision_id is not None and step.watched:
        run_rollout(client, cloudwatch, step, change, reporter=reporter, clock=canary_clock)
    else:
        change(step.to_version, {})
    action = "created" if move.revision_id is None else "moved"
    reporter.record("alias", step.function, f"{step.to_version}:{action}",
                    message=f"alias {label}: {step.from_version or '(new)'} -> "
                            f"{step.to_version}")
    return AliasResult(step.function, step.alias, step.from_version, step.to_version, action)


def _refuse_unready(client: LambdaClient, plan: AliasPlan) -> None:
    """Refuse the whole step, before any alias moves, when a target is not ``Active``: the
    targets' states are read at once (``GetFunctionConfiguration``, a budget of its own)."""
    moving = [m.step for m in plan.moves if m.action != "unchanged"]
    states = fan_out(lambda step: _state(client, step.function, step.to_version), moving,
                     name="alias-state")
    for step, state in zip(moving, states, strict=True):
        if state != "Active":
            raise OperationFailed(
                f"refusing to point alias {step.function}:{step.alias} at version "
                f"{step.to_version}: it is {state}, not Active{not_active_hint(state)}; "
                "no alias was moved",
                context={"function": step.function, "version": step.to_version})


def not_active_hint(state: str) -> str:
    """Why a version in ``state`` cannot serve, and what to do, for a refusal's message."""
    if state in ("Deactivating", "Deactivated"):
        return (" (its scaling config is min 0 / max 0, which deactivates a version and it does "
                "not recover on its own: give it execution environments with lmi-delivery "
                "scale, or choose another version)")
    if state == "Pending":
        return " (its execution environments are still starting)"
    if state == "Deleting":
        return " (it is being deleted)"
    return ""


def version_state(client: LambdaClient, function: str, version: str) -> str:
    """The ``State`` of one version (``GetFunctionConfiguration`` with a qualifier)."""
    return _state(client, function, version)


def _state(client: LambdaClient, function: str, version: str) -> str:
    conf: Any = aws_call("GetFunctionConfiguration", lambda: client.get_function_configuration(
        FunctionName=function, Qualifier=version), function=function)
    return str(conf.get("State", "Active"))


def route(client: LambdaClient, step: AliasMove, primary: str, weights: dict[str, float],
          revision: str | None) -> str:
    """The one alias-move primitive: every alias change of a deploy, a rollback, a rollout's
    steps and its restore is this call. ``UpdateAlias`` of ``step``'s alias to ``primary`` plus
    ``weights`` (``AdditionalVersionWeights``; empty clears them), guarded by ``revision``; with
    no ``revision`` (the alias did not exist when read), ``CreateAlias`` to ``primary``.
    Returns the new ``RevisionId``; a concurrent change raises :class:`ConcurrentChange`."""
    label = f"{step.function}:{step.alias}"
    if revision is None:
        return _create(client, step, primary, label)
    try:
        answer: Any = aws_call("UpdateAlias", lambda: client.update_alias(
            FunctionName=step.function, Name=step.alias, FunctionVersion=primary,
            RevisionId=revision, RoutingConfig={"AdditionalVersionWeights": weights}),
            function=step.function)
    except OperationFailed as exc:
        if getattr(exc, "code", "") != "PreconditionFailedException":
            raise
        raise ConcurrentChange(
            f"alias {label} was changed by someone else since it was read (RevisionId "
            f"{revision} no longer matches): stopped without moving it to {primary}",
            context={"function": step.function}) from None
    return str(answer["RevisionId"])


def _create(client: LambdaClient, step: AliasMove, version: str, label: str) -> str:
    try:
        answer: Any = client.create_alias(FunctionName=step.function, Name=step.alias,
                                          FunctionVersion=version)
    except client.exceptions.ResourceConflictException:
        raise ConcurrentChange(f"alias {label} was created by someone else since it was read: "
                               "stopped (a concurrent deploy?)",
                               context={"function": step.function}) from None
    return str(answer["RevisionId"])
