"""Pruning against the sandbox: under the 15/s limit with faults, quota headroom, retire, CLI.

The fault-injected run (:func:`prune_world.raced_prune`) goes through the real 15/s limit with
seeded faults; ``benchmarks/prune.py --scenario faults-40x30`` runs it at full size.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prune_world import (
    Protections,
    World,
    build,
    left,
    move,
    name,
    paced_client,
    sandbox_environ,
)
from raced_prune import CI_SIZE, FAULTY, RATE, raced_prune, raced_prune_problems

from lmi_delivery import handlers
from lmi_delivery.cli.commands.prune import prune_command
from lmi_delivery.config import load
from lmi_delivery.errors import LmiError, OperationFailed
from lmi_delivery.postdeploy.history import Entry, HistoryStore
from lmi_delivery.postdeploy.prune.api import ensure_headroom
from lmi_delivery.postdeploy.prune.run import PruneRequest, run_prune
from lmi_delivery.sandbox import Sandbox


@pytest.fixture
def faulty(sandbox_server: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox with the 15/s limit and seeded faults, in place of the module's plain one."""
    for key, value in sandbox_environ(sandbox_server).items():
        if key.startswith("AWS_") and key != "AWS_ENDPOINT_URL":
            monkeypatch.setenv(key, value)
    sandbox_server.stop()
    try:
        with Sandbox(FAULTY) as server:
            yield server
    finally:
        sandbox_server.start()


def all_versions(sandbox: Sandbox, world: World) -> dict[str, set[str]]:
    return left(sandbox, sorted(world.versions))


def test_prune_under_rate_limit_and_faults(faulty: Sandbox, tmp_path: Path) -> None:
    """Under the real 15/s limit, with 10% throttles, 5% HTTP 5xx and 2% dropped connections
    injected into every Lambda call, a prune deletes exactly the unprotected versions of the
    config's functions: none protected by an alias, a weighted alias, an event source mapping,
    a scaling minimum the config does not manage or ``$LATEST.PUBLISHED``, no version of a
    function the config does not own; no fault surfaces as a failure. A deploy that routes an
    alias to a planned deletion between the plan and the deletes gets its version refused, not
    deleted, and a second prune then has nothing to do and names the alias that keeps it.

    It runs at :data:`prune_world.CI_SIZE` (7 functions x 12 versions, ~60 deletions, about
    half a minute) instead of the benchmark's 40 x 30 (~1,100 deletions, minutes): each call
    meets its fault, its retry and its token on its own (fault streams are per operation and
    seeded, the budget is one schedule), and each version's verdict depends on its own
    function only, so the property does not grow with the count. What size does bring is still
    here: every protection and the race, a provider listing of two pages (58 versions on cp0),
    functions on the providers the config does not own, and enough calls that every kind of
    fault is met and the budget runs well past its burst; the run checks that it met each
    fault kind and that the sandbox's limit admitted every answered control-plane call.
    """
    run = raced_prune(faulty, tmp_path, **CI_SIZE)

    assert raced_prune_problems(run) == []
    # What the size is chosen for: cp0 listed in two pages, the budget run far past its burst.
    assert run.stats.calls["ListFunctionVersionsByCapacityProvider"] > len(run.world.providers)
    assert run.admitted > 3 * RATE


def test_headroom_prunes_before_a_publish(sandbox: Sandbox, tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=3, versions=33, per_provider=3, keep=30,
                  protections=False)
    lam = sandbox.client("lambda", max_attempts=3)
    pages = lam.get_paginator("list_function_versions_by_capacity_provider").paginate(
        CapacityProviderName=world.provider_name("cp0"))
    assert sum(len(page["FunctionVersions"]) for page in pages) == 99
    client = paced_client(sandbox)

    result = ensure_headroom(client, world.config, world.env, "cp0", publishes=2)

    assert result is not None
    assert len(result.deletions) == 9
    assert not result.failures
    for key in ("f0", "f1"):
        lam.update_function_configuration(FunctionName=name(key), Description="next")
        assert lam.publish_version(FunctionName=name(key))["Version"] == "34"
    assert ensure_headroom(client, world.config, world.env, "cp0", publishes=1) is None


