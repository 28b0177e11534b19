"""The apply lock against the sandbox's S3: contention, waiting, refusal, takeover, release."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lmi_delivery.errors import EXIT_REFUSED, GateRefused
from lmi_delivery.sandbox import Sandbox, SandboxOptions, s3_writes
from lmi_delivery.terraform.lock import ApplyLock, LockRecord

BUCKET = "agent-core-delivery-artifacts"
KEY = "locks/agent-core/prod/apply.lock"
COMMIT = "c" * 40
START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    # Conditional writes must be atomic, as on S3 (lmi_delivery.sandbox.s3_writes).
    with Sandbox(SandboxOptions()) as server:
        s3_writes.install(server)
        yield server


@pytest.fixture
def s3(sandbox: Sandbox) -> Any:
    client = sandbox.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def lock(s3: Any, holder: str, *, said: list[str] | None = None, fake: FakeTime | None = None,
         **options: Any) -> ApplyLock:
    fake = fake or FakeTime()
    return ApplyLock(s3, BUCKET, KEY, holder, environment="prod", commit=COMMIT,
                     timeout_minutes=options.pop("timeout_minutes", 60), clock=fake.clock,
                     sleep=fake.sleep, say=None if said is None else said.append, **options)


def stored(s3: Any) -> dict[str, Any] | None:
    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())  # type: ignore[no-any-return]
    except s3.exceptions.NoSuchKey:
        return None


def put_record(s3: Any, holder: str, acquired: datetime, minutes: int = 60) -> None:
    record = LockRecord(holder, "prod", "d" * 40, acquired.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        (acquired + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "someone-elses-token")
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=record.to_json())


def test_the_lock_object_says_who_holds_it_until_when(s3: Any) -> None:
    said: list[str] = []
    with lock(s3, "agent-core-prod-tf-apply:1111", said=said, timeout_minutes=90) as held:
        document = stored(s3)
        assert document is not None
        assert held.record is not None
        assert document["token"] == held.record.token
        assert {k: v for k, v in document.items() if k != "token"} == {
            "holder": "agent-core-prod-tf-apply:1111", "environment": "prod", "commit": COMMIT,
            "acquired_at": "2026-03-01T12:00:00Z", "expires_at": "2026-03-01T13:30:00Z",
            "schema_version": 1}
    assert stored(s3) is None
    assert said[0].startswith(f"apply lock s3://{BUCKET}/{KEY} taken by build "
                              "agent-core-prod-tf-apply:1111")
    assert said[-1] == f"apply lock s3://{BUCKET}/{KEY} released"


def test_two_builds_contend_and_only_one_holds_at_a_time(sandbox: Sandbox, s3: Any) -> None:
    """Real threads, real time: the holding intervals never overlap."""
    intervals: list[tuple[float, float, str]] = []
    said: dict[str, list[str]] = {"build:a": [], "build:b": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def build(holder: str) -> None:
        client = sandbox.client("s3")  # one client per thread, as two builds have
        try:
            start.wait()
            for _ in range(3):
                with ApplyLock(client, BUCKET, KEY, holder, environment="prod", commit=COMMIT,
                               timeout_minutes=60, wait_seconds=30, poll_seconds=0.01,
                               say=said[holder].append):
                    entered = time.monotonic()
                    time.sleep(0.05)
                    intervals.append((entered, time.monotonic(), holder))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(h,)) for h in said]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(intervals) == 6
    ordered = sorted(intervals)
    for (_, left, _), (right, _, _) in itertools.pairwise(ordered):
        assert left <= right, f"two builds held the lock at once: {ordered}"
    waits = [line for lines in said.values() for line in lines if line.startswith("waiting")]
    assert waits, "one build must have waited for the other"
    assert any("held by build build:a" in w for w in said["build:b"] if w in waits) or \
        any("held by build build:b" in w for w in said["build:a"] if w in waits)
    assert stored(s3) is None


def test_a_held_lock_is_waited_for_then_refused_naming_its_holder(s3: Any) -> None:
    put_record(s3, "agent-core-prod-tf-apply:2222", START - timedelta(minutes=5))
    fake, said = FakeTime(), []
    with pytest.raises(GateRefused) as refused:
        lock(s3, "agent-core-prod-tf-apply:3333", said=said, fake=fake, wait_seconds=150,
             poll_seconds=20).acquire()
    message = str(refused.value)
    assert refused.value.exit_code == EXIT_REFUSED
    assert message.startswith("another apply of prod is running: the apply lock "
                              f"s3://{BUCKET}/{KEY} is held by build "
                              "agent-core-prod-tf-apply:2222 (environment prod, commit "
                              f"{'d' * 40}) since 2026-03-01T11:55:00Z, expiring "
                              "2026-03-01T12:55:00Z; waited 150 s.")
    assert refused.value.context["holder"] == "agent-core-prod-tf-apply:2222"
    assert fake.slept == [20] * 7 + [10]
    # Progress: when the holder is first seen, then once a minute.
    assert [line.split("; ")[-1] for line in said] == [
        "waited 0 s of 150 s", "waited 60 s of 150 s", "waited 120 s of 150 s"]
    assert all("held by build agent-core-prod-tf-apply:2222" in line and
               "since 2026-03-01T11:55:00Z" in line for line in said)
    assert stored(s3)["holder"] == "agent-core-prod-tf-apply:2222"  # type: ignore[index]


def test_the_lock_is_taken_once_its_holder_releases_it(s3: Any) -> None:
    put_record(s3, "agent-core-prod-tf-apply:2222", START)
    fake = FakeTime()

    def release_later(seconds: float) -> None:
        fake.sleep(seconds)
        if len(fake.slept) == 2:
            s3.delete_object(Bucket=BUCKET, Key=KEY)

    waiting = lock(s3, "agent-core-prod-tf-apply:3333", fake=fake, poll_seconds=10)
    waiting.sleep = release_later
    record = waiting.acquire()
    assert record.acquired_at == "2026-03-01T12:00:20Z"
    assert stored(s3)["holder"] == "agent-core-prod-tf-apply:3333"  # type: ignore[index]
    waiting.release()


def test_a_stale_lock_is_taken_over(s3: Any) -> None:
    put_record(s3, "agent-core-prod-tf-apply:dead", START - timedelta(minutes=61))
    said: list[str] = []
    with lock(s3, "agent-core-prod-tf-apply:4444", said=said):
        assert stored(s3)["holder"] == "agent-core-prod-tf-apply:4444"  # type: ignore[index]
    assert any("taking over the lock of build agent-core-prod-tf-apply:dead" in line
               and "(it expired)" in line for line in said)
    assert stored(s3) is None


def test_a_lock_left_by_this_build_is_reclaimed(s3: Any) -> None:
    put_record(s3, "agent-core-prod-tf-apply:5555", START - timedelta(minutes=1))
    said: list[str] = []
    with lock(s3, "agent-core-prod-tf-apply:5555", said=said, wait_seconds=0) as held:
        assert held.held
    assert any("(left by this build)" in line for line in said)


class Interleaved:
    """An S3 client that lets another build act at one chosen point of this build's takeover."""

    def __init__(self, s3: Any, at: str, other: ApplyLock) -> None:
        self.s3, self.at, self.other = s3, at, other

    def get_object(self, **kwargs: Any) -> Any:
        answer = self.s3.get_object(**kwargs)
        if self.at == "read" and not self.other.held:
            self.other.acquire()  # it takes over the stale lock this build has just read
        return answer

    def delete_object(self, **kwargs: Any) -> Any:
        answer = self.s3.delete_object(**kwargs)
        if self.at == "delete" and not self.other.held:
            self.other.acquire()  # it finds no lock: this build has just deleted the stale one
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.s3, name)


