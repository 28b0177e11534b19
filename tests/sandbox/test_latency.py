"""Latency: answers held per operation as AWS would hold them, throttles included, with jitter
replayed from the seed."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lmi_delivery.sandbox import Sandbox, SandboxOptions
from lmi_delivery.sandbox.latency import LatencyModel
from lmi_delivery.sandbox.options import Latency, parse_latency
from lmi_delivery.sandbox.protocol import Call

LATENCY = {"ListFunctions": Latency(0.4), "lambda:GetFunction": Latency(0.25),
           "lambda:*": Latency(0.1), "s3:*": Latency(0.0)}
#: What a local call may add to its latency on a loaded machine.
SLACK = 0.25


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(latency=LATENCY, latency_seconds=0.05,
                                rate_limit_per_second=1.0, seed=3)) as server:
        yield server


def timed(call: Callable[..., Any], **params: Any) -> float:
    started = time.monotonic()
    with contextlib.suppress(ClientError):
        call(**params)
    return time.monotonic() - started


def fastest(call: Callable[..., Any], **params: Any) -> float:
    """The quickest of three answers: a loaded machine stretches some, never all three."""
    return min(timed(call, **params) for _ in range(3))


def test_the_most_specific_rule_holds_each_answer(aws_clients: Any) -> None:
    lam, s3, iam = aws_clients("lambda"), aws_clients("s3"), aws_clients("iam")
    s3.list_buckets()  # moto builds its backends on the first calls: not measured
    iam.list_roles()
    assert 0.25 <= fastest(lam.get_function, FunctionName="absent") < 0.25 + SLACK
    assert 0.1 <= fastest(lam.list_capacity_providers) < 0.1 + SLACK  # lambda:*, not 0.4
    assert fastest(s3.list_buckets) < SLACK
    assert 0.05 <= fastest(iam.list_roles) < 0.05 + SLACK  # no rule: latency_seconds


def test_a_throttle_costs_the_round_trip_too(aws_clients: Any) -> None:
    """Three calls at once over a 1/s limit with a burst of two: one is throttled, and its
    429 leaves after the latency like the admitted answers."""
    lam = aws_clients("lambda")
    time.sleep(2.0)  # a full bucket
    started = time.monotonic()

    def call(_: int) -> tuple[str, float]:
        try:
            lam.list_functions()
            outcome = "ok"
        except ClientError as error:
            outcome = str(error.response["Error"]["Code"])
        return outcome, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(call, range(3)))
    assert sorted(outcome for outcome, _ in answers) == ["TooManyRequestsException", "ok", "ok"]
    assert all(elapsed >= 0.4 for _, elapsed in answers)


def test_jitter_stays_within_bounds_and_replays_from_the_seed() -> None:
    model = LatencyModel({"*": Latency(0.15, 0.05)}, 0.0, seed=11)
    publish = Call("lambda", "us-east-1", "PublishVersion", {})
    aliases = Call("lambda", "us-east-1", "ListAliases", {})
    drawn = [model.delay(publish) for _ in range(200)]
    assert all(0.1 <= d <= 0.2 for d in drawn)
    assert max(drawn) - min(drawn) > 0.08, "the jitter spreads the delays"
    model.reset()
    mixed = [model.delay(publish if i % 2 else aliases) for i in range(400)]
    assert mixed[1::2] == drawn, "each operation has its own stream"
    other = LatencyModel({"*": Latency(0.15, 0.05)}, 0.0, seed=12)
    assert [other.delay(publish) for _ in range(200)] != drawn


def test_latency_flags_parse_into_rules() -> None:
    assert parse_latency(["*=150±30", "lambda:ListAliases=300", "s3:*=0",
                          "PublishVersion=200+-20", "PublishVersion=250"]) == {
        "*": Latency(0.15, 0.03), "lambda:ListAliases": Latency(0.3),
        "s3:*": Latency(0.0), "PublishVersion": Latency(0.25)}
    for bad in ("PublishVersion", "PublishVersion=fast", "PublishVersion=-5",
                "PublishVersion=100±200", "Publish Version=100"):
        with pytest.raises(ValueError, match="invalid latency"):
            parse_latency([bad])
