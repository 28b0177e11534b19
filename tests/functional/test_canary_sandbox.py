"""The opt-in canary of an alias move, against the sandbox's Lambda and CloudWatch alarms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from config_files import load_text

from lmi_delivery.config.model import Config
from lmi_delivery.errors import OperationFailed
from lmi_delivery.postdeploy.alias import execute_alias, plan_alias
from lmi_delivery.postdeploy.canary import CanaryClock, CanaryRolledBack
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.sandbox import Sandbox

NAME = "shop-dev-router"
ALARM = "shop-dev-router-errors"
CONFIG = f"""\
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
    canary: {{weight: 0.2, minutes: 2, alarms: [{ALARM}]}}
"""


class FakeTime:
    """A clock that advances only when slept on; ``on_sleep`` runs at every sleep."""

    def __init__(self, on_sleep: Any) -> None:
        self.t = 0.0
        self.on_sleep = on_sleep
        self.sleeps = 0

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.on_sleep(self.sleeps)
        self.t += seconds

    def clock(self) -> CanaryClock:
        return CanaryClock(now=lambda: self.t, sleep=self.sleep, poll_seconds=30)


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox) -> Config:
    loaded = load_text(tmp_path, CONFIG)
    sandbox.seed_from_config(loaded)
    lam = sandbox.client("lambda")
    lam.publish_version(FunctionName=NAME)
    lam.create_alias(FunctionName=NAME, Name="live", FunctionVersion="1")
    lam.update_function_configuration(FunctionName=NAME, Description="release 2")
    assert lam.publish_version(FunctionName=NAME)["Version"] == "2"
    sandbox.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Dimensions=[{"Name": "FunctionName", "Value": NAME}])
    return loaded


def routing(lam: Any) -> tuple[str, dict[str, float]]:
    alias = lam.get_alias(FunctionName=NAME, Name="live")
    return alias["FunctionVersion"], alias.get("RoutingConfig", {}).get(
        "AdditionalVersionWeights", {})


def test_quiet_alarms_promote_after_the_canary(config: Config, sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    during: list[tuple[str, dict[str, float]]] = []
    time = FakeTime(lambda n: during.append(routing(lam)))
    plan = plan_alias(lam, config, config.environment("dev"), versions={NAME: "2"})
    assert "through a canary (20% for 2 min" in plan.moves[0].step.describe()

    [result] = execute_alias(lam, plan, reporter=ProgressLog(), cloudwatch=sandbox.client(
        "cloudwatch"), canary_clock=time.clock())

    assert during[0] == ("1", {"2": 0.2}), "the old version keeps 80% during the canary"
    assert time.sleeps == 4, "two minutes watched, every 30 s"
    assert routing(lam) == ("2", {})
    assert (result.from_version, result.to_version, result.action) == ("1", "2", "moved")


def test_an_alarm_rolls_the_alias_back(config: Config, sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    cloudwatch = sandbox.client("cloudwatch")

    def alarm_fires(n: int) -> None:
        if n == 2:
            cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM",
                                       StateReason="errors during the canary")

    time = FakeTime(alarm_fires)
    plan = plan_alias(lam, config, config.environment("dev"), versions={NAME: "2"})
    with pytest.raises(CanaryRolledBack) as rolled_back:
        execute_alias(lam, plan, reporter=ProgressLog(), cloudwatch=cloudwatch,
                      canary_clock=time.clock())
    assert f"rolled back to version 1: alarm(s) {ALARM} in ALARM" in str(rolled_back.value)
    assert isinstance(rolled_back.value, OperationFailed)
    assert rolled_back.value.exit_code == 1
    assert routing(lam) == ("1", {})


def test_a_first_deploy_creates_the_alias_without_a_canary(config: Config,
                                                           sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    lam.delete_alias(FunctionName=NAME, Name="live")
    plan = plan_alias(lam, config, config.environment("dev"), versions={NAME: "2"})
    assert "canary" not in plan.moves[0].step.describe()
    time = FakeTime(lambda n: None)
    [result] = execute_alias(lam, plan, reporter=ProgressLog(), cloudwatch=None,
                             canary_clock=time.clock())
    assert result.action == "created"
    assert time.sleeps == 0
    assert routing(lam) == ("2", {})
