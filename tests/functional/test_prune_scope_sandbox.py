"""``prune --scope capacity-provider`` against the sandbox: a provider shared with a function the
config does not name is pruned for both, every protection holds, and the report says what each
function kept and lost; the scheduled handler takes the scope too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prune_world import Seeder, World, build, left, name, sandbox_environ

from lmi_delivery import handlers
from lmi_delivery.cli.commands.prune import prune_command
from lmi_delivery.errors import LmiError
from lmi_delivery.postdeploy.history import Entry, HistoryStore
from lmi_delivery.sandbox import Sandbox

OTHER = "team-b-0"


def shared_world(sandbox: Sandbox, root: Path) -> World:
    """f0 and f1 of the config (8 versions each) and team-b-0 (6 versions, not in the config)
    on one provider. f0's alias is on 6, moved there from 5 (its history); team-b-0's alias is
    on 2 routing 10% to 3, and an event source mapping invokes its version 4."""
    world = build(sandbox, root, functions=2, versions=8, per_provider=2, keep=2,
                  protections=False, others=1, other_versions=6)
    lam = sandbox.client("lambda", internal=True)
    lam.create_alias(FunctionName=name("f0"), Name="live", FunctionVersion="6")
    store = HistoryStore(sandbox.client("s3"), world.config, world.env)
    for previous, version in (("4", "5"), ("5", "6")):
        store.append(name("f0"), "live", Entry(previous, version))
    lam.create_alias(FunctionName=OTHER, Name="live", FunctionVersion="2",
                     RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}})
    queue = Seeder(sandbox).queue_arn("team-b-jobs")
    lam.create_event_source_mapping(EventSourceArn=queue, FunctionName=f"{OTHER}:4")
    return world


def prune(sandbox: Sandbox, world: World, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(prune_command, ["--config", str(world.config_path), "--env",
                                                "dev", "--format", "json", *args],
                                env=sandbox_environ(sandbox))
    error: Any = result.exception
    if isinstance(error, LmiError):
        return error.exit_code, result.stdout
    assert error is None or isinstance(error, SystemExit), result.output
    return result.exit_code, result.stdout


EXPECTED = {
    # alias 6, its way back 5, and keep 2 besides them: 8, 7
    name("f0"): {"$LATEST", "5", "6", "7", "8"},
    name("f1"): {"$LATEST", "7", "8"},
    # alias 2, weighted 3, mapping 4, and keep 2 besides them: 6, 5
    OTHER: {"$LATEST", "2", "3", "4", "5", "6"},
}


def test_capacity_provider_scope_prunes_every_function_on_the_provider(
        sandbox: Sandbox, tmp_path: Path) -> None:
    world = shared_world(sandbox, tmp_path)
    before = left(sandbox, sorted(world.versions))

    code, out = prune(sandbox, world, "--scope", "config", "--dry-run")
    assert code == 0
    assert json.loads(out)["functions"][OTHER] == {"kept": 6, "deleted": 0, "failed": 0,
                                                   "deleting": 0}

    code, out = prune(sandbox, world, "--scope", "capacity-provider")
    assert code == 0, out
    assert left(sandbox, sorted(world.versions)) == EXPECTED
    report = json.loads(out)
    assert report["functions"] == {
        name("f0"): {"kept": 5, "deleted": 4, "failed": 0, "deleting": 0},
        name("f1"): {"kept": 3, "deleted": 6, "failed": 0, "deleting": 0},
        OTHER: {"kept": 6, "deleted": 1, "failed": 0, "deleting": 0}}
    reasons = {(v["function"], v["version"]): v["reason"] for v in report["verdicts"]}
    assert reasons[(name("f0"), "5")] == "rollback-target"
    assert reasons[(OTHER, "3")] == "weighted-alias"
    assert reasons[(OTHER, "4")] == "event-source-mapping"
    assert reasons[(OTHER, "1")] == "delete"
    assert sum(len(v) for v in before.values()) - sum(len(v) for v in EXPECTED.values()) == 11


def test_the_scheduled_handler_takes_the_scope(sandbox: Sandbox, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    world = shared_world(sandbox, tmp_path)
    for key, value in sandbox_environ(sandbox).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LMI_DELIVERY_CONFIG", str(world.config_path))
    monkeypatch.setenv("LMI_DELIVERY_ENV", "dev")

    assert handlers.prune({"dry_run": "true"}, None)["functions"][OTHER]["deleted"] == 0
    monkeypatch.setenv("LMI_DELIVERY_PRUNE_SCOPE", "capacity-provider")
    report = handlers.prune({}, None)
    assert report["exit_code"] == 0
    assert report["functions"][OTHER]["deleted"] == 1
    assert left(sandbox, sorted(world.versions)) == EXPECTED
    with pytest.raises(LmiError, match="scope must be one of config, capacity-provider"):
        handlers.prune({"scope": "everything"}, None)
