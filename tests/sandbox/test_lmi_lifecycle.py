"""LMI states that move on with time: scaling configs, deactivation, capacity providers, $LATEST.

AWS-FACTS.md (from AWS's LMI guides, botocore's model and the Terraform AWS provider):
``GetFunctionScalingConfig`` shows ``Requested`` while a config settles and only ``Applied``
once applied; a Put while the version is still starting answers ``ResourceConflictException``;
a Put without a config resets it; min and max are set together; a config on
``$LATEST.PUBLISHED`` carries to later publishes; 0/0 deactivates the version (``Deactivating``
-> ``Deactivated``, not invocable, not recovered on its own). Capacity providers go ``Pending`` ->
``Active`` on create and update (the provider's ``waitCapacityProviderActive`` after both). The
``$LATEST`` of an LMI function is ``ActiveNonInvocable`` (botocore's ``State`` enum has it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_clock import SandboxClock
from sandbox_helpers import function, provider, publish_new

from lmi_delivery.sandbox import Sandbox, SandboxOptions

DELAY = 30.0
"""How long each state takes to move on: it passes on the sandbox's clock only when a test
moves it (or when a version is awaited: :func:`active`)."""
FAST = {"Delay": 0.1, "MaxAttempts": 40}
CLOCK = SandboxClock()


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(publish_delay_seconds=DELAY, scaling_delay_seconds=DELAY,
                                capacity_provider_delay_seconds=DELAY, clock=CLOCK)) as server:
        yield server


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    client = aws_clients("lambda")
    iam = aws_clients("iam")
    function(client, iam, "router", provider(client, iam, "shared"))
    return client


def active(lam: Any, qualifier: str) -> None:
    """Let the version's start pass, then wait for it as a deploy does (botocore's waiter)."""
    CLOCK.advance(DELAY + 0.1)
    lam.get_waiter("published_version_active").wait(FunctionName="router", Qualifier=qualifier,
                                                     WaiterConfig=FAST)


def put(lam: Any, qualifier: str, config: dict[str, int] | None) -> Any:
    extra = {} if config is None else {"FunctionScalingConfig": config}
    return lam.put_function_scaling_config(FunctionName="router", Qualifier=qualifier, **extra)


def scaling(lam: Any, qualifier: str = "1") -> dict[str, Any]:
    got = lam.get_function_scaling_config(FunctionName="router", Qualifier=qualifier)
    return {k: v for k, v in got.items() if k.endswith("FunctionScalingConfig")}


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def state(lam: Any, qualifier: str) -> str:
    return str(lam.get_function_configuration(FunctionName="router", Qualifier=qualifier)["State"])


def config(low: int, high: int) -> dict[str, int]:
    return {"MinExecutionEnvironments": low, "MaxExecutionEnvironments": high}


def test_a_put_on_a_starting_version_conflicts_until_it_is_active(lam: Any) -> None:
    publish_new(lam, "router")
    with pytest.raises(ClientError) as starting:
        put(lam, "1", config(2, 4))
    assert code(starting) == "ResourceConflictException"
    assert "Pending" in starting.value.response["Error"]["Message"]
    active(lam, "1")
    assert put(lam, "1", config(2, 4))["FunctionState"] == "Active"


def test_requested_is_cleared_once_applied(lam: Any) -> None:
    publish_new(lam, "router")
    active(lam, "1")
    put(lam, "1", config(2, 4))
    assert scaling(lam) == {"RequestedFunctionScalingConfig": config(2, 4)}
    CLOCK.advance(DELAY + 0.1)
    assert scaling(lam) == {"AppliedFunctionScalingConfig": config(2, 4)}
    put(lam, "1", config(3, 6))
    assert scaling(lam) == {"RequestedFunctionScalingConfig": config(3, 6),
                            "AppliedFunctionScalingConfig": config(2, 4)}
    CLOCK.advance(DELAY + 0.1)
    assert scaling(lam) == {"AppliedFunctionScalingConfig": config(3, 6)}


def test_a_put_without_a_config_resets_it_and_min_needs_max(lam: Any) -> None:
    publish_new(lam, "router")
    active(lam, "1")
    put(lam, "1", config(2, 4))
    put(lam, "1", None)
    assert scaling(lam) == {}
    with pytest.raises(ClientError) as alone:
        put(lam, "1", {"MinExecutionEnvironments": 2})
    assert code(alone) == "InvalidParameterValueException"
    assert "set together" in alone.value.response["Error"]["Message"]


def test_a_latest_published_config_carries_to_the_next_publish(lam: Any) -> None:
    lam.publish_version(FunctionName="router", PublishTo="LATEST_PUBLISHED")
    active(lam, "$LATEST.PUBLISHED")
    put(lam, "$LATEST.PUBLISHED", config(1, 3))
    lam.update_function_configuration(FunctionName="router", Description="next")
    lam.publish_version(FunctionName="router", PublishTo="LATEST_PUBLISHED")
    CLOCK.advance(DELAY + 0.1)
    assert scaling(lam, "$LATEST.PUBLISHED") == {"AppliedFunctionScalingConfig": config(1, 3)}


def test_zero_zero_deactivates_the_version_for_good(lam: Any) -> None:
    publish_new(lam, "router")
    active(lam, "1")
    assert put(lam, "1", config(0, 0))["FunctionState"] == "Deactivating"
    assert state(lam, "1") == "Deactivating"
    CLOCK.advance(DELAY + 0.1)
    assert state(lam, "1") == "Deactivated"
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName="router", Qualifier="1")
    assert code(refused) == "ResourceConflictException"
    CLOCK.advance(DELAY + 0.1)
    assert state(lam, "1") == "Deactivated", "it does not recover on its own"
    listed = lam.list_function_versions_by_capacity_provider(CapacityProviderName="shared")
    assert listed["FunctionVersions"][0]["State"] == "Deactivated"
    # Environments again: the version starts over.
    assert put(lam, "1", config(1, 2))["FunctionState"] == "Pending"
    active(lam, "1")
    assert lam.invoke(FunctionName="router", Qualifier="1")["ExecutedVersion"] == "1"


def test_capacity_providers_are_pending_then_active(lam: Any, aws_clients: Any) -> None:
    made = provider(lam, aws_clients("iam"), "second")
    got = lam.get_capacity_provider(CapacityProviderName=made)["CapacityProvider"]
    assert got["State"] == "Pending"
    CLOCK.advance(DELAY + 0.1)
    assert lam.get_capacity_provider(CapacityProviderName="second")[
        "CapacityProvider"]["State"] == "Active"
    updated = lam.update_capacity_provider(
        CapacityProviderName="second",
        CapacityProviderScalingConfig={"ScalingMode": "Auto", "MaxVCpuCount": 24})
    assert updated["CapacityProvider"]["State"] == "Pending"
    assert lam.list_capacity_providers(State="Pending")["CapacityProviders"][0][
        "CapacityProviderArn"] == made
    CLOCK.advance(DELAY + 0.1)
    assert lam.get_capacity_provider(CapacityProviderName="second")[
        "CapacityProvider"]["State"] == "Active"


def test_the_latest_of_an_lmi_function_is_active_non_invocable(lam: Any) -> None:
    latest = lam.get_function(FunctionName="router")["Configuration"]
    assert latest["State"] == "ActiveNonInvocable"
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName="router", Qualifier="$LATEST")
    assert code(refused) == "ResourceConflictException"
