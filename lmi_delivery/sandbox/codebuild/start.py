"""From a ``StartBuild`` request and its project to a :class:`~.build_runner.BuildPlan`.

Applies the overrides CodeBuild applies (source location and version, buildspec, variables,
timeout, artifacts, logs) and names the build as CodeBuild does: id ``project:uuid``, ARN
``arn:...:build/project:uuid``, log stream the uuid in ``/aws/codebuild/<project>``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lmi_delivery.sandbox.codebuild import env as build_env
from lmi_delivery.sandbox.codebuild.image import BuildImage
from lmi_delivery.sandbox.codebuild.logs import LogShipper
from lmi_delivery.sandbox.codebuild.model import BuildRecord
from lmi_delivery.sandbox.codebuild.role import BuildCredentials
from lmi_delivery.sandbox.codebuild.run import BuildPlan

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client

DEFAULT_TIMEOUT_MINUTES = 60
TIMEOUT_RANGE = (5, 2160)


class InvalidInput(Exception):
    """The request cannot start a build (CodeBuild's ``InvalidInputException``)."""


@dataclass(frozen=True)
class Caller:
    """Who asked, as the request's SigV4 credential scope tells."""

    access_key: str
    region: str


@dataclass(frozen=True)
class SandboxBuildServices:
    """The sandbox-backed clients and places a build uses."""

    endpoint_url: str
    workdir: Path
    resolver: build_env.SecretResolver
    s3: S3Client
    logs: CloudWatchLogsClient
    machine_env: Mapping[str, str]
    image: BuildImage


def plan_build(request: Mapping[str, Any], project: Mapping[str, Any], *, caller: Caller,
               number: int, services: SandboxBuildServices,
               credentials: BuildCredentials | None = None,
               build_uuid: str | None = None) -> BuildPlan:
    """The build of ``request``; its commands run with ``credentials`` (the service role's
    session) or, without, the caller's key."""
    name = str(project["name"])
    build_uuid = build_uuid or str(uuid.uuid4())
    build_id = f"{name}:{build_uuid}"
    partition_region_account = str(project["arn"]).rsplit(":project/", 1)[0]
    arn = f"{partition_region_account}:build/{build_id}"
    source = dict(project.get("source") or {})
    if request.get("sourceLocationOverride"):
        source["location"] = request["sourceLocationOverride"]
    if request.get("buildspecOverride"):
        source["buildspec"] = request["buildspecOverride"]
    source_version = request.get("sourceVersion") or project.get("sourceVersion") or None
    definitions = _merge_variables(project, request.get("environmentVariablesOverride") or [])
    environment = dict(project.get("environment") or {})
    environment["environmentVariables"] = definitions
    minutes, seconds = _timeout(request, project, definitions)
    group, stream = _log_names(request, project, name, build_uuid)
    start = time.time()
    region, account = partition_region_account.split(":")[3:5]
    record = BuildRecord(
        build_id=build_id, arn=arn, project=name, region=caller.region, number=number,
        initiator=caller.access_key, source_version=source_version, source=source,
        environment=environment, service_role=str(project.get("serviceRole") or ""),
        timeout_minutes=minutes,
        queued_timeout_minutes=int(request.get("queuedTimeoutInMinutesOverride")
                                   or project.get("queuedTimeoutInMinutes") or 480),
        log_group=group, log_stream=stream,
        logs_arn=(f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}"
                  if group else None),
        start=start,
    )
    base_env = build_env.machine_environment(services.machine_env)
    keys = credentials or BuildCredentials(caller.access_key, "sandbox-secret-key")
    base_env.update(build_env.sandbox_variables(
        endpoint_url=services.endpoint_url, region=caller.region, access_key=keys.access_key,
        secret_key=keys.secret_key, session_token=keys.session_token))
    base_env["PATH"] = services.image.path(base_env.get("PATH", ""))
    base_env.update(services.image.variables)
    codebuild_env = {
        "CODEBUILD_BUILD_ID": build_id,
        "CODEBUILD_BUILD_ARN": arn,
        "CODEBUILD_BUILD_NUMBER": str(number),
        "CODEBUILD_INITIATOR": caller.access_key,
        "CODEBUILD_START_TIME": str(int(start * 1000)),
        "CODEBUILD_BUILD_SUCCEEDING": "1",
        "CODEBUILD_BUILD_IMAGE": str(environment.get("image") or ""),
        "CODEBUILD_SOURCE_REPO_URL": str(source.get("location") or ""),
        "CODEBUILD_LOG_PATH": stream or "",
    }
    if source_version:
        codebuild_env["CODEBUILD_SOURCE_VERSION"] = source_version
    artifacts = dict(request.get("artifactsOverride") or project.get("artifacts") or {})
    return BuildPlan(
        record=record,
        workdir=services.workdir / build_uuid,
        source_location=str(source.get("location") or ""),
        source_version=source_version,
        buildspec=str(source.get("buildspec") or ""),
        definitions=definitions,
        artifacts=artifacts,
        timeout_seconds=seconds,
        base_env=base_env,
        codebuild_env=codebuild_env,
        resolver=services.resolver,
        s3=services.s3,
        logs=LogShipper(services.logs if group else None, group, stream),
        notes=services.image.notes,
    )


def _merge_variables(project: Mapping[str, Any],
                     overrides: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    project_env = project.get("environment") or {}
    for definition in [*(project_env.get("environmentVariables") or []), *overrides]:
        if not definition.get("name"):
            raise InvalidInput("Environment variable name must not be empty")
        merged[str(definition["name"])] = {
            "name": str(definition["name"]),
            "value": str(definition.get("value", "")),
            "type": str(definition.get("type") or "PLAINTEXT"),
        }
    return list(merged.values())


def _timeout(request: Mapping[str, Any], project: Mapping[str, Any],
             definitions: list[dict[str, str]]) -> tuple[int, float]:
    override = request.get("timeoutInMinutesOverride")
    if override is not None and not TIMEOUT_RANGE[0] <= int(override) <= TIMEOUT_RANGE[1]:
        raise InvalidInput(f"Build timeout out of bounds: {override} is not within "
                           f"{TIMEOUT_RANGE[0]}..{TIMEOUT_RANGE[1]} minutes")
    minutes = int(override or project.get("timeoutInMinutes") or DEFAULT_TIMEOUT_MINUTES)
    seconds = float(minutes * 60)
    for definition in definitions:
        if (definition["name"] == build_env.TIMEOUT_SECONDS_VARIABLE
                and definition["type"] == "PLAINTEXT"):
            try:
                seconds = float(definition["value"])
            except ValueError:
                raise InvalidInput(f"{build_env.TIMEOUT_SECONDS_VARIABLE} must be a number of "
                                   "seconds") from None
    return minutes, seconds


def _log_names(request: Mapping[str, Any], project: Mapping[str, Any], name: str,
               build_uuid: str) -> tuple[str | None, str | None]:
    config = (request.get("logsConfigOverride") or project.get("logsConfig") or {})
    cloudwatch = config.get("cloudWatchLogs") or {}
    if cloudwatch.get("status") == "DISABLED":
        return None, None
    group = cloudwatch.get("groupName") or f"/aws/codebuild/{name}"
    prefix = cloudwatch.get("streamName")
    return str(group), f"{prefix}/{build_uuid}" if prefix else build_uuid
