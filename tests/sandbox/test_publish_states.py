"""Version State Pending -> Active/Failed, and botocore's PublishedVersionActive waiter."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import WaiterError
from sandbox_helpers import function, provider, publish_new

from lmi_delivery.sandbox import Sandbox, SandboxOptions

DELAY = 1.0
FAST = {"Delay": 0.2, "MaxAttempts": 30}


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(publish_delay_seconds=DELAY)) as server:
        yield server


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    client = aws_clients("lambda")
    iam = aws_clients("iam")
    function(client, iam, "router", provider(client, iam, "shared"))
    return client


def test_published_version_is_pending_then_active(lam: Any) -> None:
    published = publish_new(lam, "router")
    assert published["State"] == "Pending"
    assert lam.get_function_configuration(FunctionName="router",
                                          Qualifier="1")["State"] == "Pending"
    started = time.monotonic()
    lam.get_waiter("published_version_active").wait(
        FunctionName="router", Qualifier="1", WaiterConfig=FAST)
    assert time.monotonic() - started < DELAY + 1
    assert lam.get_function_configuration(FunctionName="router",
                                          Qualifier="1")["State"] == "Active"


def test_pending_version_cannot_be_invoked(lam: Any) -> None:
    publish_new(lam, "router")
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.invoke(FunctionName="router", Qualifier="1", Payload=b"{}")


def test_failed_publish_fails_the_waiter(lam: Any, sandbox: Sandbox) -> None:
    sandbox.fail_next_publish("router", "InsufficientCapacity")
    publish_new(lam, "router")
    with pytest.raises(WaiterError) as error:
        lam.get_waiter("published_version_active").wait(
            FunctionName="router", Qualifier="1", WaiterConfig=FAST)
    assert "Failed" in str(error.value)
    failed = lam.get_function_configuration(FunctionName="router", Qualifier="1")
    assert failed["State"] == "Failed"
    assert failed["StateReasonCode"] == "InsufficientCapacity"
    publish_new(lam, "router")
    lam.get_waiter("published_version_active").wait(
        FunctionName="router", Qualifier="2", WaiterConfig=FAST)


def test_fail_next_publish_through_the_control_endpoint(lam: Any, sandbox: Sandbox) -> None:
    body = json.dumps({"FunctionName": "router", "ReasonCode": "VcpuLimitExceeded",
                       "Reason": "no vCPUs left"}).encode()
    request = urllib.request.Request(f"{sandbox.endpoint_url}/_sandbox/fail-next-publish",
                                     data=body, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    publish_new(lam, "router")
    with pytest.raises(WaiterError):
        lam.get_waiter("published_version_active").wait(
            FunctionName="router", Qualifier="1", WaiterConfig=FAST)
    failed = lam.get_function_configuration(FunctionName="router", Qualifier="1")
    assert (failed["StateReasonCode"], failed["StateReason"]) == (
        "VcpuLimitExceeded", "no vCPUs left")
    listed = lam.list_function_versions_by_capacity_provider(CapacityProviderName="shared")
    assert listed["FunctionVersions"][0]["State"] == "Failed"
