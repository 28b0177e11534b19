"""One apply at a time per environment: a lock object in S3, taken with a conditional write.

The apply build holds the lock around everything that changes the environment::

    with ApplyLock(s3, bucket, "locks/agent-core/prod/apply.lock", build_id,
                   environment="prod", commit=commit, timeout_minutes=60, say=say):
        runner.apply(planfile)

**Taking it.** ``PutObject`` with ``If-None-Match: *`` writes the object only if there is none.
S3 decides that atomically, so when two builds try at once exactly one gets the lock and the other
gets ``412 PreconditionFailed`` (``409 ConditionalRequestConflict`` while the two writes overlap).
The object is a :class:`LockRecord` (JSON): the holder (the CodeBuild build id), the environment,
the commit, when it was taken, and when it expires. It expires when the build's timeout has
passed since it was taken: CodeBuild has stopped the build by then, so its holder cannot still be
applying.

**Waiting.** While another build holds the lock, :meth:`ApplyLock.acquire` checks again every
``poll_seconds``. It reports through ``say`` who holds the lock (the build id, the commit, since
when): when it first sees a holder, and then every ``REPORT_SECONDS``. After ``wait_seconds`` it
refuses with :class:`~lmi_delivery.errors.GateRefused` (exit 3), naming the holder.

**Stale locks.** A lock past its ``expires_at`` is taken over. So is a lock whose holder is this
very build: a build runs its commands one after another, so such a lock was left behind by a
command of this build that died. Taking over means deleting the object with ``If-Match`` on the
ETag we read, then trying the conditional put again. When two builds take over at once, one
delete wins. The other fails (412, or 404 once the object is gone), and only one of the
conditional puts that follow succeeds.

**Releasing.** :meth:`ApplyLock.release` sends ``DeleteObject`` with ``If-Match`` on the ETag of
the object we wrote. If our lock expired and was taken over meanwhile, the new holder's lock is
left alone. The ``with`` block releases on every exit, exceptions and ``KeyboardInterrupt``
included. Release never raises, so it never hides the exception in flight: a failure is reported
through ``say``, and the lock expires by itself. If the put that takes the lock is interrupted
before its answer arrives, the object is removed if it turns out to be ours.

A lock object that is not a valid lock record is never taken over, because nothing says when it
expires. It is waited on like any other lock, and the refusal says to delete it by hand. The
values a lock object holds were written by some build, so they are shown escaped and shortened.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING

from lmi_delivery.aws.errors import error_code, translate
from lmi_delivery.errors import GateRefused

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]
Say = Callable[[str], None]

SCHEMA_VERSION = 1
DEFAULT_WAIT_SECONDS = 900.0
DEFAULT_POLL_SECONDS = 10.0
#: How often a waiting build says again that the lock is still held.
REPORT_SECONDS = 60.0
#: Retries with no pause after the lock changed hands (released, or taken over) under us.
QUICK_RETRIES = 5
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_TAKEN = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})


def utc_now() -> datetime:
    return datetime.now(UTC)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME)


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME).replace(tzinfo=UTC)


def shown(value: object, limit: int = 120) -> str:
    """A value read from S3, made safe to print: control characters escaped, length bounded."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in str(value))
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class LockRecord:
    """The lock object's content (flat JSON with these field names)."""

    holder: str
    """The CodeBuild build id of the build that holds the lock."""
    environment: str
    commit: str
    acquired_at: str
    """ISO 8601, UTC, to the second."""
    expires_at: str
    """``acquired_at`` plus the holder's build timeout."""
    token: str
    """Unique to one acquisition, so that a holder can recognise its own object."""
    schema_version: int = SCHEMA_VERSION

    def expired(self, now: datetime) -> bool:
        return now >= _parse_time(self.expires_at)

    def describe(self) -> str:
        return (f"build {shown(self.holder)} (environment {shown(self.environment)}, commit "
                f"{shown(self.commit)}) since {shown(self.acquired_at)}, expiring "
                f"{shown(self.expires_at)}")

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> LockRecord | None:
        """The record, or None when ``data`` is not one (wrong shape, version or times)."""
        try:
            document = json.loads(data)
            if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION:
                return None
            values = {name: document[name] for name in
                      ("holder", "environment", "commit", "acquired_at", "expires_at", "token")}
            if not all(isinstance(v, str) for v in values.values()):
                return None
            _parse_time(values["acquired_at"])
            _parse_time(values["expires_at"])
        except (ValueError, KeyError, UnicodeDecodeError):
            return None
        return cls(**values)


