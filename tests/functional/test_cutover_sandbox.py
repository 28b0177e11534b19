"""Capacity first, then traffic: the cutover of post-deploy against the sandbox, over HTTP.

The publish and scaling delays are on, so a version is ``Pending`` for a while after its
publish and a scaling config is only ``Requested`` for a while after its Put. What the alias
did is read from the sandbox's request journal (every UpdateAlias it answered) and from its
record of each routing change with the *applied* scaling of every version at that moment: the
alias must never route to a version whose applied minimum is below the live version's. The
rollouts' time is a fake clock (:class:`RolloutClock`), so bakes and steps take no real time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from config_files import load_text

from lmi_delivery.config.model import Config
from lmi_delivery.plan.headroom import DEFAULT_ENVIRONMENTS
from lmi_delivery.postdeploy.headroom import HeadroomRefused
from lmi_delivery.postdeploy.publish import WaitSettings
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.postdeploy.rollout import RolloutClock, RolloutRolledBack
from lmi_delivery.postdeploy.scale import ScaleWait
from lmi_delivery.postdeploy.sequence import LIVE, PostDeployClients, RunOptions, run_post_deploy
from lmi_delivery.sandbox import Sandbox, SandboxOptions

DELAY = 0.3
ROUTER, WORKER = "shop-dev-router", "shop-dev-worker"
PROVIDER = "shop-dev-shared"
ALARM = "shop-dev-router-errors"
HOOK = "shop-dev-smoke"
POLL = 30.0
LIVE_MIN = 4
"""The applied minimum of the live version (2) of the router: above its configured min 2."""


def config_text(rollout: str = "", worker_scaling: str = "{min: 5, max: 6, floor: 0}") -> str:
    return f"""\
