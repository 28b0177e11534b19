"""Move aliases back to a version that served through them, and only to one.

Where each alias goes:

- with ``--to VERSION`` (a version number; ``$LATEST``, alias names and anything else are
  invalid input, exit 2), to that version;
- otherwise to the version the alias served before the deploy that put it where it is now, from
  the alias's history (:mod:`lmi_delivery.postdeploy.history`). Rollbacks are passed over, so a
  second rollback goes one deploy further back, not forth again.

Where the alias points now is read from Lambda, never from the history. Every target is checked
while planning, before any alias moves, and the rollback is refused (exit 3, naming ``--to``)
when there is none: no history, a history that shows no earlier version (the alias was created
or moved outside lmi-delivery), a target that no longer exists or is not ``Active`` (above all
one that a 0/0 scaling config deactivated), or a target that is the current version (a
rollback that would move nothing is not a success). ``--dry-run`` makes the same checks, so it
promises only a rollback that can happen. Moving uses the alias step's executor, with its
safety (the alias's ``RevisionId`` read while planning must still match) and its hook: each
rollback appends its entry (``action: rollback``) to the history before the alias moves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import GateRefused, UsageError
from lmi_delivery.plan.release_steps import selected
from lmi_delivery.plan.steps import RUNNER, AliasMove
from lmi_delivery.postdeploy.alias import (
    AliasPlan,
    AliasResult,
    AliasTarget,
    execute_alias,
    not_active_hint,
    read_alias,
)
from lmi_delivery.postdeploy.history import (
    NUMBERED,
    History,
    HistoryStore,
    HistoryUnreadable,
    Provenance,
    recorder,
)
from lmi_delivery.postdeploy.report import ProgressLog

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from lmi_delivery.postdeploy.sequence import PostDeployClients


@dataclass(frozen=True)
class RollbackPlan:
    alias: AliasPlan
    reasons: Mapping[str, str]
    """Function name → why its target was chosen."""
    skipped: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        lines = [f"{m.step.describe()} ({self.reasons[m.step.function]})"
                 for m in self.alias.moves]
        return lines + list(self.skipped)


def check_version(to: str | None) -> str | None:
    """``--to``: a version number, or invalid input (exit 2)."""
    if to is not None and not NUMBERED.fullmatch(to):
        raise UsageError(f"--to {to!r} is not a version number: rollback moves an alias to a "
                         "published version (1, 2, …), never to $LATEST, an alias or an ARN")
    return to


def plan_rollback(client: LambdaClient, config: Config, env: Environment, *,
                  histories: Mapping[str, History] | None = None,
                  functions: Iterable[str] | None = None, to: str | None = None,
                  where: str = RUNNER, source: str = "the alias history") -> RollbackPlan:
    """Read-only: where each alias goes back to, and why; refuses (exit 3) before anything
    moves when an alias has no version to go back to. ``histories`` maps function name → the
    history of its alias (needed unless ``to`` is given)."""
    check_version(to)
    moves: list[AliasTarget] = []
    reasons: dict[str, str] = {}
    skipped: list[str] = []
    for key in selected(config, env, functions):
        name = naming.function_name(config, env, key)
        alias = config.functions[key].alias
        current, revision = read_alias(client, name, alias)
        if current is None:
            skipped.append(f"{name}:{alias} does not exist: nothing to roll back")
            continue
        label = f"{name}:{alias}"
        if to is not None:
            target, reason = to, "requested with --to"
        else:
            history = (histories or {}).get(name)
            found = history.rollback_target(current) if history is not None else None
            if found is None:
                raise GateRefused(
                    f"refusing to roll {label} back: it is on version {current} and {source} "
                    "shows no version it served before that one (no deploy recorded the move "
                    f"to {current}); nothing was moved. Choose a version: --to VERSION",
                    context={"function": name, "version": current})
            target, reason = found, "the version it served before the last deploy (alias history)"
        if target == current:
            raise GateRefused(f"refusing to roll {label} back to version {target}: it is on "
                              f"version {target} already; nothing was moved",
                              context={"function": name, "version": target})
        state = _state(client, name, target)
        if state != "Active":
            state_text = ("it no longer exists" if state is None
                          else f"it is {state}, not Active{not_active_hint(state)}")
            raise GateRefused(
                f"refusing to roll {label} back to version {target} ({reason}): {state_text}; "
                "nothing was moved. Choose an Active version: --to VERSION",
                context={"function": name, "version": target})
        moves.append(AliasTarget(AliasMove(where, name, alias, current, target), revision))
        reasons[name] = reason
    return RollbackPlan(AliasPlan(tuple(moves)), reasons, tuple(skipped))


def _state(client: LambdaClient, function: str, version: str) -> str | None:
    """The version's ``State``, or ``None`` when it does not exist (deleted, never published)."""
    from lmi_delivery.aws.errors import translate

    try:
        conf: Any = client.get_function_configuration(FunctionName=function, Qualifier=version)
    except client.exceptions.ResourceNotFoundException:
        return None
    except Exception as exc:
        from lmi_delivery.aws.errors import is_aws_error

        if is_aws_error(exc):
            raise translate(exc, "GetFunctionConfiguration", where=f"{function}:{version}"
                            ) from None
        raise
    return str(conf.get("State", "Active"))


