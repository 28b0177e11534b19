"""The one AWS error translator: every botocore error as an AwsError naming operation and code.

Errors AWS answered are botocore's own ``ClientError`` built from an answer's parsed form; the
errors no answer carries come from real botocore clients: a port nobody listens on, a server
that hangs up, a session without credentials, parameters botocore refuses before sending.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.credentials import CredentialResolver
from botocore.exceptions import ClientError, WaiterError

from lmi_delivery.aws.errors import (
    NO_CREDENTIALS,
    error_code,
    is_aws_error,
    translate,
    translated,
)
from lmi_delivery.errors import EXIT_FAILED, AwsError, OperationFailed

NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2,
                  read_timeout=2)


def refusal(code: str, message: str, *, operation: str = "ListVersionsByFunction",
            status: int = 400, retries: int = 0, **error: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": message, **error},
                     "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": retries,
                                          "RequestId": "req-1"}}
    return ClientError(response, operation)


def lambda_client(endpoint: str, session: boto3.Session | None = None) -> Any:
    session = session or boto3.Session(aws_access_key_id="AKIDEXAMPLE",
                                       aws_secret_access_key="secret", region_name="us-east-1")
    return session.client("lambda", endpoint_url=endpoint, config=NO_RETRY)


def caught(call: Any, **params: Any) -> Exception:
    try:
        call(**params)
    except Exception as exc:
        return exc
    raise AssertionError("the call succeeded")


@pytest.fixture
def hang_up() -> Iterator[str]:
    """An endpoint that accepts each connection and closes it without answering.

    The thread polls, and is joined before its socket is closed: a thread still in ``accept``
    could otherwise take the connections of whichever socket is given the number next."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.settimeout(2)
                conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    server.close()


def closed_port() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


# -- answered -------------------------------------------------------------------------------------


def test_a_refusal_names_operation_code_and_awss_message() -> None:
    error = translate(refusal("ResourceNotFoundException", "Function not found: f"))
    assert isinstance(error, AwsError)
    assert isinstance(error, OperationFailed)
    assert error.exit_code == EXIT_FAILED
    assert str(error) == ("ListVersionsByFunction failed: ResourceNotFoundException: "
                          "Function not found: f")
    assert (error.operation, error.code) == ("ListVersionsByFunction", "ResourceNotFoundException")
    assert error.context["request_id"] == "req-1"


def test_a_throttle_says_how_often_it_was_retried_and_what_to_do() -> None:
    error = translate(refusal("TooManyRequestsException", "Rate exceeded", status=429, retries=4))
    assert str(error).startswith("ListVersionsByFunction failed: TooManyRequestsException: "
                                 "Rate exceeded (after 4 retries); AWS throttled the call")
    once = translate(refusal("ThrottlingException", "Rate exceeded", status=400, retries=1))
    assert "Rate exceeded (after 1 retry); AWS throttled the call" in str(once)


@pytest.mark.parametrize(("code", "status", "hint"), [
    ("ServiceUnavailableException", 503, "AWS failed on its side: run it again"),
    ("ServiceException", 500, "AWS failed on its side"),
    ("ExpiredTokenException", 403, "credentials have expired"),
    ("AccessDeniedException", 403, "lacks this permission"),
    ("UnrecognizedClientException", 403, "not valid here"),
    ("FunctionVersionsPerCapacityProviderLimitExceededException", 400, "lmi-delivery prune"),
    ("PreconditionFailedException", 412, "changed since it was read"),
])
def test_known_codes_carry_a_hint(code: str, status: int, hint: str) -> None:
    assert hint in str(translate(refusal(code, "AWS says no", status=status)))


def test_an_answer_without_a_code_is_named_by_its_status() -> None:
    response: Any = {"Error": {}, "ResponseMetadata": {"HTTPStatusCode": 404}}
    error = translate(ClientError(response, "HeadObject"))
    assert error.code == "HTTP404"
    assert str(error).startswith("HeadObject failed: HTTP404")


