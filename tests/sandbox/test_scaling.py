"""Put/GetFunctionScalingConfig and their rules (AWS-FACTS.md)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import function, provider, publish_new


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    client = aws_clients("lambda")
    iam = aws_clients("iam")
    function(client, iam, "router", provider(client, iam, "shared"))
    function(client, iam, "plain")
    publish_new(client, "router")
    publish_new(client, "plain")
    return client


def put(lam: Any, low: int, high: int, qualifier: str = "1", name: str = "router") -> Any:
    return lam.put_function_scaling_config(
        FunctionName=name, Qualifier=qualifier,
        FunctionScalingConfig={"MinExecutionEnvironments": low,
                               "MaxExecutionEnvironments": high})


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_put_then_get_returns_the_applied_config(lam: Any) -> None:
    # Applied at once here (scaling delay 0): no longer Requested (test_lmi_lifecycle.py).
    assert put(lam, 3, 12)["FunctionState"] == "Active"
    got = lam.get_function_scaling_config(FunctionName="router", Qualifier="1")
    wanted = {"MinExecutionEnvironments": 3, "MaxExecutionEnvironments": 12}
    assert "RequestedFunctionScalingConfig" not in got
    assert got["AppliedFunctionScalingConfig"] == wanted
    assert got["FunctionArn"].endswith(":function:router:1")


@pytest.mark.parametrize(("low", "high"), [(0, 0), (1, 1), (15000, 15000), (2, 15000)])
def test_valid_bounds(lam: Any, low: int, high: int) -> None:
    put(lam, low, high)


@pytest.mark.parametrize(("low", "high", "refusal"), [
    (5, 4, "InvalidParameterValueException"),
    (0, 3, "InvalidParameterValueException"),
    # 0..15000 is botocore's model constraint (the SDK checks only the minimum).
    (1, 15001, "ValidationException"),
])
def test_invalid_bounds_are_refused(lam: Any, low: int, high: int, refusal: str) -> None:
    with pytest.raises(ClientError) as error:
        put(lam, low, high)
    assert code(error) == refusal


def test_latest_published_takes_a_scaling_config(lam: Any) -> None:
    lam.publish_version(FunctionName="router", PublishTo="LATEST_PUBLISHED")
    put(lam, 1, 4, qualifier="$LATEST.PUBLISHED")


def test_non_lmi_function_is_access_denied(lam: Any) -> None:
    with pytest.raises(ClientError) as error:
        put(lam, 1, 2, name="plain")
    assert code(error) == "AccessDeniedException"


def test_missing_version_is_not_found(lam: Any) -> None:
    with pytest.raises(ClientError) as error:
        put(lam, 1, 2, qualifier="9")
    assert code(error) == "ResourceNotFoundException"
