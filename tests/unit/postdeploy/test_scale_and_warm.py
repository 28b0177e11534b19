"""Scaling waits for the applied config; warm-up fails on an unexpected version."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lmi_delivery.errors import OperationFailed
from lmi_delivery.plan.steps import RUNNER, Scale, Warm
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.postdeploy.scale import ScalePlan, ScaleWait, execute_scale
from lmi_delivery.postdeploy.warm import WarmPlan, WarmTarget, execute_warm


class FakeScaling:
    """Applies the requested config after ``lag`` reads."""

    def __init__(self, lag: int) -> None:
        self.lag = lag
        self.requested: dict[str, int] = {}

    def put_function_scaling_config(self, **kwargs: Any) -> None:
        self.requested = kwargs["FunctionScalingConfig"]

    def get_function_scaling_config(self, **_: Any) -> dict[str, Any]:
        self.lag -= 1
        applied = self.requested if self.lag < 0 else {"MinExecutionEnvironments": 3}
        return {"RequestedFunctionScalingConfig": self.requested,
                "AppliedFunctionScalingConfig": applied}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


PLAN = ScalePlan((Scale(RUNNER, "f", "7", 2, 6),))


def test_scale_polls_until_the_applied_config_matches() -> None:
    clock, lines = Clock(), list[str]()
    done = execute_scale(FakeScaling(lag=4), PLAN,  # type: ignore[arg-type]  # fake
                         reporter=ProgressLog(lines.append),
                         wait=ScaleWait(delay=5, timeout=60, progress_every=10),
                         sleep=clock.sleep, clock=clock)
    assert [(r.qualifier, r.min, r.max) for r in done] == [("7", 2, 6)]
    assert clock.now == 20
    assert sum(line.startswith("waiting for f:7 scaling") for line in lines) == 1
    assert lines[-1] == "f:7 scaling applied"


def test_scale_wait_is_bounded() -> None:
    clock = Clock()
    with pytest.raises(OperationFailed, match="not applied after 30 s"):
        execute_scale(FakeScaling(lag=100), PLAN,  # type: ignore[arg-type]  # fake
                      reporter=ProgressLog(), wait=ScaleWait(delay=5, timeout=30),
                      sleep=clock.sleep, clock=clock)


class FakeInvoke:
    def __init__(self, version: str, state: str = "Active") -> None:
        self.version = version
        self.state = state
        self.payloads: list[dict[str, Any]] = []

    def get_function_configuration(self, FunctionName: str, Qualifier: str) -> dict[str, Any]:
        return {"Version": Qualifier, "State": self.state}

    def invoke(self, FunctionName: str, Qualifier: str, Payload: bytes) -> dict[str, Any]:
        assert Qualifier == "live"
        self.payloads.append(json.loads(Payload))
        return {"StatusCode": 200, "ExecutedVersion": self.version}


def warm_plan(expected: str) -> WarmPlan:
    return WarmPlan((WarmTarget(Warm(RUNNER, "f", "live", 4), frozenset({expected})),))


def test_warm_invokes_the_alias_with_the_marker() -> None:
    lam = FakeInvoke("7")
    results = execute_warm(lam, warm_plan("7"), reporter=ProgressLog(), run_id="r")  # type: ignore[arg-type]  # fake
    assert [i.executed_version for i in results["f"]] == ["7"] * 4
    assert sorted(p["lmi-delivery"]["id"] for p in lam.payloads) == [f"r-f-{i}" for i in range(4)]
    assert all(p["lmi-delivery"]["warmup"] is True for p in lam.payloads)


def test_warm_fails_when_an_unexpected_version_ran() -> None:
    with pytest.raises(OperationFailed, match="ran version 6, expected 7"):
        execute_warm(FakeInvoke("6"), warm_plan("7"), reporter=ProgressLog())  # type: ignore[arg-type]  # fake


def test_warm_refuses_an_alias_on_a_deactivated_version() -> None:
    lam = FakeInvoke("7", state="Deactivated")
    with pytest.raises(OperationFailed, match="which is Deactivated, not Active"):
        execute_warm(lam, warm_plan("7"), reporter=ProgressLog())  # type: ignore[arg-type]  # fake
    assert lam.payloads == [], "nothing was invoked"


class ConflictingScaling(FakeScaling):
    """Refuses the Put while the version is still starting, ``starting`` times."""

    def __init__(self, starting: int) -> None:
        super().__init__(lag=0)
        self.starting = starting

    def put_function_scaling_config(self, **kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        if self.starting > 0:
            self.starting -= 1
            raise ClientError({"Error": {"Code": "ResourceConflictException", "Message":
                               "The function is currently in the following state: Pending"}},
                              "PutFunctionScalingConfig")
        super().put_function_scaling_config(**kwargs)


def test_scale_retries_a_put_while_the_version_is_starting() -> None:
    clock, lines = Clock(), list[str]()
    done = execute_scale(ConflictingScaling(starting=2), PLAN,  # type: ignore[arg-type]  # fake
                         reporter=ProgressLog(lines.append), wait=ScaleWait(delay=5, timeout=60),
                         sleep=clock.sleep, clock=clock)
    assert [r.qualifier for r in done] == ["7"]
    assert clock.now == 10
    assert lines[0] == "f:7 is not ready for a scaling change yet (still starting): retrying…"
    with pytest.raises(OperationFailed, match="refused its scaling config for 30 s"):
        execute_scale(ConflictingScaling(starting=100), PLAN,  # type: ignore[arg-type]  # fake
                      reporter=ProgressLog(), wait=ScaleWait(delay=5, timeout=30),
                      sleep=clock.sleep, clock=clock)
