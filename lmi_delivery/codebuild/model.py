"""The values the CodeBuild orchestration passes around: requests, started builds, results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from lmi_delivery.codebuild.variables import Variable, check_unique
from lmi_delivery.errors import InputError

IN_PROGRESS = "IN_PROGRESS"
SUCCEEDED = "SUCCEEDED"
FAILED_STATUSES = frozenset({"FAILED", "FAULT", "TIMED_OUT", "STOPPED"})
TIMEOUT_RANGE = (5, 2160)
QUEUED_TIMEOUT_RANGE = (5, 480)
SHORT_ID_LENGTH = 8


@dataclass(frozen=True)
class BuildRequest:
    """One ``StartBuild`` call: project, commit, variables, timeouts, optional buildspec."""

    project: str
    source_version: str | None = None
    variables: tuple[Variable, ...] = ()
    timeout_minutes: int | None = None
    queued_timeout_minutes: int | None = None
    buildspec: str | None = None

    def __post_init__(self) -> None:
        if not self.project:
            raise InputError("a CodeBuild project name is required")
        object.__setattr__(self, "variables", check_unique(self.variables))
        _check_range("timeout", self.timeout_minutes, TIMEOUT_RANGE)
        _check_range("queued timeout", self.queued_timeout_minutes, QUEUED_TIMEOUT_RANGE)

    def to_api(self) -> dict[str, Any]:
        """The keyword arguments of ``StartBuild``."""
        kwargs: dict[str, Any] = {"projectName": self.project}
        if self.source_version:
            kwargs["sourceVersion"] = self.source_version
        if self.variables:
            kwargs["environmentVariablesOverride"] = [v.to_api() for v in self.variables]
        if self.timeout_minutes is not None:
            kwargs["timeoutInMinutesOverride"] = self.timeout_minutes
        if self.queued_timeout_minutes is not None:
            kwargs["queuedTimeoutInMinutesOverride"] = self.queued_timeout_minutes
        if self.buildspec:
            kwargs["buildspecOverride"] = self.buildspec
        return kwargs


def _check_range(what: str, value: int | None, bounds: tuple[int, int]) -> None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        raise InputError(f"build {what} must be {bounds[0]} to {bounds[1]} minutes, "
                         f"not {value}")


@dataclass(frozen=True)
class ConsoleLinks:
    """Where a person reads a build's log: the AWS console, or the endpoint's equivalent."""

    region: str
    endpoint_url: str | None = None
    """Set for a non-AWS endpoint (the sandbox); links then point at it."""

    @classmethod
    def for_client(cls, client: Any) -> ConsoleLinks:
        """Links for a boto3 client: AWS's console unless its endpoint is somewhere else."""
        meta = client.meta
        endpoint = str(meta.endpoint_url or "")
        host = urlsplit(endpoint).hostname or ""
        aws = host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))
        return cls(str(meta.region_name), None if aws or not endpoint else endpoint)

    def log_url(self, project: str, build_id: str) -> str:
        path = (f"codesuite/codebuild/projects/{quote(project, safe='')}/build/"
                f"{quote(build_id, safe='')}/log")
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/_sandbox/{path}?region={self.region}"
        return f"https://{self.region}.console.aws.amazon.com/{path}?region={self.region}"


@dataclass(frozen=True)
class StartedBuild:
    """A build we know the id of: just started, or picked up again by id."""

    id: str
    project: str
    log_url: str = ""
    number: int | None = None

    @classmethod
    def from_id(cls, build_id: str, links: ConsoleLinks | None = None) -> StartedBuild:
        project, sep, rest = build_id.partition(":")
        if not sep or not project or not rest:
            raise InputError(f"not a CodeBuild build id (PROJECT:UUID): {build_id!r}")
        return cls(build_id, project, links.log_url(project, build_id) if links else "")

    @property
    def short(self) -> str:
        """``project:1a2b3c4d``: the prefix of each of its log lines."""
        return f"{self.project}:{self.id.partition(':')[2][:SHORT_ID_LENGTH]}"


@dataclass(frozen=True)
class BuildResult:
    """How a build ended, with what a person needs to see when it failed."""

    build: StartedBuild
    status: str
    phase: str | None = None
    """The failing phase (``BUILD``), when the build did not succeed."""
    message: str = ""
    """The failing phase's ``contexts`` (``CODE: message``)."""
    tail: tuple[str, ...] = ()
    """The build's last log lines (50 by default)."""
    end_time: float | None = None
    """``endTime`` as CodeBuild reports it (epoch seconds)."""
    noticed_at: float | None = None
    """When the poller noticed the end (the poller's clock)."""
    exported: Mapping[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    def summary(self) -> str:
        """One line: ``app:1a2b3c4d FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: ...``."""
        return f"{self.build.short} {self.outcome()}"

    def outcome(self) -> str:
        """``FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: ...`` (or ``SUCCEEDED``)."""
        text = self.status
        if self.phase:
            text += f" in phase {self.phase}"
        if self.message:
            text += f": {self.message}"
        return text
