"""Injected fakes for the CodeBuild orchestration: a clock, CodeBuild and CloudWatch Logs.

Builds are scripted on the fake clock: each ends at ``end_at`` with ``status``; its log lines
appear at their timestamps. Nothing sleeps for real: ``FakeClock.sleep`` advances the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from lmi_delivery.codebuild.model import BuildResult, StartedBuild


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def throttle(operation: str = "BatchGetBuilds") -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                       operation)


@dataclass
class FakeBuild:
    id: str
    end_at: float
    status: str = "SUCCEEDED"
    lines: list[tuple[float, str]] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)
    logs: bool = True
    stopped: bool = False


class FakeCodeBuild:
    def __init__(self, clock: FakeClock, builds: list[FakeBuild] | None = None) -> None:
        self.clock = clock
        self.builds = {b.id: b for b in builds or []}
        self.batch_calls: list[list[str]] = []
        self.started: list[dict[str, Any]] = []
        self.stops: list[str] = []
        self.throttle_next = 0
        self.meta = type("Meta", (), {"region_name": "eu-west-1",
                                      "endpoint_url": "https://codebuild.eu-west-1.amazonaws.com"})

    def start_build(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        build_id = f"{kwargs['projectName']}:0000000{len(self.started)}-aaaa-bbbb-cccc-dddddddddddd"
        self.builds[build_id] = FakeBuild(build_id, end_at=self.clock() + 60)
        return {"build": {"id": build_id, "projectName": kwargs["projectName"],
                          "buildNumber": len(self.started)}}

    def batch_get_builds(self, *, ids: list[str]) -> dict[str, Any]:
        assert 1 <= len(ids) <= 100
        self.batch_calls.append(list(ids))
        if self.throttle_next:
            self.throttle_next -= 1
            raise throttle()
        return {"builds": [self._shape(self.builds[i]) for i in ids if i in self.builds],
                "buildsNotFound": [i for i in ids if i not in self.builds]}

    def stop_build(self, *, id: str) -> dict[str, Any]:
        self.stops.append(id)
        build = self.builds[id]
        if self.clock() < build.end_at:
            build.stopped, build.status, build.end_at = True, "STOPPED", self.clock() + 1
        return {"build": self._shape(build)}

    def _shape(self, build: FakeBuild) -> dict[str, Any]:
        done = self.clock() >= build.end_at
        shape: dict[str, Any] = {
            "id": build.id, "buildStatus": build.status if done else "IN_PROGRESS",
            "buildComplete": done, "phases": build.phases if done else [],
        }
        if done:
            shape["endTime"] = build.end_at
        if build.logs:
            shape["logs"] = {"groupName": "/aws/codebuild/app", "streamName": build.id}
        return shape


class FakeLogs:
    """GetLogEvents over the builds' scripted lines; the token is ``f/<index>``."""

    def __init__(self, codebuild: FakeCodeBuild, page_size: int = 10_000) -> None:
        self.codebuild = codebuild
        self.page_size = page_size
        self.calls: list[tuple[str, str | None]] = []

    def get_log_events(self, *, logGroupName: str, logStreamName: str, startFromHead: bool,
                       nextToken: str | None = None) -> dict[str, Any]:
        assert startFromHead
        self.calls.append((logStreamName, nextToken))
        build = self.codebuild.builds[logStreamName]
        now = self.codebuild.clock()
        visible = [line for at, line in build.lines if at <= now]
        start = int(nextToken[2:]) if nextToken else 0
        page = visible[start:start + self.page_size]
        token = f"f/{start + len(page)}" if page or nextToken else "f/0"
        return {"events": [{"timestamp": 0, "message": line + "\n"} for line in page],
                "nextForwardToken": token}


class RecordingReporter:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.results: list[BuildResult] = []
        self.notices: list[str] = []

    def build_started(self, build: StartedBuild) -> None:
        self.events.append(("started", build.id, build.log_url))

    def log_line(self, build: StartedBuild, line: str) -> None:
        self.events.append(("line", build.id, line))

    def build_finished(self, result: BuildResult) -> None:
        self.results.append(result)
        self.events.append(("finished", result.build.id, result.status))

    def notice(self, message: str) -> None:
        self.notices.append(message)

    def group_start(self, title: str) -> None:
        self.events.append(("group", "", title))

    def group_end(self) -> None:
        self.events.append(("endgroup", "", ""))

    def lines(self, build_id: str) -> list[str]:
        return [text for kind, i, text in self.events if kind == "line" and i == build_id]
