"""``lmi-delivery status`` on the agent-platform example in the sandbox: every figure it shows is
the sandbox's own state, read back here through the API; with AWS-like latency and the 15/s
limit on, it answers in well under 2 s (the figure is printed, not asserted)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_clock import SandboxClock

from lmi_delivery.cli import main as cli
from lmi_delivery.config import load
from lmi_delivery.config.model import Config
from lmi_delivery.postdeploy.history import Provenance
from lmi_delivery.postdeploy.publish import WaitSettings
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.postdeploy.scale import ScaleWait
from lmi_delivery.postdeploy.sequence import LIVE, PostDeployClients, RunOptions, run_post_deploy
from lmi_delivery.sandbox import Sandbox, SandboxOptions

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agent-platform" / "lmi-delivery.yml"
NAME = "agent-core-dev-clm-router"
PROVIDER = "agent-core-dev-shared"
CLOCK = SandboxClock()
SHA = "5e" * 32


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    options = SandboxOptions(publish_delay_seconds=0.3, scaling_delay_seconds=0.3,
                             rate_limit_per_second=15, latency_seconds=0.1, clock=CLOCK)
    with Sandbox(options) as server:
        yield server


@pytest.fixture
def config(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Config:
    loaded = load(EXAMPLE)
    sandbox.seed_from_config(loaded, ["dev"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return loaded


def deploy(config: Config, sandbox: Sandbox, n: int) -> None:
    lam = sandbox.client("lambda", max_attempts=5)
    lam.update_function_configuration(FunctionName=NAME, Description=f"release {n}")
    clients = PostDeployClients(lambda_=lam, events=sandbox.client("events"),
                                s3=sandbox.client("s3"))
    options = RunOptions(wait=WaitSettings(delay=0.05, progress_every=1),
                         scale_wait=ScaleWait(delay=0.05, timeout=10),
                         provenance=Provenance(f"{n:07x}", SHA, "octocat"))
    with CLOCK.running():
        report = run_post_deploy(config, config.environment("dev"), clients, executor=LIVE,
                                 reporter=ProgressLog(), options=options)
    assert report.status == "succeeded", report.error


def test_status_matches_the_sandbox(config: Config, sandbox: Sandbox,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    for n in (1, 2, 3):
        deploy(config, sandbox, n)
    lam = sandbox.client("lambda", max_attempts=5)
    # a change that has not settled yet: version 2 is asked to go down to 1-2 environments
    lam.put_function_scaling_config(FunctionName=NAME, Qualifier="2", FunctionScalingConfig={
        "MinExecutionEnvironments": 1, "MaxExecutionEnvironments": 2})
    lam.update_alias(FunctionName=NAME, Name="live", FunctionVersion="3",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    capsys.readouterr()
    before = len(sandbox.requests())

    started = time.monotonic()
    with pytest.raises(SystemExit) as exited:
        cli.main(["status", "--config", str(config.path), "--env", "dev", "--format", "json"])
    seconds = time.monotonic() - started
    assert exited.value.code in (0, None)
    shown = json.loads(capsys.readouterr().out)
    calls = sandbox.requests()[before:]
    with capsys.disabled():
        print(f"\nstatus answered in {seconds:.2f} s with {len(calls)} AWS calls, each held "
              "0.1 s, under the 15/s limit")
    assert all(str(e.operation).startswith(("Get", "List")) for e in calls
               if e.service == "lambda"), "status only reads"

    (function,) = shown["functions"]
    alias = lam.get_alias(FunctionName=NAME, Name="live")
    assert (function["alias_version"], function["weights"]) == (
        alias["FunctionVersion"], alias["RoutingConfig"]["AdditionalVersionWeights"])
    listed = [v for v in lam.list_versions_by_function(FunctionName=NAME)["Versions"]
              if v["Version"].isdigit()]
    assert [(v["version"], v["state"]) for v in function["versions"]] == [
        (v["Version"], v["State"]) for v in listed]
    for version in function["versions"]:
        found = lam.get_function_scaling_config(FunctionName=NAME, Qualifier=version["version"])

        def pair(key: str, found: Any = found) -> Any:
            config = found.get(key)
            return None if not config else {"min": config["MinExecutionEnvironments"],
                                            "max": config["MaxExecutionEnvironments"]}

        assert version["requested"] == pair("RequestedFunctionScalingConfig"), version
        assert version["applied"] == pair("AppliedFunctionScalingConfig"), version
    by_version = {v["version"]: v for v in function["versions"]}
    assert by_version["2"]["requested"] == {"min": 1, "max": 2}
    # each deploy scaled the version it superseded down to the floor (1, the default)
    assert by_version["2"]["applied"] == {"min": 1, "max": 12}
    assert (by_version["3"]["routed"], by_version["2"]["routed"], by_version["1"]["routed"]) \
        == (0.75, 0.25, 0.0)
    # nothing routes to 1, which still holds its floor
    assert function["superseded_environments"] == by_version["1"]["applied"]["min"] == 1

    pages = lam.get_paginator("list_function_versions_by_capacity_provider").paginate(
        CapacityProviderName=PROVIDER)
    bound = [v for p in pages for v in p["FunctionVersions"]
             if not v["FunctionArn"].endswith(("$LATEST", "$LATEST.PUBLISHED"))]
    assert shown["capacity_providers"] == [{"name": PROVIDER, "versions": len(bound),
                                            "quota": 100}]
    assert [(d["previous"], d["version"], d["commit"], d["plan_sha256"], d["approver"])
            for d in function["deploys"]] == [("2", "3", "0000003", SHA, "octocat"),
                                             ("1", "2", "0000002", SHA, "octocat"),
                                             (None, "1", "0000001", SHA, "octocat")]
    assert all(d["at"].endswith("Z") for d in function["deploys"])

    for fmt in ("text", "markdown"):
        with pytest.raises(SystemExit):
            cli.main(["status", "--config", str(config.path), "--env", "dev", "--format", fmt])
        out = capsys.readouterr().out
        assert "live -> 3 + 2 at 25%" in out
        assert "applied 1-12, requested 1-2" in out
