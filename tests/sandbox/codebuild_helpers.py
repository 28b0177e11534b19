"""Test helpers that drive the sandbox's CodeBuild through the AWS API, as a user would."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/codebuild"
ENVIRONMENT = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
               "computeType": "BUILD_GENERAL1_SMALL"}


def make_project(codebuild: Any, source: Path, buildspec: str, *, name: str = "app",
                 artifacts: dict[str, Any] | None = None) -> str:
    codebuild.create_project(
        name=name,
        source={"type": "NO_SOURCE", "location": str(source), "buildspec": buildspec},
        artifacts=artifacts or {"type": "NO_ARTIFACTS"},
        environment=ENVIRONMENT, serviceRole=ROLE)
    return name


def run(codebuild: Any, project: str = "app", timeout: float = 30.0,
        **start: Any) -> dict[str, Any]:
    """Start a build and wait until it is complete; return its ``Build``."""
    build_id = codebuild.start_build(projectName=project, **start)["build"]["id"]
    deadline = time.monotonic() + timeout
    while True:
        build: dict[str, Any] = codebuild.batch_get_builds(ids=[build_id])["builds"][0]
        if build["buildComplete"]:
            return build
        assert time.monotonic() < deadline, f"build still {build['currentPhase']}"
        time.sleep(0.05)


def log_lines(logs: Any, build: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    token: str | None = None
    while True:
        page = logs.get_log_events(logGroupName=build["logs"]["groupName"],
                                   logStreamName=build["logs"]["streamName"], startFromHead=True,
                                   **({"nextToken": token} if token else {}))
        lines += [event["message"].rstrip("\n") for event in page["events"]]
        if page.get("nextForwardToken") in (None, token):
            return lines
        token = page["nextForwardToken"]


def output(logs: Any, build: dict[str, Any]) -> list[str]:
    """The lines the commands printed (without CodeBuild's ``[Container]`` lines)."""
    return [line for line in log_lines(logs, build) if not line.startswith("[Container]")]


def phases(build: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {phase["phaseType"]: phase for phase in build["phases"]}


def variables(**values: str) -> list[dict[str, str]]:
    return [{"name": name, "value": value, "type": "PLAINTEXT"} for name, value in values.items()]