@dataclass(frozen=True)
class RollbackReport:
    plan: RollbackPlan
    results: tuple[AliasResult, ...]
    dry_run: bool
    record_source: str

    def to_dict(self) -> dict[str, Any]:
        done = {r.function: r.action for r in self.results}
        return {
            "schema": "lmi-delivery/rollback@2", "dry_run": self.dry_run,
            "record": self.record_source,
            "aliases": [{"function": m.step.function, "alias": m.step.alias,
                         "from": m.step.from_version, "to": m.step.to_version,
                         "why": self.plan.reasons[m.step.function],
                         "action": done.get(m.step.function, "planned")}
                        for m in self.plan.alias.moves],
            "skipped": list(self.plan.skipped),
        }

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2) + "\n"
        head = "rollback (dry run: nothing changed)" if self.dry_run else "rollback"
        lines = [f"{head}; record: {self.record_source}"]
        lines += [f"{'- ' if fmt == 'markdown' else '  '}{line}" for line in self.plan.describe()]
        return "\n".join(lines) + "\n"


def read_histories(store: HistoryStore, config: Config, env: Environment,
                   functions: Iterable[str] | None) -> dict[str, History]:
    """Function name → the history of its configured alias (empty when there is none)."""
    pairs = [(naming.function_name(config, env, key), config.functions[key].alias)
             for key in selected(config, env, functions)]
    found = store.read_many(pairs)
    return {name: found.get((name, alias), History(name, alias)) for name, alias in pairs}


def rollback(config: Config, env: Environment, clients: PostDeployClients, *,
             functions: Iterable[str] | None = None, to: str | None = None,
             dry_run: bool = False, reporter: ProgressLog,
             provenance: Provenance | None = None) -> RollbackReport:
    """Plan and (unless ``dry_run``) execute a rollback. The histories are read from, and the
    rollback's own entries appended to, the artifacts bucket; without an S3 client there is no
    history, and only ``--to`` can say where to go (the move is then not recorded)."""
    check_version(to)
    store = HistoryStore(clients.s3, config, env) if clients.s3 is not None else None
    histories: dict[str, History] = {}
    source = "no history (no S3 client)"
    if store is not None:
        source = f"s3://{naming.artifact_location(config).bucket}/…/history/"
        if to is None:
            try:
                histories = read_histories(store, config, env, functions)
            except HistoryUnreadable as exc:
                raise GateRefused(f"{exc.message}; nothing was moved. Choose a version: "
                                  "--to VERSION") from None
    plan = plan_rollback(clients.lambda_, config, env, histories=histories, functions=functions,
                         to=to, source=source if store is None else "its history")
    results: tuple[AliasResult, ...] = ()
    if dry_run:
        for line in plan.describe():
            reporter.say(f"would {line}")
    else:
        hook = (recorder(store, provenance or Provenance(), action="rollback")
                if store is not None else None)
        results = execute_alias(clients.lambda_, plan.alias, reporter=reporter,
                                before_move=hook)
    return RollbackReport(plan, results, dry_run, source)
