"""Drift in what post-deploy owns, found in the sandbox: one test per kind.

The agent-platform example is deployed twice by the real post-deploy (versions 1 and 2, the
alias ``live`` on 2, its warm-up rule targeting the alias, both moves in the history); then one
thing is changed behind lmi-delivery's back, as a person with console access would, and
:func:`find_drift` must report exactly that, through the paced client (reads only).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prune_world import paced_factory
from sandbox_clock import SandboxClock

from lmi_delivery.config import load, naming
from lmi_delivery.config.model import Config
from lmi_delivery.postdeploy.drift import QUOTA_MARGIN, DriftFinding, find_drift
from lmi_delivery.postdeploy.history import HistoryStore, Provenance
from lmi_delivery.postdeploy.publish import WaitSettings
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.postdeploy.scale import ScaleWait
from lmi_delivery.postdeploy.schedule import TARGET_ID
from lmi_delivery.postdeploy.sequence import LIVE, PostDeployClients, RunOptions, run_post_deploy
from lmi_delivery.sandbox import Sandbox, SandboxOptions

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agent-platform" / "lmi-delivery.yml"
NAME = "agent-core-dev-clm-router"
PROVIDER = "agent-core-dev-shared"
CLOCK = SandboxClock()


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    options = SandboxOptions(publish_delay_seconds=0.3, scaling_delay_seconds=0.3, clock=CLOCK)
    with Sandbox(options) as server:
        yield server


@pytest.fixture
def deployed(sandbox: Sandbox) -> Config:
    """Two deploys of the example to dev: ``live`` on 2, nothing drifted."""
    config = load(EXAMPLE)
    sandbox.seed_from_config(config, ["dev"])
    lam = sandbox.client("lambda", max_attempts=5)
    for n in (1, 2):
        lam.update_function_configuration(FunctionName=NAME, Description=f"release {n}")
        clients = PostDeployClients(lambda_=lam, events=sandbox.client("events"),
                                    s3=sandbox.client("s3"))
        options = RunOptions(wait=WaitSettings(delay=0.05, progress_every=1),
                             scale_wait=ScaleWait(delay=0.05, timeout=10),
                             provenance=Provenance(f"{n:07x}", "5e" * 32, "octocat"))
        with CLOCK.running():
            report = run_post_deploy(config, config.environment("dev"), clients,
                                     executor=LIVE, reporter=ProgressLog(), options=options)
        assert report.status == "succeeded", report.error
    return config


def drift(sandbox: Sandbox, config: Config) -> tuple[DriftFinding, ...]:
    factory = paced_factory(sandbox)
    env = config.environment("dev")
    before = len(sandbox.requests())
    found = find_drift(factory.client("lambda"), factory.client("events"), config, env,
                       HistoryStore(factory.client("s3"), config, env))
    writes = [f"{c.service}:{c.operation}" for c in sandbox.requests()[before:]
              if c.service in ("lambda", "events")
              and not str(c.operation).startswith(("Get", "List", "Describe"))]
    assert writes == [], "drift only reads"
    return found


def kinds(found: tuple[DriftFinding, ...]) -> list[tuple[str, str]]:
    return [(f.kind, f.subject) for f in found]


def test_a_fresh_deploy_has_no_drift(sandbox: Sandbox, deployed: Config) -> None:
    assert drift(sandbox, deployed) == ()


def test_an_alias_moved_by_hand_is_off_the_last_deployed_version(
        sandbox: Sandbox, deployed: Config) -> None:
    sandbox.client("lambda", max_attempts=5).update_alias(FunctionName=NAME, Name="live",
                                                          FunctionVersion="1")
    found = drift(sandbox, deployed)
    assert kinds(found) == [("alias-off-deployed", f"{NAME}:live")]
    assert "on version 1" in found[0].message
    assert "put it on version 2" in found[0].message


def test_weights_left_by_an_aborted_canary(sandbox: Sandbox, deployed: Config) -> None:
    sandbox.client("lambda", max_attempts=5).update_alias(
        FunctionName=NAME, Name="live", FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}})
    found = drift(sandbox, deployed)
    assert kinds(found) == [("leftover-weights", f"{NAME}:live")]
    assert "version 1 at 10%" in found[0].message


def test_scaling_requested_is_not_what_is_applied(sandbox: Sandbox, deployed: Config) -> None:
    # The clock stands still: the change stays requested, never applied.
    sandbox.client("lambda", max_attempts=5).put_function_scaling_config(
        FunctionName=NAME, Qualifier="2", FunctionScalingConfig={
            "MinExecutionEnvironments": 5, "MaxExecutionEnvironments": 6})
    found = drift(sandbox, deployed)
    assert kinds(found) == [("scaling-unsettled", f"{NAME}:2")]
    assert "5-6 requested, 3-12 applied" in found[0].message


def test_a_warm_up_rule_without_its_target(sandbox: Sandbox, deployed: Config) -> None:
    rule = naming.warm_rule_name(deployed, deployed.environment("dev"), "clm-router")
    events = sandbox.client("events")
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]] == [TARGET_ID]
    events.remove_targets(Rule=rule, Ids=[TARGET_ID])
    found = drift(sandbox, deployed)
    assert kinds(found) == [("warm-rule-without-target", rule)]
    assert f"{NAME}:live" in found[0].message


def test_a_capacity_provider_within_ten_versions_of_the_quota(
        sandbox: Sandbox, deployed: Config) -> None:
    lam = sandbox.client("lambda", internal=True)

    def publish_until(bound: int) -> None:
        pages = lam.get_paginator("list_versions_by_function")
        while len([v for p in pages.paginate(FunctionName=NAME) for v in p["Versions"]
                   if v["Version"].isdigit()]) < bound:
            lam.update_function_configuration(FunctionName=NAME, Description=f"{bound}")
            lam.publish_version(FunctionName=NAME)

    publish_until(100 - QUOTA_MARGIN - 1)
    assert drift(sandbox, deployed) == (), "89 of 100 is not yet near the quota"
    publish_until(100 - QUOTA_MARGIN)
    found = drift(sandbox, deployed)
    assert kinds(found) == [("provider-near-quota", PROVIDER)]
    assert "90 of 100 versions" in found[0].message
