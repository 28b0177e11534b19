"""Pruning when LMI deletions take a while, as they do in AWS (issue 11, item 1).

``DeleteFunction`` of an LMI version answers 202 and the version stays listed, ``Deleting``,
until it is gone (AWS-FACTS.md); whether it still counts against the 100-versions quota is not
documented, so both answers of the sandbox are tried. The pruner must re-list and wait before a
publish, must not delete a ``Deleting`` version again nor count it among the newest, and a
retirement must see the provider released, retrying ``DeleteCapacityProvider`` as the Terraform
AWS provider does while the deleted versions still reference it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prune_world import Seeder, build, move, name, paced_client, sandbox_environ
from sandbox_clock import SandboxClock

from lmi_delivery.postdeploy.prune.api import ensure_headroom
from lmi_delivery.postdeploy.prune.release import ReleaseWait
from lmi_delivery.postdeploy.prune.run import PruneRequest, run_prune
from lmi_delivery.sandbox import Sandbox, SandboxOptions

#: Long enough that a loaded machine's pruner still reads the earlier deletions as Deleting.
DELAY = 3.0
QUICK = ReleaseWait(timeout=30, first_delay=0.1, max_delay=0.5, progress_every=0.0)
CLOCK = SandboxClock()
"""The sandbox's time: it stands still while a test sets up and checks, and runs with real time
only while the pruner works (it waits for AWS by polling), so a slow machine cannot let a
deletion finish early."""


@pytest.fixture(scope="module", params=[True, False], ids=["deleting-counts", "deleting-free"])
def sandbox_server(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    options = SandboxOptions(delete_delay_seconds=DELAY,
                             deleting_counts_against_quota=request.param, clock=CLOCK)
    with Sandbox(options) as server:
        yield server


def listed(sandbox: Sandbox, provider: str) -> dict[str, str]:
    lam = sandbox.client("lambda", internal=True)
    found: dict[str, str] = {}
    for page in lam.get_paginator("list_function_versions_by_capacity_provider").paginate(
            CapacityProviderName=provider):
        found.update({v["FunctionArn"].split(":function:", 1)[1]: v["State"]
                      for v in page["FunctionVersions"]})
    return found


def test_headroom_waits_for_the_deleting_versions_then_the_publishes_fit(
        sandbox: Sandbox, tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=3, versions=33, per_provider=3, keep=30,
                  protections=False)
    lam = sandbox.client("lambda", max_attempts=3)
    # An earlier prune's deletions are still under way.
    for version in ("1", "2"):
        assert lam.delete_function(FunctionName=name("f0"), Qualifier=version)[
            "StatusCode"] == 202
    assert sum(state == "Deleting" for state in listed(sandbox, "pw-dev-cp0").values()) == 2
    said: list[str] = []

    with CLOCK.running():
        result = ensure_headroom(paced_client(sandbox), world.config, world.env, "cp0",
                                 publishes=5, wait=QUICK, progress=said.append)

    assert result is not None
    assert sorted((v.function, v.version) for v in result.deleting) == [
        (name("f0"), "1"), (name("f0"), "2")], "seen Deleting, not deleted a second time"
    assert len(result.deletions) == 7  # f0:3, f1:1-3, f2:1-3
    assert not result.failures
    assert len(listed(sandbox, "pw-dev-cp0")) <= 95, "it waited, Deleting ones counted"
    assert any("AWS is deleting to go before publishing 5" in line for line in said)
    for key, version in (("f0", "34"), ("f1", "34"), ("f2", "34"), ("f0", "35"),
                         ("f1", "35")):  # the publishes the headroom was made for
        lam.update_function_configuration(FunctionName=name(key), Description=f"v{version}")
        assert lam.publish_version(FunctionName=name(key))["Version"] == version


def test_retire_deletes_the_provider_retrying_until_its_versions_are_gone(
        sandbox: Sandbox, tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=4, versions=3, per_provider=2,
                  protections=False)
    for function in (name("f0"), name("f1")):  # moved on; their old versions stay on cp0
        move(sandbox, function, world.providers["cp1"])
    request = PruneRequest(str(world.config_path), "dev", retire_capacity_provider="cp0",
                           delete_capacity_provider=True, release_wait=QUICK)
    said: list[str] = []

    started = CLOCK()
    with CLOCK.running():
        outcome = run_prune(request, sandbox_environ(sandbox), progress=said.append)

    assert outcome.exit_code == 0, outcome.to_dict()["retirement"]
    assert outcome.retirement is not None
    assert outcome.retirement.outcome == "deleted"
    assert outcome.retirement.refusals >= 1, "refused while the deleted versions were going"
    assert CLOCK() - started >= DELAY
    assert any("still in use, retrying its deletion" in line for line in said)
    lam = sandbox.client("lambda", max_attempts=3)
    assert lam.get_capacity_provider(CapacityProviderName="pw-dev-cp0")[
        "CapacityProvider"]["State"] == "Deleting"
    assert outcome.to_dict()["retirement"]["outcome"] == "deleted"


def test_retire_returns_once_the_provider_is_released(sandbox: Sandbox, tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=2, versions=3, per_provider=2,
                  protections=False)
    replacement = Seeder(sandbox).provider("pw-dev-next")
    for function in (name("f0"), name("f1")):
        move(sandbox, function, replacement)
    request = PruneRequest(str(world.config_path), "dev", retire_capacity_provider="cp0",
                           release_wait=QUICK)

    with CLOCK.running():
        outcome = run_prune(request, sandbox_environ(sandbox))

    assert outcome.exit_code == 0
    assert outcome.retirement is not None
    assert outcome.retirement.outcome == "released"
    assert len(outcome.decision.deletions) == 6
    assert listed(sandbox, "pw-dev-cp0") == {}, "what AWS was deleting is gone"
    sandbox.client("lambda").delete_capacity_provider(CapacityProviderName="pw-dev-cp0")
