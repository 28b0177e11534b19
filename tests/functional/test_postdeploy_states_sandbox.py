"""Post-deploy steps against version states the sandbox now models as AWS has them (issue 11).

AWS-FACTS.md: a 0/0 scaling config deactivates a version (``Deactivating`` -> ``Deactivated``:
not invocable, not recovered on its own), so rollback, warm and alias refuse it as a target; a
``PutFunctionScalingConfig`` on a version still starting answers ``ResourceConflictException``
(the scale step retries); a second ``CreateAlias`` of one name is ``ResourceConflictException``
(the alias step reports a concurrent deploy).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from config_files import load_text

from lmi_delivery.config.model import Config
from lmi_delivery.errors import GateRefused, OperationFailed
from lmi_delivery.postdeploy.alias import ConcurrentChange, execute_alias, plan_alias
from lmi_delivery.postdeploy.history import Entry, History
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.postdeploy.rollback import plan_rollback
from lmi_delivery.postdeploy.scale import ScaleWait, execute_scale, plan_scale
from lmi_delivery.postdeploy.warm import execute_warm, plan_warm
from lmi_delivery.sandbox import Sandbox, SandboxOptions

DELAY = 0.4
NAME = "shop-dev-router"
CONFIG = """\
version: 1
service: shop
region: us-east-1
terraform:
  working_directory: terraform
codebuild:
  artifacts: s3://shop-artifacts/plans
environments:
  dev: {branch: dev, apply: auto}
capacity_providers:
  shared: {}
functions:
  router:
    capacity_provider: shared
    alias: live
    scaling: {min: 2, max: 6}
    warm: {concurrency: 2}
"""


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(publish_delay_seconds=DELAY)) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox) -> Config:
    loaded = load_text(tmp_path, CONFIG)
    sandbox.seed_from_config(loaded)
    return loaded


@pytest.fixture
def lam(sandbox: Sandbox) -> Any:
    return sandbox.client("lambda", max_attempts=3)


def deploys(lam: Any, count: int) -> None:
    """``count`` published versions, all Active, alias live on the newest."""
    for n in range(count):
        lam.update_function_configuration(FunctionName=NAME, Description=f"deploy {n}")
        lam.publish_version(FunctionName=NAME)
    time.sleep(DELAY + 0.1)
    lam.create_alias(FunctionName=NAME, Name="live", FunctionVersion=str(count))


def deactivate(lam: Any, version: str) -> None:
    lam.put_function_scaling_config(FunctionName=NAME, Qualifier=version, FunctionScalingConfig={
        "MinExecutionEnvironments": 0, "MaxExecutionEnvironments": 0})
    assert lam.get_function_configuration(FunctionName=NAME,
                                          Qualifier=version)["State"] == "Deactivated"


def test_rollback_refuses_a_deactivated_version(config: Config, lam: Any) -> None:
    deploys(lam, 3)
    deactivate(lam, "2")
    env = config.environment("dev")
    served = {NAME: History(NAME, "live", (Entry("1", "2"), Entry("2", "3")))}

    with pytest.raises(GateRefused) as refused:
        plan_rollback(lam, config, env, histories=served)
    assert refused.value.exit_code == 3
    assert "refusing to roll shop-dev-router:live back to version 2" in str(refused.value)
    assert "it is Deactivated, not Active" in str(refused.value)
    assert "min 0 / max 0" in str(refused.value)
    assert "--to VERSION" in str(refused.value)
    with pytest.raises(GateRefused, match=r"version 2 .*Deactivated"):
        plan_rollback(lam, config, env, to="2")
    # No older Active version is taken instead: 1 served, but not right before 3.
    with pytest.raises(GateRefused, match="shows no version it served before"):
        plan_rollback(lam, config, env, histories={})
    assert [m.step.to_version for m in plan_rollback(lam, config, env, to="1").alias.moves] == [
        "1"]
    assert lam.get_alias(FunctionName=NAME, Name="live")["FunctionVersion"] == "3"


def test_warm_and_alias_refuse_a_deactivated_version(config: Config, lam: Any,
                                                     sandbox: Sandbox) -> None:
    deploys(lam, 2)
    env = config.environment("dev")
    deactivate(lam, "2")
    with pytest.raises(OperationFailed, match="refusing to warm shop-dev-router:live: it routes "
                                              "to version 2, which is Deactivated"):
        execute_warm(lam, plan_warm(lam, config, env), reporter=ProgressLog())
    assert sandbox.invocations(NAME) == []
    lam.update_alias(FunctionName=NAME, Name="live", FunctionVersion="1")
    with pytest.raises(OperationFailed, match="at version 2: it is Deactivated, not Active"):
        execute_alias(lam, plan_alias(lam, config, env, versions={NAME: "2"}),
                      reporter=ProgressLog())
    assert lam.get_alias(FunctionName=NAME, Name="live")["FunctionVersion"] == "1"


def test_scale_retries_while_the_new_version_is_starting(config: Config, lam: Any) -> None:
    lam.update_function_configuration(FunctionName=NAME, Description="new code")
    assert lam.publish_version(FunctionName=NAME)["State"] == "Pending"
    said: list[str] = []

    done = execute_scale(lam, plan_scale(None, config, config.environment("dev"),
                                         versions={NAME: "1"}),
                         reporter=ProgressLog(said.append), wait=ScaleWait(delay=0.1, timeout=10))

    assert [(r.qualifier, r.min, r.max) for r in done] == [("1", 2, 6)]
    assert "shop-dev-router:1 is not ready for a scaling change yet (still starting): " \
           "retrying…" in said
    assert lam.get_function_scaling_config(FunctionName=NAME, Qualifier="1")[
        "AppliedFunctionScalingConfig"] == {"MinExecutionEnvironments": 2,
                                            "MaxExecutionEnvironments": 6}


def test_an_alias_created_meanwhile_is_a_concurrent_change(config: Config, lam: Any) -> None:
    lam.update_function_configuration(FunctionName=NAME, Description="first")
    lam.publish_version(FunctionName=NAME)
    time.sleep(DELAY + 0.1)
    plan = plan_alias(lam, config, config.environment("dev"))
    assert plan.moves[0].action == "create"
    lam.create_alias(FunctionName=NAME, Name="live", FunctionVersion="1")  # another deploy

    with pytest.raises(ConcurrentChange, match="was created by someone else"):
        execute_alias(lam, plan, reporter=ProgressLog())
