"""Waiting for a published version: progress lines, Failed with its reason, timeout."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import WaiterError

from lmi_delivery.errors import OperationFailed
from lmi_delivery.plan.steps import RUNNER, Publish
from lmi_delivery.postdeploy.publish import PublishPlan, PublishTarget, WaitSettings, wait_active
from lmi_delivery.postdeploy.report import ProgressLog


class FakeWaiter:
    """Answers each ``wait`` chunk from a script of states, as botocore's waiter would."""

    def __init__(self, states: list[str]) -> None:
        self.states = states
        self.chunks: list[dict[str, Any]] = []

    def wait(self, **kwargs: Any) -> None:
        config = kwargs["WaiterConfig"]
        self.chunks.append(config)
        for _ in range(config["MaxAttempts"]):
            state = self.states.pop(0) if self.states else "Pending"
            last: Any = {"State": state, "StateReasonCode": "VcpuLimitExceeded",
                          "StateReason": "no vCPUs"}
            if state == "Active":
                return
            if state == "Failed":
                raise WaiterError("PublishedVersionActive", "terminal failure", last)
        raise WaiterError("PublishedVersionActive", "Max attempts exceeded", last)


class FakeClient:
    def __init__(self, waiter: FakeWaiter) -> None:
        self.waiter = waiter

    def get_waiter(self, name: str) -> FakeWaiter:
        assert name == "published_version_active"
        return self.waiter


def test_progress_is_reported_between_chunks_until_active() -> None:
    waiter = FakeWaiter(["Pending"] * 5 + ["Active"])
    lines: list[str] = []
    sleeps: list[float] = []
    wait_active(FakeClient(waiter), "svc-dev-router", "7",  # type: ignore[arg-type]  # fake
                WaitSettings(delay=5, progress_every=10), ProgressLog(lines.append), sleeps.append)
    assert [c["MaxAttempts"] for c in waiter.chunks] == [2, 2, 2]
    assert all(c["Delay"] == 5 for c in waiter.chunks)
    waiting = [line for line in lines if line.startswith("waiting")]
    assert len(waiting) == 2
    assert waiting[0].startswith("waiting for svc-dev-router:7 to become Active (Pending, ")
    assert lines[-1] == "svc-dev-router:7 is Active"
    assert sleeps == [5, 5]


def test_failed_version_stops_with_its_reason_code() -> None:
    waiter = FakeWaiter(["Pending", "Failed"])
    reporter = ProgressLog()
    with pytest.raises(OperationFailed) as error:
        wait_active(FakeClient(waiter), "f", "3",  # type: ignore[arg-type]  # fake
                    WaitSettings(delay=1, progress_every=1), reporter, lambda _: None)
    assert "f:3 ended Failed: VcpuLimitExceeded" in str(error.value)
    assert error.value.exit_code == 1
    assert error.value.context["state_reason_code"] == "VcpuLimitExceeded"
    assert reporter.kinds() == ["waiting", "failed"]


def test_gives_up_after_max_attempts() -> None:
    with pytest.raises(OperationFailed, match="still Pending"):
        wait_active(FakeClient(FakeWaiter([])), "f", "3",  # type: ignore[arg-type]  # fake
                    WaitSettings(delay=1, max_attempts=5, progress_every=2), ProgressLog(),
                    lambda _: None)


def test_publishes_are_counted_per_capacity_provider() -> None:
    def target(name: str, provider: str | None, creates: bool) -> PublishTarget:
        return PublishTarget(Publish(RUNNER, name, provider), "sha", "rev",
                             refresh_latest_published=creates, creates_latest_published=creates)

    plan = PublishPlan((target("a", "cp1", True), target("b", "cp1", False),
                        target("c", "cp2", False), target("d", None, False)))
    assert plan.publishes_per_provider() == {"cp1": 3, "cp2": 1}