@pytest.mark.parametrize("at", ["read", "delete"])
def test_two_builds_taking_over_one_stale_lock_at_once_exactly_one_wins(
        s3: Any, at: str) -> None:
    put_record(s3, "agent-core-prod-tf-apply:dead", START - timedelta(hours=2))
    other = lock(s3, "build:x")
    late = lock(Interleaved(s3, at, other), "build:y", wait_seconds=0)
    with pytest.raises(GateRefused, match="held by build build:x "):
        late.acquire()
    assert other.held
    assert not late.held
    assert stored(s3)["holder"] == "build:x"  # type: ignore[index]
    assert other.release()


@pytest.mark.parametrize("error", [RuntimeError("apply failed"), KeyboardInterrupt()])
def test_the_lock_is_released_whatever_ends_the_block(s3: Any, error: BaseException) -> None:
    seen: list[dict[str, Any] | None] = []

    def apply() -> None:
        seen.append(stored(s3))
        raise error

    with pytest.raises(type(error)), lock(s3, "agent-core-prod-tf-apply:6666"):
        apply()
    assert seen[0] is not None
    assert stored(s3) is None


def test_release_leaves_a_lock_that_was_taken_over(s3: Any) -> None:
    said: list[str] = []
    mine = lock(s3, "agent-core-prod-tf-apply:7777", said=said)
    mine.acquire()
    put_record(s3, "agent-core-prod-tf-apply:8888", START + timedelta(hours=2))
    assert mine.release() is False
    assert stored(s3)["holder"] == "agent-core-prod-tf-apply:8888"  # type: ignore[index]
    assert "is no longer ours" in said[-1]
    assert mine.release() is False  # a second release is a no-op


class InterruptedPut:
    """An S3 client whose PutObject lands, but the caller is interrupted before the answer."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def put_object(self, **kwargs: Any) -> Any:
        self.s3.put_object(**kwargs)
        raise KeyboardInterrupt

    def __getattr__(self, name: str) -> Any:
        return getattr(self.s3, name)


def test_an_interrupted_acquire_removes_the_lock_it_wrote(s3: Any) -> None:
    with pytest.raises(KeyboardInterrupt):
        lock(InterruptedPut(s3), "agent-core-prod-tf-apply:9999").acquire()
    assert stored(s3) is None


def test_an_object_that_is_not_a_lock_is_never_taken_over(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"\x00 not json")
    with pytest.raises(GateRefused, match=r"not a lock record .*aws s3 rm s3://"):
        lock(s3, "agent-core-prod-tf-apply:1010", wait_seconds=30, poll_seconds=10).acquire()
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"\x00 not json"


def test_values_from_the_lock_object_are_shown_escaped() -> None:
    record = LockRecord("x\n::error::forged\x1b[31m", "prod", "c" * 200, "2026-03-01T12:00:00Z",
                        "2026-03-01T13:00:00Z", "t")
    text = record.describe()
    assert "\n" not in text
    assert "\x1b" not in text
    assert "x\\n::error::forged\\x1b[31m" in text
    assert "c" * 200 not in text
    assert "…" in text


@pytest.mark.parametrize("data", [
    b"[]", b"{}", b'{"schema_version": 2}',
    json.dumps({"schema_version": 1, "holder": "h", "environment": "e", "commit": "c",
                "acquired_at": "yesterday", "expires_at": "2026-03-01T13:00:00Z",
                "token": "t"}).encode(),
])
def test_malformed_lock_objects_are_not_records(data: bytes) -> None:
    assert LockRecord.from_json(data) is None
