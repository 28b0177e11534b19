"""The sandbox's S3 decides conditional writes atomically, as S3 does (``s3_writes``)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lmi_delivery.sandbox import Sandbox, SandboxOptions, s3_writes

BUCKET = "conditional-writes"
RACERS = 8
ROUNDS = 25


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions()) as server:
        s3_writes.install(server)
        yield server


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter can, so that a race shows within seconds."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def race(clients: list[Any], key: str, **condition: str) -> list[int]:
    """Every client writes ``key`` at once with ``condition``; the indexes of those S3 took.

    With a checksum, as Terraform's s3 backend sends one: moto computes it between checking
    the condition and writing, which is where two writers slipped through.
    """
    won: list[int] = []
    refused: list[str] = []
    start = threading.Barrier(len(clients))

    def write(index: int, client: Any) -> None:
        start.wait(timeout=10)
        try:
            client.put_object(Bucket=BUCKET, Key=key, Body=b"writer %d" % index,
                              ChecksumAlgorithm="SHA256", **condition)
        except ClientError as exc:
            refused.append(exc.response["Error"]["Code"])
            return
        won.append(index)

    threads = [threading.Thread(target=write, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert set(refused) <= {"PreconditionFailed"}, refused
    return won


@pytest.mark.usefixtures("fast_switching")
def test_of_racing_if_none_match_puts_exactly_one_wins(sandbox: Sandbox) -> None:
    sandbox.client("s3").create_bucket(Bucket=BUCKET)
    clients = [sandbox.client("s3") for _ in range(RACERS)]
    for round_ in range(ROUNDS):
        key = f"lock-{round_}"
        won = race(clients, key, IfNoneMatch="*")
        assert len(won) == 1, f"round {round_}: {len(won)} writers created {key}"
        body = clients[0].get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert body == b"writer %d" % won[0]


@pytest.mark.usefixtures("fast_switching")
def test_of_racing_if_match_puts_exactly_one_wins(sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    clients = [sandbox.client("s3") for _ in range(RACERS)]
    for round_ in range(ROUNDS):
        etag = s3.put_object(Bucket=BUCKET, Key="state", Body=b"round %d" % round_)["ETag"]
        assert len(race(clients, "state", IfMatch=etag)) == 1, f"round {round_}"


def test_conditions_still_answer_as_s3_does(sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    etag = s3.put_object(Bucket=BUCKET, Key="k", Body=b"1", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"2", IfNoneMatch="*")
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=BUCKET, Key="k", IfMatch='"0123"')
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    s3.delete_object(Bucket=BUCKET, Key="k", IfMatch=etag)
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_install_is_idempotent(sandbox: Sandbox) -> None:
    first = s3_writes.install(sandbox)
    assert s3_writes.install(sandbox) is first
    assert sum(isinstance(e, s3_writes.S3Writes) for e in sandbox.extensions) == 1
