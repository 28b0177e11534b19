"""Fault injection: throttles, 500, 503 and dropped connections, replayable from the seed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError

from lmi_delivery.sandbox import FaultRates, Sandbox, SandboxOptions

FAULTS = {
    "ListFunctions": FaultRates(throttle=1.0),
    "lambda:ListAliases": FaultRates(error_500=1.0),
    "ListLayers": FaultRates(error_503=1.0),
    "ListEventSourceMappings": FaultRates(drop=1.0),
    "s3:*": FaultRates(error_503=1.0),
    "ListCapacityProviders": FaultRates(throttle=0.3, error_500=0.2, drop=0.1),
}


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(faults=FAULTS, seed=42)) as server:
        yield server


def code(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as error:
        call(**params)
    return str(error.value.response["Error"]["Code"])


def test_each_fault_kind(aws_clients: Any) -> None:
    lam = aws_clients("lambda")
    assert code(lam.list_functions) == "TooManyRequestsException"
    assert code(lam.list_aliases, FunctionName="x") == "ServiceException"
    with pytest.raises(ClientError) as error:
        lam.list_layers()
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    with pytest.raises(ConnectionClosedError):
        lam.list_event_source_mappings()
    with pytest.raises(ClientError) as error:
        aws_clients("s3").list_buckets()
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_other_operations_are_untouched(aws_clients: Any) -> None:
    assert aws_clients("lambda").list_functions_by_code_signing_config is not None
    assert aws_clients("iam").list_roles()["Roles"] == []


def outcomes(lam: Any, calls: int = 40) -> list[str]:
    seen = []
    for _ in range(calls):
        try:
            lam.list_capacity_providers()
            seen.append("ok")
        except ClientError as error:
            seen.append(str(error.response["Error"]["Code"]))
        except ConnectionClosedError:
            seen.append("dropped")
    return seen


def test_faults_replay_from_the_seed(aws_clients: Any, sandbox: Sandbox) -> None:
    lam = aws_clients("lambda")
    first = outcomes(lam)
    assert {"ok", "TooManyRequestsException", "ServiceException", "dropped"} <= set(first)
    sandbox.reset()
    assert outcomes(lam) == first



def test_fault_flags_parse_into_rates() -> None:
    from lmi_delivery.sandbox.options import parse_faults

    assert parse_faults(["PutFunctionScalingConfig=500:1.0", "s3:*=throttle:0.25",
                         "*=drop:0.1", "lambda:ListAliases=503", "*=throttle:0.2"]) == {
        "PutFunctionScalingConfig": FaultRates(error_500=1.0),
        "s3:*": FaultRates(throttle=0.25),
        "*": FaultRates(drop=0.1, throttle=0.2),
        "lambda:ListAliases": FaultRates(error_503=1.0)}
    for bad in ("PublishVersion", "PublishVersion=boom", "PublishVersion=500:2",
                "PublishVersion=500:0.7 PublishVersion=503:0.7"):
        with pytest.raises(ValueError, match="invalid fault"):
            parse_faults(bad.split(" "))