def test_headroom_refuses_clearly_when_nothing_may_go(sandbox: Sandbox,
                                                      tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=3, versions=33, per_provider=3, keep=33,
                  protections=False)
    before = all_versions(sandbox, world)

    with pytest.raises(OperationFailed) as refused:
        ensure_headroom(paced_client(sandbox), world.config, world.env, "cp0", publishes=2)

    message = str(refused.value)
    assert "capacity provider pw-dev-cp0" in message
    assert "publishing 2 more" in message
    assert "only 0 may be pruned" in message
    assert "99 newest (keep 33" in message
    assert "Exceeded" not in message  # never the raw AWS quota error
    assert all_versions(sandbox, world) == before


def test_retire_deletes_every_version_then_the_provider_goes(sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=4, versions=6, per_provider=2,
                  protections=False, others=1, other_versions=2)
    for function in (name("f0"), name("f1"), *world.others):  # moved on; old versions stay
        move(sandbox, function, world.providers["cp1"])
    request = PruneRequest(str(world.config_path), "dev", retire_capacity_provider="cp0")

    outcome = run_prune(request, sandbox_environ(sandbox))

    assert outcome.exit_code == 0
    assert outcome.refusal is None
    assert len(outcome.decision.deletions) == 14  # f0's and f1's 6, team-b-0's 2
    lam = sandbox.client("lambda", max_attempts=3)
    assert lam.list_function_versions_by_capacity_provider(
        CapacityProviderName=world.provider_name("cp0"))["FunctionVersions"] == []
    lam.delete_capacity_provider(CapacityProviderName=world.provider_name("cp0"))
    assert all_versions(sandbox, world)[name("f2")] == set(world.versions[name("f2")])


def test_retire_refuses_while_an_alias_routes_there(sandbox: Sandbox,
                                                    tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=4, versions=4, per_provider=2,
                  protections=False)
    for function in (name("f0"), name("f1")):
        move(sandbox, function, world.providers["cp1"])
    sandbox.client("lambda", internal=True).create_alias(
        FunctionName=name("f1"), Name="live", FunctionVersion="3")
    before = all_versions(sandbox, world)

    code, out, err = cli(sandbox, "--config", str(world.config_path), "--env", "dev",
                         "--retire-capacity-provider", world.provider_name("cp0"))

    assert code == 3
    assert "cannot retire capacity provider(s)" in err
    assert f"{name('f1')}:3 kept: alias live points to it" in err
    assert "1 version(s) must stay" in err
    assert all_versions(sandbox, world) == before
    assert "alias live points to it" in out


