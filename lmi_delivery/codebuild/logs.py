"""Following one build's CloudWatch Logs stream with ``GetLogEvents``.

Reads forward from the head with ``nextForwardToken``; the same token back (or no events)
means nothing new yet. While the build runs, one page per poll is enough (what arrives later
is read on the next poll); once it has ended, :meth:`LogFollower.fetch` with ``drain`` pages
until the end. CodeBuild's events end in ``"\\n"``: it is stripped, so each line is reported
once, without its line ending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

#: Pages read at most in one drain (10,000 events or 1 MB each).
MAX_DRAIN_PAGES = 50


class LogFollower:
    def __init__(self, client: CloudWatchLogsClient, group: str, stream: str) -> None:
        self.client = client
        self.group = group
        self.stream = stream
        self.token: str | None = None
        self.calls = 0

    def fetch(self, emit: Callable[[str], None], *, drain: bool = False) -> int:
        """Hand each line that arrived since the last fetch to ``emit``, oldest first, page by
        page (so a failing later page loses nothing); return how many there were."""
        from botocore.exceptions import ClientError

        count = 0
        for _ in range(MAX_DRAIN_PAGES if drain else 1):
            kwargs: dict[str, Any] = {"logGroupName": self.group, "logStreamName": self.stream,
                                      "startFromHead": True}
            if self.token is not None:
                kwargs["nextToken"] = self.token
            self.calls += 1
            try:
                answer = self.client.get_log_events(**kwargs)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    return count  # the stream is not there yet
                raise
            events = answer.get("events") or []
            token = answer.get("nextForwardToken")
            unchanged = token is None or token == self.token
            if token is not None:
                self.token = token
            for event in events:
                for line in _lines(event.get("message", "")):
                    count += 1
                    emit(line)
            if unchanged or not events:
                break
        return count


def _lines(message: str) -> list[str]:
    if message.endswith("\n"):
        message = message[:-1]
    return [line.removesuffix("\r") for line in message.split("\n")]