version: 1
service: shop
region: us-east-1
terraform: {{working_directory: terraform}}
codebuild: {{artifacts: s3://shop-artifacts/plans}}
environments:
  dev: {{branch: dev, apply: auto}}
capacity_providers:
  shared: {{}}
functions:
  router:
    capacity_provider: shared
    scaling: {{min: 2, max: 8}}
    warm: {{concurrency: 2}}
{rollout}  worker:
    capacity_provider: shared
    scaling: {worker_scaling}
post_deploy:
  prune: {{keep: 5}}
"""


ROLLOUTS = {
    "all-at-once": "",
    "canary": f"    rollout: {{canary: {{weight: 0.2, bake_minutes: 1}}, bake_minutes: 1, "
              f"alarms: [{ALARM}]}}\n",
    "linear": f"    rollout: {{linear: {{step: 0.25, every_minutes: 1}}, alarms: [{ALARM}]}}\n",
}
FAST = {"wait": WaitSettings(delay=0.05, progress_every=1), "scale_wait":
        ScaleWait(delay=0.05, timeout=10)}


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(publish_delay_seconds=DELAY,
                                scaling_delay_seconds=DELAY)) as server:
        yield server


class FakeTime:
    """A rollout clock that moves only when slept on; ``on_sleep(n)`` runs at the n-th sleep."""

    def __init__(self, on_sleep: Callable[[int], None] = lambda n: None) -> None:
        self.t, self.sleeps, self.on_sleep = 0.0, 0, on_sleep

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.on_sleep(self.sleeps)
        self.t += seconds

    def clock(self) -> RolloutClock:
        return RolloutClock(now=lambda: self.t, sleep=self.sleep, poll_seconds=POLL)


def wait_for(check: Callable[[], bool]) -> None:
    """Until ``check()`` (the sandbox's delays pass in real time), at most a few seconds."""
    import time

    deadline = time.monotonic() + 5
    while not check():
        assert time.monotonic() < deadline, "the sandbox did not settle"
        time.sleep(0.05)


def previous_deploys(sandbox: Sandbox, config: Config) -> Any:
    """Versions 1 and 2 of both functions, alias live on 2; the router's version 2 runs
    ``LIVE_MIN`` environments (applied), the worker's the default; then Terraform changes
    $LATEST (the router with 4096 MB)."""
    sandbox.seed_from_config(config)
    lam = sandbox.client("lambda")
    lam.update_function_configuration(FunctionName=ROUTER, MemorySize=4096)
    for n in (1, 2):
        for name in (ROUTER, WORKER):
            lam.update_function_configuration(FunctionName=name, Description=f"deploy {n}")
            lam.publish_version(FunctionName=name)
    for name in (ROUTER, WORKER):
        wait_for(lambda name=name: lam.get_function_configuration(
            FunctionName=name, Qualifier="2")["State"] == "Active")
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
    lam.put_function_scaling_config(FunctionName=ROUTER, Qualifier="2", FunctionScalingConfig={
        "MinExecutionEnvironments": LIVE_MIN, "MaxExecutionEnvironments": 8})
    wait_for(lambda: "AppliedFunctionScalingConfig" in lam.get_function_scaling_config(
        FunctionName=ROUTER, Qualifier="2"))
    for name in (ROUTER, WORKER):
        lam.update_function_configuration(FunctionName=name, Description="deploy 3")
    cloudwatch = sandbox.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Dimensions=[{"Name": "FunctionName", "Value": ROUTER}])
    sandbox.clear_requests()
    return lam


def deploy(sandbox: Sandbox, config: Config, time: FakeTime,
           reporter: ProgressLog | None = None, **clients: Any) -> Any:
    return run_post_deploy(
        config, config.environment("dev"),
        PostDeployClients(lambda_=clients.get("lam") or sandbox.client("lambda"),
                          cloudwatch=sandbox.client("cloudwatch")),
        executor=LIVE, reporter=reporter or ProgressLog(),
        options=RunOptions(**FAST, canary_clock=time.clock()))


def alias_calls(sandbox: Sandbox, function: str) -> list[Any]:
    return [e for e in sandbox.requests("lambda") if e.operation in ("UpdateAlias", "CreateAlias")
            and e.params.get("FunctionName") == function and e.status < 300]


def routings(sandbox: Sandbox, function: str, since: int) -> list[tuple[str, dict[str, float]]]:
    return [(c.version, c.weights) for c in sandbox.routing_changes(function)[since:]]


def live_routing(lam: Any, function: str) -> tuple[str, dict[str, float]]:
    alias = lam.get_alias(FunctionName=function, Name="live")
    return alias["FunctionVersion"], alias.get("RoutingConfig", {}).get(
        "AdditionalVersionWeights", {})


# -- the alias never routes to less capacity than the live version had ------------------------


@pytest.mark.parametrize("strategy", list(ROLLOUTS))
def test_the_alias_never_routes_to_less_capacity_than_the_live_version(
        sandbox: Sandbox, tmp_path: Path, strategy: str) -> None:
    config = load_text(tmp_path, config_text(ROLLOUTS[strategy]))
    lam = previous_deploys(sandbox, config)
    before = len(sandbox.routing_changes(ROUTER))
    time = FakeTime()

    report = deploy(sandbox, config, time)

    assert report.status == "succeeded"
    changes = sandbox.routing_changes(ROUTER)[before:]
    calls = alias_calls(sandbox, ROUTER)
    assert len(calls) == len(changes) > 0, "every alias call the journal has is a change seen"
    expected = {"all-at-once": [("3", {})],
                "canary": [("2", {"3": 0.2}), ("3", {})],
                "linear": [("2", {"3": 0.25}), ("2", {"3": 0.5}), ("2", {"3": 0.75}),
                           ("3", {})]}[strategy]
    assert routings(sandbox, ROUTER, before) == expected
    for change in changes:
        live_min = change.applied_min["2"]
        assert live_min == LIVE_MIN
        for version in {change.version, *change.weights}:
            applied = change.applied_min.get(version, DEFAULT_ENVIRONMENTS)
            assert applied is not None, f"version {version} routed before its scaling applied"
            assert applied >= live_min, (version, change)
    # and the journal's order: the new version's scaling (Put) and warm-up came first
    journal = [(e.operation, e.params.get("Qualifier")) for e in sandbox.requests("lambda")
               if e.params.get("FunctionName") == ROUTER and e.status < 300]
    first_move = journal.index(("UpdateAlias", None))
    assert journal.index(("PutFunctionScalingConfig", "3")) < first_move
    assert journal.index(("Invoke", "3")) < first_move
    scaled = journal.index(("PutFunctionScalingConfig", "3"))
    assert journal[:scaled].count(("GetFunctionScalingConfig", "2")) == 1, \
        "the live version's scaling is read once, for the headroom check and the scale step"
    applied = lam.get_function_scaling_config(FunctionName=ROUTER, Qualifier="3")
    assert applied["AppliedFunctionScalingConfig"]["MinExecutionEnvironments"] == LIVE_MIN
    assert time.t == {"all-at-once": 0, "canary": 120, "linear": 180}[strategy]


# -- a firing alarm or a failing hook restores the previous routing ---------------------------


@pytest.mark.parametrize("step", [1, 2, 3])
def test_an_alarm_at_step_k_restores_the_previous_routing_within_one_poll(
        sandbox: Sandbox, tmp_path: Path, step: int) -> None:
    config = load_text(tmp_path, config_text(ROLLOUTS["linear"]))
    lam = previous_deploys(sandbox, config)
    before = len(sandbox.routing_changes(ROUTER))
    cloudwatch = sandbox.client("cloudwatch")
    fired: list[float] = []
    restored: list[float] = []

    def on_sleep(_: int) -> None:
        shares = len(sandbox.routing_changes(ROUTER)) - before
        if shares == step and not fired:  # the k-th share is being watched
            cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM",
                                       StateReason="errors during the rollout")
            fired.append(time.t)

    time = FakeTime(on_sleep)

    def said(line: str) -> None:
        if "restored" in line:
            restored.append(time.t)

    with pytest.raises(RolloutRolledBack) as stopped:
        deploy(sandbox, config, time, ProgressLog(said))

    assert stopped.value.exit_code == 1
    assert f"rolled back to version 2: alarm(s) {ALARM} in ALARM" in str(stopped.value)
    assert f"while {step * 25}% to 3 went" in str(stopped.value)
    shares = [("2", {"3": 0.25 * i}) for i in range(1, step + 1)]
    assert routings(sandbox, ROUTER, before) == [*shares, ("2", {})]
    assert live_routing(lam, ROUTER) == ("2", {})
    assert restored[0] - fired[0] <= POLL, "restored at the first poll after the alarm fired"


@pytest.mark.parametrize("hook", ["pre_traffic", "post_traffic"])
def test_a_failing_hook_restores_the_previous_routing(sandbox: Sandbox, tmp_path: Path,
                                                      hook: str) -> None:
    rollout = f"    rollout: {{canary: {{weight: 0.2, bake_minutes: 1}}, {hook}: {HOOK}}}\n"
    config = load_text(tmp_path, config_text(rollout))
    lam = previous_deploys(sandbox, config)
    seed = tmp_path / "seed.yml"
    seed.write_text(f"functions:\n  - name: {HOOK}\n")
    sandbox.seed(seed)
    sandbox.fail_invocations(HOOK)
    before = len(sandbox.routing_changes(ROUTER))

    with pytest.raises(RolloutRolledBack) as stopped:
        deploy(sandbox, config, FakeTime())

    assert stopped.value.exit_code == 1
    assert f"{hook} hook {HOOK} failed (Unhandled)" in str(stopped.value)
    hooked = sandbox.invocations(HOOK)
    assert len(hooked) == 1
    assert f'"hook": "{hook}"' in hooked[0].payload
    assert '"from_version": "2"' in hooked[0].payload
    assert '"to_version": "3"' in hooked[0].payload
    expected = [] if hook == "pre_traffic" else [("2", {"3": 0.2}), ("3", {}), ("2", {})]
    assert routings(sandbox, ROUTER, before) == expected
    assert live_routing(lam, ROUTER) == ("2", {})


# -- the capacity headroom gate ---------------------------------------------------------------


def hand_calculated_peak() -> int:
    """The cutover's peak on the provider, by hand, from the fixture:

    router: live version 2 runs LIVE_MIN = 4 environments (applied); scaling min 2, max 8, so
            the new version's minimum is max(2, 4) = 4; 4096 MB at the default 2 GiB per vCPU
            is 4 GiB / 2 = 2 vCPU per environment: (4 + 4) x 2 = 16 vCPU.
    worker: live version 2 has no scaling config: the default 3 environments; scaling min 5,
            max 6: new minimum max(5, 3) = 5; 2048 MB at 2 GiB per vCPU is 1 vCPU:
            (3 + 5) x 1 = 8 vCPU.
    total:  16 + 8 = 24 vCPU.
    """
    return (4 + 4) * 2 + (3 + 5) * 1


@pytest.mark.parametrize(("max_vcpus", "refused"), [(23, True), (24, False)])
def test_a_provider_below_the_cutover_peak_stops_the_deploy_before_any_alias_call(
        sandbox: Sandbox, tmp_path: Path, max_vcpus: int, refused: bool) -> None:
    config = load_text(tmp_path, config_text())
    lam = previous_deploys(sandbox, config)
    lam.update_capacity_provider(CapacityProviderName=PROVIDER,
                                 CapacityProviderScalingConfig={"MaxVCpuCount": max_vcpus})
    assert hand_calculated_peak() == 24

    if not refused:
        report = deploy(sandbox, config, FakeTime())
        assert report.status == "succeeded"
        assert any("cutover peak on shop-dev-shared: 24 vCPU against MaxVCpuCount 24: fits"
                   in note for note in report.notes)
        return
    with pytest.raises(HeadroomRefused) as stopped:
        deploy(sandbox, config, FakeTime())

    error = stopped.value
    assert error.exit_code == 3
    assert error.context["peak_vcpus"] == hand_calculated_peak()
    assert error.context["max_vcpus"] == max_vcpus
    message = str(error)
    assert f"needs 24 vCPU at its peak on capacity provider {PROVIDER}, over its " \
           f"MaxVCpuCount {max_vcpus}" in message
    assert f"{ROUTER}: (4 live + 4 new) x 2 vCPU (4096 MB at 2 GiB/vCPU) = 16 vCPU" in message
    assert f"{WORKER}: (3 live + 5 new) x 1 vCPU (2048 MB at 2 GiB/vCPU) = 8 vCPU" in message
    called = [e.operation for e in sandbox.requests("lambda")]
    assert "UpdateAlias" not in called
    assert "CreateAlias" not in called
    assert "PutFunctionScalingConfig" not in called, "stopped before any capacity was asked"
    for name in (ROUTER, WORKER):
        assert live_routing(lam, name) == ("2", {})


# -- superseded versions are scaled down -------------------------------------------------------


def test_the_superseded_version_keeps_its_floor_or_is_deactivated(sandbox: Sandbox,
                                                                   tmp_path: Path) -> None:
    config = load_text(tmp_path, config_text())
    lam = previous_deploys(sandbox, config)

    report = deploy(sandbox, config, FakeTime())

    assert report.status == "succeeded"
    router = lam.get_function_scaling_config(FunctionName=ROUTER, Qualifier="2")
    assert router["AppliedFunctionScalingConfig"] == {
        "MinExecutionEnvironments": 1, "MaxExecutionEnvironments": 8}, "the default floor, 1"
    worker = lam.get_function_scaling_config(FunctionName=WORKER, Qualifier="2")
    assert worker["AppliedFunctionScalingConfig"] == {
        "MinExecutionEnvironments": 0, "MaxExecutionEnvironments": 0}, "floor 0: 0/0"
    assert lam.get_function_configuration(FunctionName=WORKER, Qualifier="2")["State"] in (
        "Deactivating", "Deactivated")
    journal = [(e.operation, e.params.get("FunctionName"), e.params.get("Qualifier"))
               for e in sandbox.requests("lambda") if e.status < 300]
    down = journal.index(("PutFunctionScalingConfig", WORKER, "2"))
    moved = journal.index(("UpdateAlias", WORKER, None))
    assert moved < down, "scaled down only once the alias left it"
    assert all(op != "DeleteFunction" for op, _, _ in journal[:down]), "before the prune"
    # the versions the aliases route to keep what the deploy gave them
    assert lam.get_function_scaling_config(FunctionName=WORKER, Qualifier="3")[
        "AppliedFunctionScalingConfig"] == {"MinExecutionEnvironments": 5,
                                            "MaxExecutionEnvironments": 6}


def test_a_version_another_alias_still_routes_to_is_not_scaled_down(
        sandbox: Sandbox, tmp_path: Path) -> None:
    config = load_text(tmp_path, config_text())
    lam = previous_deploys(sandbox, config)
    lam.create_alias(FunctionName=WORKER, Name="stable", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    lines: list[str] = []

    deploy(sandbox, config, FakeTime(), ProgressLog(lines.append))

    puts = [e.params.get("Qualifier") for e in sandbox.requests("lambda")
            if e.operation == "PutFunctionScalingConfig" and e.params["FunctionName"] == WORKER]
    assert puts == ["3"], "version 2 still takes 10% through alias stable"
    assert any(f"not scaling {WORKER}:2 down: alias(es) stable still route to it" in line
               for line in lines)


# -- what the command says -----------------------------------------------------------------


def run_cli(*args: str) -> int:
    from lmi_delivery.cli import main as cli

    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    return int(exited.value.code or 0)


def test_the_command_exits_1_naming_the_alarm_and_3_over_the_provider(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Through ``lmi-delivery post-deploy``: an alarm already in ALARM is seen at the first
    poll after the first share moved (no bake is waited for), and a provider too small stops
    the next deploy with exit 3."""
    config = load_text(tmp_path, config_text(ROLLOUTS["canary"]))
    lam = previous_deploys(sandbox, config)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    sandbox.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="ALARM",
                                                 StateReason="errors")
    exports = tmp_path / "post-deploy.env"
    command = ("post-deploy", "--config", str(config.path), "--env", "dev",
               "--poll-interval", "0.05", "--exports", str(exports))

    assert run_cli(*command) == 1
    err = capsys.readouterr().err
    assert f"rolled back to version 2: alarm(s) {ALARM} in ALARM while 20% to 3 went" in err
    assert "Traceback" not in err
    assert live_routing(lam, ROUTER) == ("2", {})
    # What the build exports for the orchestrator (its webhooks' canary-rolled-back).
    exported = dict(line.split("=", 1) for line in exports.read_text().splitlines())
    assert exported["LMI_VERDICT"] == "canary-rolled-back"
    assert "rolled back to version 2" in exported["LMI_VERDICT_DETAIL"]

    lam.update_capacity_provider(CapacityProviderName=PROVIDER,
                                 CapacityProviderScalingConfig={"MaxVCpuCount": 12})
    assert run_cli(*command) == 3
    err = capsys.readouterr().err
    assert dict(line.split("=", 1) for line in exports.read_text().splitlines())[
        "LMI_VERDICT"] == "refused"
    assert "needs 24 vCPU at its peak" in err
    assert "over its MaxVCpuCount 12" in err
    assert live_routing(lam, ROUTER) == ("2", {})


def test_the_live_versions_capacity_is_read_while_the_new_versions_start(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """The headroom step's reads of the live versions' applied scaling do not depend on the
    publishes: they are made while the new versions are still Pending (the budget is idle
    then), not after they turn Active."""
    config = load_text(tmp_path, config_text())
    previous_deploys(sandbox, config)
    report = deploy(sandbox, config, FakeTime())
    assert report.status == "succeeded", report.error
    calls = sandbox.requests("lambda")
    published = [e.at for e in calls if e.operation == "PublishVersion" and e.status < 300]
    live_reads = [e.at for e in calls if e.operation == "GetFunctionScalingConfig"
                  and e.params.get("Qualifier") == "2"]
    assert len(published) == 4  # each function: a version and $LATEST.PUBLISHED
    assert len(live_reads) >= 2  # each function's live version 2
    assert max(live_reads[:2]) < min(published) + DELAY, "read after the versions turned Active"