@dataclass(frozen=True)
class Held:
    """The lock object found in S3: its record (None when it is not one) and its ETag."""

    record: LockRecord | None
    etag: str


class ApplyLock:
    """The apply lock of one environment at ``s3://bucket/key``, for the build ``holder``.

    ``timeout_minutes`` is the holder's build timeout: the lock expires that long after it is
    taken. ``clock``, ``sleep`` and ``say`` are injected so that tests control time and output.
    Use it as a context manager, or call :meth:`acquire` and :meth:`release` yourself.
    """

    def __init__(self, s3: S3Client, bucket: str, key: str, holder: str, *, environment: str,
                 commit: str, timeout_minutes: float,
                 wait_seconds: float = DEFAULT_WAIT_SECONDS,
                 poll_seconds: float = DEFAULT_POLL_SECONDS, clock: Clock = utc_now,
                 sleep: Sleep = time.sleep, say: Say | None = None) -> None:
        if timeout_minutes <= 0:
            raise ValueError("timeout_minutes must be positive")
        self.s3, self.bucket, self.key, self.holder = s3, bucket, key, holder
        self.environment, self.commit = environment, commit
        self.timeout = timedelta(minutes=timeout_minutes)
        self.wait_seconds, self.poll_seconds = wait_seconds, poll_seconds
        self.clock, self.sleep, self.say = clock, sleep, say
        self.record: LockRecord | None = None
        """What we wrote, while we hold the lock."""
        self._etag: str | None = None

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def held(self) -> bool:
        return self._etag is not None

    # -- taking the lock ---------------------------------------------------------------------

    def acquire(self) -> LockRecord:
        """Take the lock, waiting up to ``wait_seconds`` for its holder; else GateRefused."""
        if self._etag is not None:
            raise RuntimeError(f"{self.url} is already held by this ApplyLock")
        started = self.clock()
        deadline = started + timedelta(seconds=self.wait_seconds)
        quick = 0
        reported: tuple[str | None, datetime] | None = None
        while True:
            now = self.clock()
            record = self._record(now)
            if self._try_put(record):
                self.record = record
                self._say(f"apply lock {self.url} taken by build {shown(self.holder)} for "
                          f"{shown(self.environment)} (expires {record.expires_at})")
                return record
            held = self._read()
            if held is None or self._stale(held, now):
                if held is not None:
                    self._take_over(held)
                quick += 1
                if quick <= QUICK_RETRIES:
                    continue
            quick = 0
            waited = (now - started).total_seconds()
            if now >= deadline:
                raise self._refusal(held, waited)
            if held is not None and (reported is None or reported[0] != _identity(held)
                                     or (now - reported[1]).total_seconds() >= REPORT_SECONDS):
                reported = (_identity(held), now)
                self._say(f"waiting for the apply lock {self.url}: held by "
                          f"{_holder_text(held)}; waited {waited:.0f} s of "
                          f"{self.wait_seconds:.0f} s")
            self.sleep(max(min(self.poll_seconds, (deadline - now).total_seconds()), 0.0))

    def _record(self, now: datetime) -> LockRecord:
        return LockRecord(self.holder, self.environment, self.commit, _timestamp(now),
                          _timestamp(now + self.timeout), uuid.uuid4().hex)

    def _try_put(self, record: LockRecord) -> bool:
        from botocore.exceptions import ClientError

        try:
            answer = self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=record.to_json(),
                                        ContentType="application/json", IfNoneMatch="*")
        except ClientError as exc:
            if error_code(exc) in _TAKEN:
                return False
            raise translate(exc, "PutObject", where=self.url) from None
        except BaseException:
            # Interrupted, or the connection failed, before S3 answered: it may have written.
            self._remove_if_ours(record)
            raise
        self._etag = answer["ETag"]
        return True

    def _read(self) -> Held | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=self.key)
            data = answer["Body"].read()
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return None
            raise translate(exc, "GetObject", where=self.url) from None
        return Held(LockRecord.from_json(data), answer["ETag"])

    def _stale(self, held: Held, now: datetime) -> bool:
        record = held.record
        return record is not None and (record.expired(now) or record.holder == self.holder)

    def _take_over(self, held: Held) -> None:
        from botocore.exceptions import ClientError

        assert held.record is not None
        why = ("left by this build" if held.record.holder == self.holder else "it expired")
        self._say(f"apply lock {self.url}: taking over the lock of {held.record.describe()} "
                  f"({why})")
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=held.etag)
        except ClientError as exc:
            if error_code(exc) in _TAKEN | _MISSING:
                return  # another build took it over or released it first: try again
            raise translate(exc, "DeleteObject", where=self.url) from None

    def _refusal(self, held: Held | None, waited: float) -> GateRefused:
        env = shown(self.environment)
        context: dict[str, object] = {"lock_url": self.url}
        if held is not None and held.record is not None:
            context["holder"] = held.record.holder
            message = (f"another apply of {env} is running: the apply lock {self.url} is held "
                       f"by {held.record.describe()}; waited {waited:.0f} s. Nothing was "
                       "applied: run this apply again once that build has finished.")
        elif held is not None:
            message = (f"the apply lock {self.url} of {env} holds an object that is not a lock "
                       f"record (ETag {shown(held.etag)}); waited {waited:.0f} s. Nothing was "
                       f"applied. If no apply of {env} is running, delete it "
                       f"(aws s3 rm {self.url}) and run this apply again.")
        else:
            message = (f"could not take the apply lock {self.url} of {env}: it kept changing "
                       f"hands for {waited:.0f} s. Nothing was applied; run this apply again.")
        return GateRefused(message, context=context)

    # -- releasing it ------------------------------------------------------------------------

    def release(self) -> bool:
        """Delete our lock object if it is still ours; whether it was deleted. Never raises."""
        etag, self._etag = self._etag, None
        record, self.record = self.record, None
        if etag is None or record is None:
            return False
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.s3.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=etag)
        except ClientError as exc:
            code = error_code(exc)
            if code in _MISSING:
                self._say(f"apply lock {self.url} was already gone")
            elif code in _TAKEN:
                self._say(f"apply lock {self.url} is no longer ours (it expired at "
                          f"{record.expires_at} and was taken over); left it alone")
            else:
                self._say(f"could not release the apply lock {self.url} ({code or exc}); it "
                          f"expires at {record.expires_at}")
            return False
        except BotoCoreError as exc:
            self._say(f"could not release the apply lock {self.url} ({exc}); it expires at "
                      f"{record.expires_at}")
            return False
        self._say(f"apply lock {self.url} released")
        return True

    def _remove_if_ours(self, record: LockRecord) -> None:
        """Best effort, while something else is already going wrong: the error in flight is
        the one to report, so errors here are dropped."""
        with contextlib.suppress(Exception):
            held = self._read()
            if held is not None and held.record is not None and held.record.token == record.token:
                self.s3.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=held.etag)

    def __enter__(self) -> ApplyLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _say(self, line: str) -> None:
        if self.say is not None:
            self.say(line)


def _identity(held: Held) -> str | None:
    return held.record.token if held.record is not None else held.etag


def _holder_text(held: Held) -> str:
    if held.record is None:
        return f"an object that is not a lock record (ETag {shown(held.etag)})"
    return held.record.describe()