def cli(sandbox: Sandbox, *args: str) -> tuple[int, str, str]:
    """Run ``prune`` as the console script would: errors mapped to their exit codes."""
    result = CliRunner().invoke(prune_command, list(args), env=sandbox_environ(sandbox))
    error: Any = result.exception
    if isinstance(error, LmiError):
        return error.exit_code, result.stdout, result.stderr + str(error)
    assert error is None or isinstance(error, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_cli_dry_run_deletes_nothing_and_lists_verdicts(sandbox: Sandbox,
                                                        tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=6, versions=12, per_provider=3, others=1)
    before = all_versions(sandbox, world)

    code, out, _ = cli(sandbox, "--config", str(world.config_path), "--env", "dev",
                       "--dry-run")

    assert code == 0
    assert all_versions(sandbox, world) == before
    assert "would delete" in out
    assert "dry run, nothing deleted" in out
    assert "alias live routes 10% of its traffic to it" in out
    assert "event source mapping" in out
    assert "scaling config keeps 2" in out
    assert "out of scope: function team-b-0 is not selected" in out

    code, out, _ = cli(sandbox, "--config", str(world.config_path), "--env", "dev",
                       "--dry-run", "--format", "json", "--keep", "5")
    report = json.loads(out)
    assert code == 0
    assert report["dry_run"] is True
    assert report["policy"]["keep"] == 5
    assert report["totals"]["deleted"] == sum(1 for v in report["verdicts"]
                                              if v["action"] == "delete") > 0
    assert all_versions(sandbox, world) == before

    code, out, _ = cli(sandbox, "--config", str(world.config_path), "--env", "dev",
                       "--dry-run", "--format", "markdown", "--capacity-provider", "cp1")
    assert code == 0
    assert out.startswith("### Prune: would delete")
    assert "| `pw-dev-cp1` |" in out
    assert "pw-dev-cp0" not in out.split("<details>")[0]


def test_scheduled_handler_prunes_and_returns_the_report(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = build(sandbox, tmp_path, functions=2, versions=5, per_provider=2,
                  protections=False)
    for key, value in sandbox_environ(sandbox).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LMI_DELIVERY_CONFIG", str(world.config_path))
    monkeypatch.setenv("LMI_DELIVERY_ENV", "dev")

    report = handlers.prune({"keep": 2}, None)

    assert report["exit_code"] == 0
    assert report["totals"]["deleted"] == 6
    assert json.loads(json.dumps(report)) == report
    assert all_versions(sandbox, world)[name("f0")] == {"$LATEST", "4", "5"}
    assert handlers.prune({"keep": "2", "dry_run": "true"}, None)["totals"]["deleted"] == 0


def test_handler_module_does_not_load_click() -> None:
    code = "import sys, lmi_delivery.handlers; print('click' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False"


def _post_deploy(sandbox: Sandbox, config: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(sandbox_environ(sandbox))
    return subprocess.run(
        [sys.executable, "-m", "lmi_delivery", "post-deploy", "--config", str(config),
         "--env", "dev", "--poll-interval", "0.05"],
        capture_output=True, text=True, env=env, timeout=300, check=False)


def test_a_deploy_at_99_versions_prunes_first_and_succeeds(sandbox: Sandbox,
                                                          tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=3, versions=33, per_provider=3, keep=30,
                  protections=False)
    lam = sandbox.client("lambda", max_attempts=3)
    for key in ("f0", "f1", "f2"):  # what a Terraform apply changed
        lam.update_function_configuration(FunctionName=name(key), Description="release 34")
    result = _post_deploy(sandbox, world.config.path)
    assert result.returncode == 0, result.stderr[-3000:]
    for key in ("f0", "f1", "f2"):
        assert lam.get_alias(FunctionName=name(key), Name="live")["FunctionVersion"] == "34"
    pages = lam.get_paginator("list_function_versions_by_capacity_provider").paginate(
        CapacityProviderName=world.provider_name("cp0"))
    assert sum(len(page["FunctionVersions"]) for page in pages) <= 100


def test_the_room_made_before_a_publish_keeps_the_rollback_targets(sandbox: Sandbox,
                                                                    tmp_path: Path) -> None:
    """At the quota, the prune that makes room before the publish protects what the aliases
    served (history_keep), as every other prune does: f0's live alias served version 1 before
    33, and version 1, the oldest, is what a headroom prune without the history deletes first."""
    world = build(sandbox, tmp_path, functions=3, versions=33, per_provider=3, keep=29,
                  protections=Protections(aliases={"f0": "33"}))
    text = world.config.path.read_text(encoding="utf-8")
    world.config.path.write_text(text.replace("  prune: {keep: 29}\n",
                                              "  prune: {keep: 29}\n  history_keep: 3\n"),
                                 encoding="utf-8")
    config = load(world.config.path)
    assert config.post_deploy.history_keep == 3
    history = HistoryStore(sandbox.client("s3", internal=True), config, world.env)
    history.append(name("f0"), "live", Entry(None, "1"))
    history.append(name("f0"), "live", Entry("1", "33"))
    lam = sandbox.client("lambda", max_attempts=3)
    for key in ("f0", "f1", "f2"):  # what a Terraform apply changed
        lam.update_function_configuration(FunctionName=name(key), Description="release 34")
    result = _post_deploy(sandbox, world.config.path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "checking room for" in result.stderr
    now = left(sandbox, [name(k) for k in ("f0", "f1", "f2")])
    assert lam.get_alias(FunctionName=name("f0"), Name="live")["FunctionVersion"] == "34"
    assert {"1", "33", "34"} <= now[name("f0")], sorted(now[name("f0")], key=len)
    assert "1" not in now[name("f1")]  # what made the room: the others' oldest


def test_a_deploy_with_nothing_prunable_stops_before_publishing(sandbox: Sandbox,
                                                                tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=3, versions=33, per_provider=3, keep=33,
                  protections=False)
    lam = sandbox.client("lambda", max_attempts=3)
    for key in ("f0", "f1", "f2"):  # what a Terraform apply changed
        lam.update_function_configuration(FunctionName=name(key), Description="release 34")
    before = all_versions(sandbox, world)
    result = _post_deploy(sandbox, world.config.path)
    assert result.returncode == 1
    assert "capacity provider pw-dev-cp0" in result.stderr
    assert "LimitExceeded" not in result.stderr  # a clear message, not the raw AWS exception
    assert "Traceback" not in result.stderr
    assert all_versions(sandbox, world) == before, "nothing was published or deleted"
