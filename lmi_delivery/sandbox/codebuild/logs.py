"""Live shipping of a build's output to CloudWatch Logs.

Lines are queued by whoever produces them (the runner's markers, the reader threads of the
commands) and a shipper thread sends what has accumulated every :data:`FLUSH_INTERVAL`
seconds with ``PutLogEvents``, so readers of the stream see the build's output while it runs.
Each event is one line and, as in CodeBuild's own streams, ends with ``"\\n"``. Values the
build resolved from Parameter Store and Secrets Manager are masked (``***``) in every line, as
CodeBuild masks them (:meth:`LogShipper.mask`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_logs.type_defs import InputLogEventTypeDef

#: Seconds between two ``PutLogEvents`` calls while lines keep coming.
FLUSH_INTERVAL = 0.2
#: CloudWatch Logs limits for one ``PutLogEvents`` call.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_000_000
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
#: What a masked value is replaced with in a build's log.
MASK = "***"


def masked(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret value (longest first) replaced by :data:`MASK`."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def container_line(message: str, now: float | None = None) -> str:
    """A CodeBuild agent line: ``[Container] 2026/01/31 12:00:00.123456 message``."""
    stamp = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    return f"[Container] {stamp.strftime('%Y/%m/%d %H:%M:%S.%f')} {message}"


class LogShipper:
    """Collects lines and ships them to one log stream from its own thread."""

    def __init__(self, client: CloudWatchLogsClient | None, group: str | None,
                 stream: str | None) -> None:
        self._client = client
        self._group = group
        self._stream = stream
        self._pending: list[InputLogEventTypeDef] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._last_ms = 0
        self._thread = threading.Thread(target=self._loop, name=f"logs {stream}", daemon=True)
        self._secrets: tuple[str, ...] = ()
        self.errors: list[str] = []

    def mask(self, values: Iterable[str]) -> None:
        """Mask these values (secrets the build resolved) in every line from now on."""
        with self._lock:
            found = {*self._secrets, *(v for v in values if v)}
            self._secrets = tuple(sorted(found, key=lambda v: (-len(v), v)))

    def masked(self, text: str) -> str:
        return masked(text, self._secrets)

    @property
    def enabled(self) -> bool:
        return self._client is not None and bool(self._group) and bool(self._stream)

    def start(self) -> None:
        if not self.enabled:
            return
        assert self._client is not None
        assert self._group
        assert self._stream
        try:
            self._client.create_log_group(logGroupName=self._group)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        self._client.create_log_stream(logGroupName=self._group, logStreamName=self._stream)
        self._thread.start()

    def line(self, text: str) -> None:
        """Queue one line (without its line ending)."""
        if not self.enabled:
            return
        text = masked(text, self._secrets)
        if len(text) * 4 > MAX_EVENT_BYTES:  # only then can the UTF-8 form be too long
            text = text.encode("utf-8")[:MAX_EVENT_BYTES - 1].decode("utf-8", "ignore")
        with self._lock:
            now_ms = max(int(time.time() * 1000), self._last_ms)
            self._last_ms = now_ms
            self._pending.append({"timestamp": now_ms, "message": text + "\n"})

    def container(self, message: str) -> None:
        self.line(container_line(message))

    def close(self) -> None:
        """Ship everything queued so far and stop the thread."""
        if not self._thread.is_alive():
            return
        self._closing = True
        self._wake.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            self._wake.wait(FLUSH_INTERVAL)
            closing = self._closing
            self._flush()
            if closing:
                return

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        assert self._client is not None
        assert self._group
        assert self._stream
        for batch in _batches(pending):
            try:
                self._client.put_log_events(logGroupName=self._group,
                                            logStreamName=self._stream, logEvents=batch)
            except Exception as error:  # keep the build going; remember what was lost
                self.errors.append(str(error))


def _batches(events: list[InputLogEventTypeDef]) -> list[list[InputLogEventTypeDef]]:
    batches: list[list[InputLogEventTypeDef]] = []
    batch: list[InputLogEventTypeDef] = []
    size = 0
    for event in events:
        event_size = len(event["message"].encode("utf-8")) + EVENT_OVERHEAD_BYTES
        if batch and (len(batch) >= MAX_BATCH_EVENTS or size + event_size > MAX_BATCH_BYTES):
            batches.append(batch)
            batch, size = [], 0
        batch.append(event)
        size += event_size
    if batch:
        batches.append(batch)
    return batches
