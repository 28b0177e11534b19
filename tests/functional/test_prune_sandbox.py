"""Pruning against the sandbox: under the 15/s limit with faults, quota headroom, retire, CLI.

The fault-injected run prunes 40 functions x 30 versions (1,200 versions on fourteen capacity
providers, three functions each, under the 100-versions quota). Every injected throttle answers
``retryAfterSeconds: 1``, which pushes the whole budget back by a second, as a real throttle
should: with 10% throttles the admitted rate falls to ~6/s and the test takes minutes.
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
from prune_world import World, build, left, move, name, paced_client, sandbox_environ

from lmi_delivery import handlers
from lmi_delivery.cli.commands.prune import prune_command
from lmi_delivery.errors import LmiError, OperationFailed
from lmi_delivery.postdeploy.prune.api import ensure_headroom, execute_prune, plan_prune
from lmi_delivery.postdeploy.prune.decision import Action
from lmi_delivery.postdeploy.prune.run import PruneRequest, run_prune
from lmi_delivery.sandbox import FaultRates, Sandbox, SandboxOptions

FAULTY = SandboxOptions(
    rate_limit_per_second=15.0, seed=20260101,
    faults={"lambda:*": FaultRates(throttle=0.10, error_500=0.025, error_503=0.025,
                                   drop=0.02)})


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
    world = build(faulty, tmp_path, functions=40, versions=30, per_provider=3, others=3)
    client = paced_client(faulty, max_attempts=8)
    decision = plan_prune(client, world.config, world.env)
    assert not decision.failures
    # A deploy moves an alias onto a version the plan chose, before the deletes run.
    raced = decision.verdict(name("f6"), "2")
    assert raced is not None
    assert raced.action is Action.DELETE
    faulty.client("lambda", internal=True).create_alias(
        FunctionName=name("f6"), Name="hotfix", FunctionVersion="2")

    result = execute_prune(client, decision)

    assert [(v.function, v.version) for v in result.failures] == [(name("f6"), "2")]
    assert result.failures[0].note.startswith("now routed by an alias")
    expected = {f: set(v) for f, v in world.expected_left.items()}
    expected[name("f6")].add("2")
    now = all_versions(faulty, world)
    assert {f: now[f] for f in expected} == expected
    for other in world.others:  # not the config's: untouched
        assert now[other] == set(world.versions[other])
    deleted = {(v.function, v.version) for v in result.deletions}
    assert len(deleted) == sum(len(world.versions[f]) - len(expected[f]) for f in expected)

    again = execute_prune(client, plan_prune(client, world.config, world.env))
    assert again.deletions == ()
    assert again.failures == ()
    assert all_versions(faulty, world) == now
    hotfix = again.verdict(name("f6"), "2")
    assert hotfix is not None
    assert hotfix.describe() == "kept: alias hotfix points to it"


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
