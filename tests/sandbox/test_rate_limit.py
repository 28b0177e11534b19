"""The Lambda control-plane rate limit: 15 requests/s shared, GetFunction apart, Invoke free."""

from __future__ import annotations

import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sandbox_helpers import function

from lmi_delivery.sandbox import Sandbox, SandboxOptions

RATE = 15.0
ADMITTED = 60


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(rate_limit_per_second=RATE)) as server:
        yield server


def test_admitted_rate_is_fifteen_per_second() -> None:
    """60 calls fired as fast as possible from six threads of another process.

    The sandbox runs in its own process, as ``lmi-delivery sandbox serve``: in this process its
    server threads would share one interpreter lock with the six hammering clients and be
    starved now and then, losing tokens that no request was there to take. The rate is measured
    at the server's admission instants; response times seen by the clients jitter.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "lmi_delivery.cli.commands.sandbox", "serve", "--rate-limit",
         str(int(RATE))], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip().removeprefix("export AWS_ENDPOINT_URL=")
        clients = [boto3.client("lambda", region_name="us-east-1", endpoint_url=endpoint,
                                aws_access_key_id="testing", aws_secret_access_key="testing",
                                config=Config(retries={"total_max_attempts": 1}))
                   for _ in range(6)]
        # moto builds its Lambda backend on the first call (a pause of ~0.4 s): do it first,
        # then let the bucket refill, so the measurement sees only the limiter.
        clients[0].list_functions()
        time.sleep(3 / RATE)
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
        with urllib.request.urlopen(f"{endpoint}/_sandbox/rate-limit", timeout=10) as answer:
            instants = json.loads(answer.read())["Admissions"][1:ADMITTED + 1]
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=10)
    rate = (len(instants) - 1) / (instants[-1] - instants[0])
    gaps = sorted(b - a for a, b in itertools.pairwise(instants))
    paced = 1 / statistics.median(gaps)
    print(f"admitted rate {rate:.2f}/s over {len(instants)} calls ({paced:.2f}/s by the median "
          f"gap), {len(throttles)} throttled")
    assert throttles
    assert len(instants) == ADMITTED
    # Never faster than the limit, over the run and over any second of it; as fast as the limit
    # while it is saturated (the median gap: a loaded machine may starve the clients now and
    # then, which leaves a long gap, never a short one).
    assert rate <= RATE + 1
    assert all((RATE - 1) / (instants[i + int(RATE) - 1] - instants[i]) <= RATE + 1.5
               for i in range(len(instants) - int(RATE) + 1))
    assert RATE - 1 <= paced <= RATE + 1
    error = throttles[0].response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"]["Message"] == "Rate exceeded"


def warm_up(aws_clients: Any) -> None:
    """moto builds its Lambda backend on the first call: make it, retried, since the test
    before (this module's sandbox is shared) may have just spent the bucket's tokens."""
    aws_clients("lambda", max_attempts=10).list_functions()


def test_throttle_is_a_modeled_exception_with_retry_after(aws_clients: Any) -> None:
    lam = aws_clients("lambda")
    warm_up(aws_clients)
    time.sleep(3 / RATE)  # a full bucket holds two tokens
    # Back-to-back calls outrun a refill of 15/s however slowly each one is served.
    for _ in range(10):
        try:
            lam.list_functions()
        except lam.exceptions.TooManyRequestsException as throttled:
            error = throttled
            break
    else:
        pytest.fail("10 back-to-back calls were never throttled")
    assert error.response["retryAfterSeconds"] == "1"
    assert error.response["Type"] == "User"


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


def test_capacity_provider_writes_have_a_budget_of_one_per_second_apart(
        aws_clients: Any) -> None:
    # AWS-FACTS.md: capacity-provider APIs allow 1 write/s and 15 reads/s per account, apart
    # from the Lambda control plane's 15/s.
    from sandbox_helpers import provider

    lam = aws_clients("lambda")
    iam = aws_clients("iam", max_attempts=5)
    warm_up(aws_clients)
    time.sleep(1.1)
    provider(lam, iam, "first")
    with pytest.raises(lam.exceptions.TooManyRequestsException):
        provider(lam, iam, "second")
    time.sleep(1.05)
    provider(lam, iam, "second")
    for _ in range(3):  # the Lambda budget (two tokens at most) runs out...
        try:
            lam.list_functions()
        except lam.exceptions.TooManyRequestsException:
            break
    else:
        pytest.fail("the Lambda budget never ran out")
    # ... while capacity-provider reads have their own.
    assert lam.get_capacity_provider(CapacityProviderName="first")["CapacityProvider"]
