"""The Lambda control-plane rate limit: 15 requests/s shared, GetFunction apart, Invoke free."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import function

from lmi_delivery.sandbox import Sandbox, SandboxOptions

RATE = 15.0
ADMITTED = 60


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(rate_limit_per_second=RATE)) as server:
        yield server


def test_admitted_rate_is_fifteen_per_second(sandbox: Sandbox, aws_clients: Any) -> None:
    clients = [aws_clients("lambda") for _ in range(6)]
    admitted: list[float] = []
    throttles: list[ClientError] = []
    lock = threading.Lock()

    def hammer(lam: Any) -> None:
        while True:
            with lock:
                if len(admitted) >= ADMITTED:
                    return
            try:
                lam.list_functions()
            except ClientError as error:
                with lock:
                    throttles.append(error)
                continue
            with lock:
                admitted.append(time.monotonic())

    threads = [threading.Thread(target=hammer, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Measured where admission happens: response times seen by the clients jitter with the
    # machine's load, the server's admission instants do not.
    server = sandbox.rate_limit_admissions()[:ADMITTED]
    rate = (len(server) - 1) / (server[-1] - server[0])
    admitted.sort()
    seen = (ADMITTED - 1) / (admitted[ADMITTED - 1] - admitted[0])
    print(f"admitted rate {rate:.2f}/s at the server ({seen:.2f}/s seen by the clients) "
          f"over {len(server)} calls, {len(throttles)} throttled")
    assert throttles
    assert len(server) >= ADMITTED
    assert RATE - 1 <= rate <= RATE + 1
    error = throttles[0].response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"]["Message"] == "Rate exceeded"


def test_throttle_is_a_modeled_exception_with_retry_after(aws_clients: Any) -> None:
    lam = aws_clients("lambda")
    time.sleep(3 / RATE)  # a full bucket holds two tokens
    lam.list_functions()
    lam.list_functions()
    with pytest.raises(lam.exceptions.TooManyRequestsException) as error:
        lam.list_functions()
    assert error.value.response["retryAfterSeconds"] == "1"
    assert error.value.response["Type"] == "User"


def test_get_function_has_its_own_budget_and_invoke_is_not_limited(
        aws_clients: Any) -> None:
    lam = aws_clients("lambda", max_attempts=10)
    function(lam, aws_clients("iam", max_attempts=10), "fn")
    time.sleep(0.2)
    for _ in range(10):
        lam.get_function(FunctionName="fn")
    for _ in range(30):
        lam.invoke(FunctionName="fn")


def test_standard_retries_ride_out_the_limit(aws_clients: Any) -> None:
    lam = aws_clients("lambda", max_attempts=10)
    for _ in range(5):
        lam.list_functions()