def test_the_caller_may_name_the_call_and_the_place() -> None:
    error = translate(refusal("NoSuchBucket", "The specified bucket does not exist",
                              operation="GetObject", status=404),
                      "GetObject", where="s3://bucket/key", context={"function": "f"})
    assert str(error) == ("GetObject failed: NoSuchBucket: The specified bucket does not exist "
                          "(s3://bucket/key)")
    assert error.context["url"] == "s3://bucket/key"
    assert error.context["function"] == "f"


def test_known_secret_values_are_masked() -> None:
    error = translate(refusal("InvalidClientTokenId", "token FwoGZXIvYXdzEXAMPLE is invalid"),
                      secrets=["FwoGZXIvYXdzEXAMPLE", ""])
    assert "FwoGZXIvYXdzEXAMPLE" not in str(error)
    assert "token *** is invalid" in str(error)


# -- no answer ------------------------------------------------------------------------------------


def test_no_credentials_says_what_to_set() -> None:
    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([]))
    client = lambda_client(closed_port(), boto3.Session(botocore_session=core,
                                                        region_name="us-east-1"))
    exc = caught(client.list_versions_by_function, FunctionName="f")
    assert is_aws_error(exc)
    error = translate(exc)
    assert str(error) == f"ListVersionsByFunction failed: NoCredentials: {NO_CREDENTIALS}"
    assert "AWS_ACCESS_KEY_ID" in str(error)


def test_an_unreachable_endpoint_names_the_operation() -> None:
    endpoint = closed_port()
    exc = caught(lambda_client(endpoint).get_alias, FunctionName="f", Name="live")
    error = translate(exc)
    assert error.code == "EndpointConnectionError"
    assert str(error).startswith(f'GetAlias failed: EndpointConnectionError: Could not connect '
                                 f'to the endpoint URL: "{endpoint}')
    assert "check the network" in str(error)


def test_a_dropped_connection_names_the_operation(hang_up: str) -> None:
    exc = caught(lambda_client(hang_up).list_aliases, FunctionName="f")
    error = translate(exc)
    assert error.code == "ConnectionClosedError"
    assert str(error).startswith("ListAliases failed: ConnectionClosedError: Connection was "
                                 "closed before we received a valid response")


def test_parameter_values_never_reach_the_message() -> None:
    secret = "hunter2-but-longer"
    exc = caught(lambda_client(closed_port()).update_alias, FunctionName="f", Name="live",
                 FunctionVersion=7, Description=["not", secret])
    error = translate(exc)
    assert error.code == "ParamValidationError"
    assert error.operation == "UpdateAlias"
    assert "FunctionVersion" in str(error)
    assert "Description" in str(error)
    assert secret not in str(error)
    assert "7," not in str(error)


def test_a_waiter_is_named_by_its_name() -> None:
    error = translate(WaiterError("PublishedVersionActive", "Max attempts exceeded", {}))
    assert str(error) == ("waiter PublishedVersionActive failed: WaiterError: Waiter "
                          "PublishedVersionActive failed: Max attempts exceeded")


# -- the helpers ----------------------------------------------------------------------------------


def test_only_botocore_errors_are_aws_errors() -> None:
    assert is_aws_error(refusal("X", "y"))
    assert not is_aws_error(ValueError("no"))
    assert not is_aws_error(AwsError("Op", "X", "y"))


def test_error_code_reads_answers_only() -> None:
    assert error_code(refusal("NoSuchKey", "gone")) == "NoSuchKey"
    assert error_code(ValueError("no")) == ""


def test_translated_turns_botocore_errors_into_aws_errors_and_leaves_others() -> None:
    expected = "StartBuild failed: ResourceNotFoundException"
    with pytest.raises(AwsError, match=expected) as raised, translated(project="app"):
        raise refusal("ResourceNotFoundException", "Project cannot be found: app",
                      operation="StartBuild")
    assert raised.value.context["project"] == "app"
    assert isinstance(raised.value.__cause__, ClientError)
    with pytest.raises(KeyError), translated():
        raise KeyError("a bug stays a bug")
