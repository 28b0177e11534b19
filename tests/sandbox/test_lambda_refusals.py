"""Lambda refusals moto misses, aliases, and Invoke without Docker."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import function, publish_new

from lmi_delivery.sandbox import Sandbox, SandboxOptions


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(seed=7)) as server:
        yield server


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    client = aws_clients("lambda")
    function(client, aws_clients("iam"), "fn")
    for _ in range(3):
        publish_new(client, "fn")
    return client


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def refused(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as error:
        call(**params)
    return code(error)


def test_deleting_a_version_an_alias_routes_to_is_refused(lam: Any) -> None:
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="2",
                     RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}})
    for version in ("2", "3"):
        with pytest.raises(lam.exceptions.ResourceConflictException) as error:
            lam.delete_function(FunctionName="fn", Qualifier=version)
        assert error.value.response["Error"]["Message"] == (
            "Unable to delete version because the following aliases reference it: [live]")
    lam.delete_function(FunctionName="fn", Qualifier="1")
    assert refused(lam.get_function, FunctionName="fn",
                   Qualifier="1") == "ResourceNotFoundException"


def test_deleting_latest_is_refused(lam: Any) -> None:
    assert refused(lam.delete_function, FunctionName="fn",
                   Qualifier="$LATEST") == "InvalidParameterValueException"
    assert lam.get_function(FunctionName="fn")["Configuration"]["Version"] == "$LATEST"


def test_invoking_missing_things_is_not_found(lam: Any) -> None:
    assert refused(lam.invoke, FunctionName="nowhere") == "ResourceNotFoundException"
    lam.delete_function(FunctionName="fn", Qualifier="1")
    assert refused(lam.invoke, FunctionName="fn", Qualifier="1") == "ResourceNotFoundException"
    assert refused(lam.invoke, FunctionName="fn",
                   Qualifier="no-alias") == "ResourceNotFoundException"


@pytest.mark.parametrize(("routing", "refusal"), [
    # A weight outside 0.0-1.0 breaks botocore's model (Weight: min 0.0, max 1.0).
    ({"AdditionalVersionWeights": {"3": 1.5}}, "ValidationException"),
    ({"AdditionalVersionWeights": {"2": 0.5}}, "InvalidParameterValueException"),
    ({"AdditionalVersionWeights": {"1": 0.1, "3": 0.1}}, "InvalidParameterValueException"),
    ({"AdditionalVersionWeights": {"9": 0.1}}, "ResourceNotFoundException"),
])
def test_alias_routing_is_validated(lam: Any, routing: dict[str, Any], refusal: str) -> None:
    assert refused(lam.create_alias, FunctionName="fn", Name="live", FunctionVersion="2",
                   RoutingConfig=routing) == refusal
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="2")
    assert refused(lam.update_alias, FunctionName="fn", Name="live",
                   RoutingConfig=routing) == refusal


def test_weights_within_bounds_are_accepted(lam: Any) -> None:
    for weight in (0.0, 0.25, 1.0):
        lam.create_alias(FunctionName="fn", Name=f"a{int(weight * 100)}", FunctionVersion="2",
                         RoutingConfig={"AdditionalVersionWeights": {"3": weight}})


def test_revision_id_mismatch_is_a_failed_precondition(lam: Any) -> None:
    alias = lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    moved = lam.update_alias(FunctionName="fn", Name="live", FunctionVersion="2",
                             RevisionId=alias["RevisionId"])
    assert moved["RevisionId"] != alias["RevisionId"]
    assert refused(lam.update_alias, FunctionName="fn", Name="live", FunctionVersion="3",
                   RevisionId=alias["RevisionId"]) == "PreconditionFailedException"
    latest = lam.get_function(FunctionName="fn")["Configuration"]
    lam.update_function_configuration(FunctionName="fn", Description="changed")
    assert refused(lam.publish_version, FunctionName="fn",
                   RevisionId=latest["RevisionId"]) == "PreconditionFailedException"
    current = lam.get_function(FunctionName="fn")["Configuration"]["RevisionId"]
    assert lam.publish_version(FunctionName="fn", RevisionId=current)["Version"] == "4"


def test_invoke_reports_the_executed_version_and_is_recorded(lam: Any,
                                                             sandbox: Sandbox) -> None:
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="2")
    response = lam.invoke(FunctionName="fn", Qualifier="live", Payload=b'{"ping": 1}')
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "2"
    assert json.loads(response["Payload"].read())["executedVersion"] == "2"
    assert lam.invoke(FunctionName="fn:3")["ExecutedVersion"] == "3"
    assert lam.invoke(FunctionName="fn")["ExecutedVersion"] == "$LATEST"
    assert lam.invoke(FunctionName="fn", Qualifier="1",
                      InvocationType="Event")["StatusCode"] == 202
    recorded = sandbox.invocations("fn")
    assert [(i.qualifier, i.executed_version) for i in recorded] == [
        ("live", "2"), ("3", "3"), (None, "$LATEST"), ("1", "1")]
    assert recorded[0].payload == '{"ping": 1}'
    url = f"{sandbox.endpoint_url}/_sandbox/invocations?FunctionName=fn"
    with urllib.request.urlopen(url, timeout=5) as answer:
        listed = json.loads(answer.read())["Invocations"]
    assert [i["ExecutedVersion"] for i in listed] == ["2", "3", "$LATEST", "1"]


def test_weighted_alias_routes_by_weight_and_replays(lam: Any, sandbox: Sandbox,
                                                    aws_clients: Any) -> None:
    def run() -> list[str]:
        lam.create_alias(FunctionName="fn", Name="canary", FunctionVersion="2",
                         RoutingConfig={"AdditionalVersionWeights": {"3": 0.3}})
        return [lam.invoke(FunctionName="fn", Qualifier="canary")["ExecutedVersion"]
                for _ in range(60)]

    first = run()
    assert set(first) == {"2", "3"}
    assert 5 <= first.count("3") <= 35
    sandbox.reset()
    function(lam, aws_clients("iam"), "fn")
    for _ in range(3):
        publish_new(lam, "fn")
    assert run() == first


# AWS-FACTS.md, Lambda in general: codes and messages as AWS answers them (moto differs).


def test_a_second_alias_of_one_name_is_a_resource_conflict(lam: Any) -> None:
    # moto answers ConflictException: not a modeled Lambda error, so code catching
    # ResourceConflictException (alias.py's concurrent creation) would never see it.
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    with pytest.raises(lam.exceptions.ResourceConflictException) as error:
        lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="2")
    assert error.value.response["Error"]["Message"] == (
        "Alias already exists: arn:aws:lambda:us-east-1:123456789012:function:fn:live")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_a_duplicate_permission_statement_is_a_409(lam: Any) -> None:
    grant = {"FunctionName": "fn", "StatementId": "events", "Action": "lambda:InvokeFunction",
             "Principal": "events.amazonaws.com"}
    lam.add_permission(**grant)
    with pytest.raises(lam.exceptions.ResourceConflictException) as error:
        lam.add_permission(**grant)
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "The statement id (events) provided already exists" in str(error.value)


@pytest.mark.parametrize(("call", "params"), [
    ("create_alias", {"FunctionName": "fn", "Name": "2024", "FunctionVersion": "1"}),
    ("update_function_configuration", {"FunctionName": "fn", "MemorySize": 32769}),
])
def test_model_constraints_are_validation_errors(lam: Any, call: str,
                                                 params: dict[str, Any]) -> None:
    # botocore's model: Alias pattern (?!^[0-9]+$)..., MemorySize max 32768; the SDK does not
    # check either, AWS answers ValidationException.
    assert refused(getattr(lam, call), **params) == "ValidationException"


def test_deleting_an_absent_version_number_is_no_error(lam: Any) -> None:
    answer = lam.delete_function(FunctionName="fn", Qualifier="77")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert refused(lam.delete_function, FunctionName="nowhere",
                   Qualifier="1") == "ResourceNotFoundException"


def test_not_found_bodies_carry_message_and_type(lam: Any, sandbox: Sandbox) -> None:
    # Lambda's model: ResourceNotFoundException has the members Type and Message.
    for call in (lambda: lam.get_function(FunctionName="nowhere"),
                 lambda: lam.get_alias(FunctionName="fn", Name="nowhere"),
                 lambda: lam.get_capacity_provider(CapacityProviderName="nowhere")):
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as error:
            call()
        assert error.value.response["Type"] == "User"
        assert error.value.response["Message"] == error.value.response["Error"]["Message"]
        assert error.value.response["Message"]


def test_list_aliases_pages_at_50(lam: Any) -> None:
    # AWS-FACTS.md: ListVersionsByFunction and ListAliases page at 50 items.
    for number in range(52):
        lam.create_alias(FunctionName="fn", Name=f"a{number:02d}", FunctionVersion="1")
    first = lam.list_aliases(FunctionName="fn")
    assert len(first["Aliases"]) == 50
    rest = lam.list_aliases(FunctionName="fn", Marker=first["NextMarker"])
    assert len(rest["Aliases"]) == 2
    assert "NextMarker" not in rest
