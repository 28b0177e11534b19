"""The state of one sandbox build, and its rendering in botocore's ``Build`` shape.

A :class:`BuildRecord` is written by the thread that runs the build and read by the request
threads (``BatchGetBuilds``), so every change and every rendering happens under its lock.
Timestamps are epoch seconds (floats), as the JSON protocol of CodeBuild carries them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

IN_PROGRESS = "IN_PROGRESS"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
FAULT = "FAULT"
TIMED_OUT = "TIMED_OUT"
STOPPED = "STOPPED"


@dataclass
class Phase:
    phase_type: str
    start: float
    end: float | None = None
    status: str | None = None
    contexts: list[tuple[str, str]] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        shape: dict[str, Any] = {"phaseType": self.phase_type, "startTime": self.start}
        if self.status is not None:
            shape["phaseStatus"] = self.status
        if self.end is not None:
            shape["endTime"] = self.end
            shape["durationInSeconds"] = int(self.end - self.start)
        if self.contexts:
            shape["contexts"] = [{"statusCode": code, "message": message}
                                 for code, message in self.contexts]
        elif self.end is not None:
            shape["contexts"] = [{"statusCode": "", "message": ""}]
        return shape


@dataclass
class BuildRecord:
    """Everything ``BatchGetBuilds`` reports about one build; mutated only through methods."""

    build_id: str
    arn: str
    project: str
    region: str
    number: int
    initiator: str
    source_version: str | None
    source: dict[str, Any]
    environment: dict[str, Any]
    service_role: str
    timeout_minutes: int
    queued_timeout_minutes: int
    log_group: str | None
    log_stream: str | None
    logs_arn: str | None
    start: float = field(default_factory=time.time)
    end: float | None = None
    status: str = IN_PROGRESS
    current_phase: str = "SUBMITTED"
    resolved_source_version: str | None = None
    artifacts_location: str | None = None
    phases: list[Phase] = field(default_factory=list)
    exported: list[tuple[str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not self.phases:
            self.phases.append(Phase("SUBMITTED", self.start))

    @property
    def uuid(self) -> str:
        return self.build_id.split(":", 1)[1]

    @property
    def complete(self) -> bool:
        with self.lock:
            return self.end is not None

    def enter(self, phase_type: str) -> None:
        """Close the current phase as SUCCEEDED if still open, then open ``phase_type``."""
        now = time.time()
        with self.lock:
            if self.phases and self.phases[-1].end is None:
                last = self.phases[-1]
                last.end, last.status = now, last.status or SUCCEEDED
            self.phases.append(Phase(phase_type, now))
            self.current_phase = phase_type

    def finish_phase(self, status: str, contexts: list[tuple[str, str]] | None = None) -> None:
        with self.lock:
            phase = self.phases[-1]
            if phase.end is not None:
                return
            phase.end, phase.status = time.time(), status
            phase.contexts = list(contexts or [])

    def set_resolved_source_version(self, version: str | None) -> None:
        with self.lock:
            self.resolved_source_version = version

    def set_artifacts_location(self, location: str) -> None:
        with self.lock:
            self.artifacts_location = location

    def set_exported(self, exported: list[tuple[str, str | None]]) -> None:
        with self.lock:
            self.exported = list(exported)

    def complete_with(self, status: str) -> None:
        """Mark the build done: the COMPLETED phase opens and never closes, as in CodeBuild."""
        now = time.time()
        with self.lock:
            if self.phases and self.phases[-1].end is None:
                last = self.phases[-1]
                last.end, last.status = now, last.status or SUCCEEDED
            self.phases.append(Phase("COMPLETED", now))
            self.current_phase = "COMPLETED"
            self.status, self.end = status, now

    def to_api(self) -> dict[str, Any]:
        with self.lock:
            build: dict[str, Any] = {
                "id": self.build_id,
                "arn": self.arn,
                "buildNumber": self.number,
                "startTime": self.start,
                "currentPhase": self.current_phase,
                "buildStatus": self.status,
                "projectName": self.project,
                "phases": [phase.to_api() for phase in self.phases],
                "source": dict(self.source),
                "secondarySources": [],
                "secondarySourceVersions": [],
                "artifacts": ({"location": self.artifacts_location}
                              if self.artifacts_location else {}),
                "secondaryArtifacts": [],
                "cache": {"type": "NO_CACHE"},
                "environment": dict(self.environment),
                "serviceRole": self.service_role,
                "logs": self._logs(),
                "timeoutInMinutes": self.timeout_minutes,
                "queuedTimeoutInMinutes": self.queued_timeout_minutes,
                "buildComplete": self.end is not None,
                "initiator": self.initiator,
            }
            if self.end is not None:
                build["endTime"] = self.end
            if self.source_version:
                build["sourceVersion"] = self.source_version
            if self.resolved_source_version:
                build["resolvedSourceVersion"] = self.resolved_source_version
            if self.exported:
                build["exportedEnvironmentVariables"] = [
                    {"name": name} if value is None else {"name": name, "value": value}
                    for name, value in self.exported
                ]
            return build

    def _logs(self) -> dict[str, Any]:
        if self.log_group is None or self.log_stream is None:
            return {"cloudWatchLogs": {"status": "DISABLED"}}
        return {
            "groupName": self.log_group,
            "streamName": self.log_stream,
            "deepLink": (f"https://console.aws.amazon.com/cloudwatch/home?region={self.region}"
                         f"#logEvent:group={self.log_group};stream={self.log_stream}"),
            "cloudWatchLogsArn": self.logs_arn,
            "cloudWatchLogs": {"status": "ENABLED", "groupName": self.log_group},
            "s3Logs": {"status": "DISABLED"},
        }
