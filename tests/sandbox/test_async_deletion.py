"""Deleting an LMI version, function or capacity provider takes a while, as in AWS (issue 11).

AWS-FACTS.md: ``DeleteFunction`` of an LMI function or version answers HTTP 202 and the version
shows ``State: Deleting``, still read and listed, until it is gone; ``DeleteCapacityProvider`` is
refused meanwhile with "To delete this capacity provider, first remove its association", which
the Terraform AWS provider's ``aws_lambda_capacity_provider`` retries on for 5 minutes after
deleting functions (resource ``Delete``: ``RetryWhenIsAErrorMessageContains``), and then waits
while the provider is ``Deleting``. Whether a ``Deleting`` version counts against the quota of 100
is not documented: the sandbox does it either way (``deleting_counts_against_quota``).
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
"""As long as a deletion takes: it passes on the sandbox's clock only when a test moves it."""
IN_USE = "To delete this capacity provider, first remove its association"
CLOCK = SandboxClock()


@pytest.fixture(scope="module", params=[True, False], ids=["deleting-counts", "deleting-free"])
def sandbox_server(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    options = SandboxOptions(delete_delay_seconds=DELAY,
                             deleting_counts_against_quota=request.param, clock=CLOCK)
    with Sandbox(options) as server:
        yield server


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    return aws_clients("lambda")


@pytest.fixture
def iam(aws_clients: Any) -> Any:
    return aws_clients("iam")


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def states(lam: Any, provider_name: str = "shared") -> dict[str, str]:
    listed = lam.list_function_versions_by_capacity_provider(CapacityProviderName=provider_name)
    return {v["FunctionArn"].split(":function:", 1)[1]: v["State"]
            for v in listed["FunctionVersions"]}


def test_a_deleted_lmi_version_is_deleting_then_gone(lam: Any, iam: Any) -> None:
    function(lam, iam, "router", provider(lam, iam, "shared"))
    publish_new(lam, "router")
    publish_new(lam, "router")

    answer = lam.delete_function(FunctionName="router", Qualifier="1")

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["StatusCode"] == 202
    config = lam.get_function_configuration(FunctionName="router", Qualifier="1")
    assert (config["State"], config["StateReasonCode"]) == ("Deleting", "Deleting")
    assert [v["State"] for v in lam.list_versions_by_function(FunctionName="router")[
        "Versions"]] == ["ActiveNonInvocable", "Deleting", "Active"]
    assert states(lam) == {"router:1": "Deleting", "router:2": "Active"}
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName="router", Qualifier="1")
    assert code(refused) == "ResourceConflictException"
    with pytest.raises(ClientError) as refused:
        lam.create_alias(FunctionName="router", Name="live", FunctionVersion="1")
    assert code(refused) == "ResourceConflictException"
    again = lam.delete_function(FunctionName="router", Qualifier="1")
    assert again["StatusCode"] == 202, "asked twice: it is on its way already"

    CLOCK.advance(DELAY + 0.1)
    with pytest.raises(ClientError) as gone:
        lam.get_function_configuration(FunctionName="router", Qualifier="1")
    assert code(gone) == "ResourceNotFoundException"
    assert states(lam) == {"router:2": "Active"}


def test_a_deleted_lmi_function_is_deleting_then_gone(lam: Any, iam: Any) -> None:
    function(lam, iam, "router", provider(lam, iam, "shared"))
    publish_new(lam, "router")

    assert lam.delete_function(FunctionName="router")["StatusCode"] == 202

    assert lam.get_function(FunctionName="router")["Configuration"]["State"] == "Deleting"
    assert states(lam) == {"router:1": "Deleting"}
    CLOCK.advance(DELAY + 0.1)
    with pytest.raises(ClientError) as gone:
        lam.get_function(FunctionName="router")
    assert code(gone) == "ResourceNotFoundException"
    assert states(lam) == {}


def test_a_standard_function_is_deleted_at_once(lam: Any, iam: Any) -> None:
    function(lam, iam, "plain")
    publish_new(lam, "plain")
    assert lam.delete_function(FunctionName="plain", Qualifier="1")["StatusCode"] == 204
    with pytest.raises(ClientError) as gone:
        lam.get_function(FunctionName="plain", Qualifier="1")
    assert code(gone) == "ResourceNotFoundException"


def test_the_provider_cannot_be_deleted_until_its_versions_are_gone(lam: Any, iam: Any) -> None:
    function(lam, iam, "router", provider(lam, iam, "shared"))
    publish_new(lam, "router")
    lam.delete_function(FunctionName="router")

    with pytest.raises(ClientError) as refused:
        lam.delete_capacity_provider(CapacityProviderName="shared")
    assert code(refused) == "ResourceConflictException"
    assert IN_USE in refused.value.response["Error"]["Message"]

    CLOCK.advance(DELAY + 0.1)
    deleted = lam.delete_capacity_provider(CapacityProviderName="shared")["CapacityProvider"]
    assert deleted["State"] == "Deleting"
    assert lam.get_capacity_provider(CapacityProviderName="shared")[
        "CapacityProvider"]["State"] == "Deleting"
    CLOCK.advance(DELAY + 0.1)
    with pytest.raises(ClientError) as gone:
        lam.get_capacity_provider(CapacityProviderName="shared")
    assert code(gone) == "ResourceNotFoundException"


def test_deleting_versions_and_the_quota(lam: Any, iam: Any, sandbox: Sandbox) -> None:
    function(lam, iam, "router", provider(lam, iam, "shared"))
    for _ in range(100):
        publish_new(lam, "router")
    lam.delete_function(FunctionName="router", Qualifier="1")

    if sandbox.options.deleting_counts_against_quota:
        with pytest.raises(ClientError) as full:
            publish_new(lam, "router")
        assert code(full) == "FunctionVersionsPerCapacityProviderLimitExceededException"
        CLOCK.advance(DELAY + 0.1)
    assert publish_new(lam, "router")["Version"] == "101"
