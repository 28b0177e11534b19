"""Move aliases back to the versions they served before the last deploy.

The target of each alias, in order of preference:

1. ``--to VERSION`` when given;
2. the version the alias pointed to before the last deploy, from that deploy's record (the
   ``post-deploy --report`` file, or ``<artifacts>/<service>/<env>/post-deploy/last.json``),
   used only while the alias still points where that deploy left it;
3. otherwise the newest Active numbered version older than the current one.

A target that is not ``Active`` is refused while planning, before any alias moves: above all a
version that a 0/0 scaling config deactivated (``Deactivated``: not invocable, and it does not
recover on its own). Moving uses the alias step's executor, with the same safety: the target
must be Active, and the alias's ``RevisionId`` read while planning must still match.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import OperationFailed
from lmi_delivery.plan.release_steps import selected
from lmi_delivery.plan.steps import RUNNER, AliasMove
from lmi_delivery.postdeploy.alias import (
    AliasPlan,
    AliasResult,
    AliasTarget,
    execute_alias,
    newest_active,
    not_active_hint,
    read_alias,
    version_state,
)
from lmi_delivery.postdeploy.report import ProgressLog, last_key, load_last

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


def _recorded(record: Mapping[str, Any] | None) -> dict[str, tuple[str, str]]:
    """Function name → (alias from, alias to) of the recorded deploy."""
    found: dict[str, tuple[str, str]] = {}
    for item in (record or {}).get("functions") or []:
        if isinstance(item, Mapping) and item.get("alias_from") and item.get("alias_to"):
            found[str(item["function"])] = (str(item["alias_from"]), str(item["alias_to"]))
    return found


def plan_rollback(client: LambdaClient, config: Config, env: Environment, *,
                  record: Mapping[str, Any] | None = None,
                  functions: Iterable[str] | None = None, to: str | None = None,
                  where: str = RUNNER) -> RollbackPlan:
    """Read-only: where each alias goes back to, and why."""
    recorded = _recorded(record)
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
        target, reason = _target(client, name, current, to, recorded.get(name))
        if target is None:
            raise OperationFailed(f"{name}:{alias} is on version {current} and no older Active "
                                  "version exists to roll back to")
        if target != current:
            state = version_state(client, name, target)
            if state != "Active":
                raise OperationFailed(
                    f"refusing to roll {name}:{alias} back to version {target} ({reason}): it "
                    f"is {state}, not Active{not_active_hint(state)}",
                    context={"function": name, "version": target})
        moves.append(AliasTarget(AliasMove(where, name, alias, current, target), revision))
        reasons[name] = reason
    return RollbackPlan(AliasPlan(tuple(moves)), reasons, tuple(skipped))


def _target(client: LambdaClient, name: str, current: str, to: str | None,
            recorded: tuple[str, str] | None) -> tuple[str | None, str]:
    if to is not None:
        return to, "requested with --to"
    if recorded is not None:
        before, after = recorded
        if after == current:
            return before, "the version before the last deploy (deploy record)"
    older = newest_active(client, name, older_than=current)
    why = ("the alias moved since the recorded deploy: " if recorded else "") + \
        "the newest Active version older than the current one"
    return older, why


@dataclass(frozen=True)
class RollbackReport:
    plan: RollbackPlan
    results: tuple[AliasResult, ...]
    dry_run: bool
    record_source: str

    def to_dict(self) -> dict[str, Any]:
        done = {r.function: r.action for r in self.results}
        return {
            "schema": "lmi-delivery/rollback@1", "dry_run": self.dry_run,
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
        lines = [f"{head}; deploy record: {self.record_source}"]
        lines += [f"{'- ' if fmt == 'markdown' else '  '}{line}" for line in self.plan.describe()]
        return "\n".join(lines) + "\n"


def rollback(config: Config, env: Environment, clients: PostDeployClients, *,
             record: Mapping[str, Any] | None = None, functions: Iterable[str] | None = None,
             to: str | None = None, dry_run: bool = False,
             reporter: ProgressLog) -> RollbackReport:
    """Plan and (unless ``dry_run``) execute a rollback. Without ``record`` the stored deploy
    record is read from the artifacts location."""
    source = "given" if record is not None else "none"
    if record is None and to is None and clients.s3 is not None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            record = load_last(clients.s3, config, env)
        except (BotoCoreError, ClientError) as error:
            reporter.say(f"could not read the deploy record ({error}): using older versions")
        if record is not None:
            source = "s3://{}/{}".format(*last_key(config, env))
    plan = plan_rollback(clients.lambda_, config, env, record=record, functions=functions, to=to)
    results: tuple[AliasResult, ...] = ()
    if dry_run:
        for line in plan.describe():
            reporter.say(f"would {line}")
    else:
        results = execute_alias(clients.lambda_, plan.alias, reporter=reporter)
    return RollbackReport(plan, results, dry_run, source)
