"""A CodeBuild that really runs builds, on this machine, for the sandbox.

:class:`CodeBuildExtension` answers the build operations of CodeBuild's JSON API
(``StartBuild``, ``BatchGetBuilds``, ``StopBuild``, ``ListBuilds``, ``ListBuildsForProject``,
``RetryBuild``); projects stay moto's (``CreateProject``, ``BatchGetProjects``, ...), and are read
back through the sandbox's own endpoint. What moto lacks of them, :mod:`.projects` adds:
``UpdateProject``, and ``concurrentBuildLimit`` (a ``StartBuild`` over it fails with
``AccountLimitExceededException``, as in CodeBuild).

**Project source convention.** A project's ``source`` is ``{"type": "NO_SOURCE", "location":
"/absolute/path/on/this/machine", "buildspec": ...}`` (any type moto accepts works; the location
may also be written ``file:///absolute/path``; ``sourceLocationOverride`` replaces it). Each build
gets a fresh working copy under the sandbox's work directory: the commit ``sourceVersion`` names
when the location is a git repository, else a copy of the directory without ``.git``,
``.venv*`` and ``.terraform``. ``buildspec`` (or ``buildspecOverride``) is inline YAML or a path
inside the source; empty means ``buildspec.yml``.

**Sandbox-only timeout.** A ``PLAINTEXT`` variable ``LMI_SANDBOX_TIMEOUT_SECONDS`` (in the project
or in ``environmentVariablesOverride``) sets the build's timeout in seconds, below CodeBuild's
five-minute minimum.

Commands see ``AWS_ENDPOINT_URL`` (the sandbox), the caller's region, credentials of an STS
session of the project's service role (:mod:`.role`; the caller's key when the sandbox has no
such role), a project source mapped through ``SandboxOptions.repositories``, the
``CODEBUILD_*`` variables, and the tools of the build image (:mod:`.build_image`): a ``PATH``
that finds ``python3`` (this interpreter's base installation, outside its virtualenv), ``aws``
and Terraform 1.12.2 (the embedded one when no such binary is installed), but no
``lmi-delivery``: builds install the orchestrator's wheel, as real builds do, with pip's index
set to a local wheelhouse of lmi-delivery's locked dependencies, and a cache
(``LMI_DELIVERY_CACHE_DIR``) the builds of one sandbox share.
Shell variables (exported or not), ``cd`` and, with bash, functions persist across commands
and phases (:mod:`.build_process`); ``exported-variables`` are read when the command phases end
(after ``POST_BUILD``), as CodeBuild freezes them. Output streams live into
CloudWatch Logs, ``/aws/codebuild/<project>`` / ``<uuid>``, one event per line ending in ``\n``.
Builds run concurrently, one thread each, every build's processes in a process group of its own.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.codebuild import env as build_env
from lmi_delivery.sandbox.codebuild import image as build_image
from lmi_delivery.sandbox.codebuild import projects
from lmi_delivery.sandbox.codebuild.image import BuildImage
from lmi_delivery.sandbox.codebuild.model import IN_PROGRESS
from lmi_delivery.sandbox.codebuild.role import RoleRefused, service_role_session
from lmi_delivery.sandbox.codebuild.run import PhaseRunner
from lmi_delivery.sandbox.codebuild.start import (
    Caller,
    InvalidInput,
    SandboxBuildServices,
    plan_build,
)
from lmi_delivery.sandbox.options import SandboxOptions
from lmi_delivery.sandbox.protocol import INTERNAL_HEADER

if TYPE_CHECKING:
    from mypy_boto3_codebuild import CodeBuildClient

TARGET_PREFIX = "CodeBuild_20161006."
STOP_WAIT_SECONDS = 5.0
MAX_IDS = 100
PAGE_SIZE = 100
DEFAULT_ACCESS_KEY = "testing"

_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/")


class SandboxLike(Protocol):
    """What the extension needs of :class:`~lmi_delivery.sandbox.server.Sandbox`."""

    @property
    def endpoint_url(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def workdir(self) -> Path: ...

    @property
    def options(self) -> SandboxOptions: ...


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Operation = Callable[[Caller, dict[str, Any]], dict[str, Any]]


class CodeBuildExtension:
    """Runs CodeBuild builds for a sandbox; see the module documentation."""

    def __init__(self, sandbox: SandboxLike, *, environ: Mapping[str, str] | None = None) -> None:
        self._sandbox = sandbox
        self._environ = dict(os.environ if environ is None else environ)
        self._lock = threading.Lock()
        self._builds: dict[str, PhaseRunner] = {}
        self._requests: dict[str, dict[str, Any]] = {}
        self._numbers: dict[tuple[str, str], int] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._image_lock = threading.Lock()
        self._image: BuildImage | None = None
        self._operations: dict[str, Operation] = {
            "StartBuild": self._start_build,
            "BatchGetBuilds": self._batch_get_builds,
            "StopBuild": self._stop_build,
            "ListBuilds": self._list_builds,
            "ListBuildsForProject": self._list_builds_for_project,
            "RetryBuild": self._retry_build,
            "CreateProject": self._create_project,
            "UpdateProject": self._update_project,
        }

    def handle(self, request: Request) -> Response | None:
        target = request.headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX):
            return None
        name = target.removeprefix(TARGET_PREFIX)
        operation = self._operations.get(name)
        if operation is None or (name == "CreateProject"
                                 and request.headers.get(INTERNAL_HEADER) == "1"):
            return None  # moto's (the extension's own CreateProject goes to moto this way)
        try:
            body = json.loads(request.get_data(cache=True) or b"{}")
            if not isinstance(body, dict):
                raise ApiError("InvalidInputException", "Request body must be a JSON object")
            return _respond(200, operation(self._caller(request), body))
        except ValueError:
            return _respond(400, {"__type": "InvalidInputException",
                                  "message": "Could not parse request body into json"})
        except ApiError as error:
            return _respond(400, {"__type": error.code, "message": error.message})

    def close(self) -> None:
        """Stop every running build and wait for it to end."""
        with self._lock:
            runners = list(self._builds.values())
        for runner in runners:
            runner.stop()
        for runner in runners:
            runner.wait(STOP_WAIT_SECONDS)

    def reset(self) -> None:
        """Forget every build (after stopping those still running)."""
        self.close()
        with self._lock:
            self._builds.clear()
            self._requests.clear()
            self._numbers.clear()

    # -- operations -------------------------------------------------------------------------

    def _start_build(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        name = _required(body, "projectName")
        project = self._project(caller, name)
        if project is None:
            raise ApiError("ResourceNotFoundException", f"Project cannot be found: {name}")
        options = self._sandbox.options
        source = dict(project.get("source") or {})
        if str(source.get("location")) in options.repositories:
            source["location"] = options.repositories[str(source["location"])]
            project = {**project, "source": source}
        build_uuid = str(uuid.uuid4())
        try:
            credentials = service_role_session(
                str(project["arn"]), str(project.get("serviceRole") or ""), build_uuid,
                enforce=options.iam)
        except RoleRefused as refused:
            raise ApiError("InvalidInputException", str(refused)) from None
        with self._lock:
            key = (caller.region, str(project["name"]))
            limit = projects.limit_of(project)
            running = sum(1 for r in self._builds.values()
                          if r.record.project == project["name"] and r.record.region ==
                          caller.region and r.record.status == IN_PROGRESS)
            if limit is not None and running >= limit:
                raise ApiError("AccountLimitExceededException",
                               f"Project {name} has reached its concurrent build limit of "
                               f"{limit}: {running} build(s) running")
            self._numbers[key] = number = self._numbers.get(key, 0) + 1
        try:
            plan = plan_build(body, project, caller=caller, number=number,
                              services=self._services(caller), credentials=credentials,
                              build_uuid=build_uuid)
        except InvalidInput as error:
            raise ApiError("InvalidInputException", str(error)) from None
        runner = PhaseRunner(plan)
        with self._lock:
            self._builds[plan.record.build_id] = runner
            self._requests[plan.record.build_id] = dict(body)
        runner.start()
        return {"build": runner.record.to_api()}

    def _create_project(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        """moto creates the project; the limit it would drop is kept beside (``projects``)."""
        request = {k: v for k, v in body.items() if k != projects.LIMIT}
        try:
            created = self._client("codebuild", caller).create_project(**request)["project"]
        except ClientError as error:
            raise ApiError(str(error.response["Error"]["Code"]),
                           str(error.response["Error"].get("Message", ""))) from None
        if projects.LIMIT in body:
            self._projects(projects.set_limit, caller, str(created["name"]), body[projects.LIMIT])
        return {"project": self._projects(projects.describe, caller, str(created["name"]))}

    def _update_project(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self._projects(projects.update, caller, body)
        return answer

    def _projects(self, operation: Any, caller: Caller, *args: Any) -> Any:
        from moto.iam.models import get_account_id_from

        try:
            return operation(get_account_id_from(caller.access_key), caller.region, *args)
        except projects.ProjectError as error:
            raise ApiError(error.code, error.message) from None

    def _retry_build(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        original = self._runner(caller, _required(body, "id"))
        with self._lock:
            request = dict(self._requests[original.record.build_id])
        return self._start_build(caller, request)

    def _batch_get_builds(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        ids = body.get("ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_IDS:
            raise ApiError("InvalidInputException", f"ids must hold 1 to {MAX_IDS} build ids")
        with self._lock:
            found = {build_id: self._builds.get(build_id) for build_id in ids}
        builds = [runner.record.to_api() for runner in found.values()
                  if runner is not None and runner.record.region == caller.region]
        reported = {build["id"] for build in builds}
        missing = [build_id for build_id in dict.fromkeys(ids) if build_id not in reported]
        return {"builds": builds, "buildsNotFound": missing}

    def _stop_build(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        runner = self._runner(caller, _required(body, "id"))
        runner.stop()
        runner.wait(STOP_WAIT_SECONDS)
        return {"build": runner.record.to_api()}

    def _list_builds(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            ids = [i for i, r in self._builds.items() if r.record.region == caller.region]
        return _page(ids, body)

    def _list_builds_for_project(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        name = _required(body, "projectName")
        if self._project(caller, name) is None:
            raise ApiError("ResourceNotFoundException",
                           f"The provided project {name} does not exist")
        with self._lock:
            ids = [i for i, r in self._builds.items()
                   if r.record.region == caller.region and r.record.project == name]
        return _page(ids, body)

    # -- helpers ----------------------------------------------------------------------------

    def _runner(self, caller: Caller, build_id: str) -> PhaseRunner:
        if ":" not in build_id:
            raise ApiError("InvalidInputException", "Invalid build ID provided")
        with self._lock:
            runner = self._builds.get(build_id)
        if runner is None or runner.record.region != caller.region:
            raise ApiError("ResourceNotFoundException", f"Build {build_id} does not exist")
        return runner

    def _caller(self, request: Request) -> Caller:
        match = _CREDENTIAL.search(request.headers.get("Authorization", ""))
        if match is None:
            return Caller(DEFAULT_ACCESS_KEY, self._sandbox.region)
        return Caller(match.group(1), match.group(2))

    def _project(self, caller: Caller, name: str) -> dict[str, Any] | None:
        codebuild: CodeBuildClient = self._client("codebuild", caller)
        try:
            projects = codebuild.batch_get_projects(names=[name])["projects"]
        except ClientError:
            return None
        return dict(projects[0]) if projects else None

    def _services(self, caller: Caller) -> SandboxBuildServices:
        return SandboxBuildServices(
            endpoint_url=self._sandbox.endpoint_url,
            workdir=Path(self._sandbox.workdir) / "codebuild",
            resolver=build_env.SecretResolver(ssm=self._client("ssm", caller),
                                              secrets=self._client("secretsmanager", caller)),
            s3=self._client("s3", caller),
            logs=self._client("logs", caller),
            machine_env=self._environ,
            image=self._build_image(),
        )

    def _build_image(self) -> BuildImage:
        """The image every build runs on, made when the first build starts."""
        with self._image_lock:
            if self._image is None:
                self._image = build_image.prepare(Path(self._sandbox.workdir), self._environ)
            return self._image

    def _client(self, service: str, caller: Caller) -> Any:
        key = (service, caller.region, caller.access_key)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                session = boto3.session.Session(aws_access_key_id=caller.access_key,
                                                aws_secret_access_key="sandbox-secret-key",
                                                region_name=caller.region)
                client = session.client(
                    service,  # type: ignore[call-overload]  # one factory for four services
                    endpoint_url=self._sandbox.endpoint_url,
                    config=Config(retries={"mode": "standard", "max_attempts": 3},
                                  s3={"addressing_style": "path"}),
                )
                client.meta.events.register_first("before-sign", _mark_internal)
                self._clients[key] = client
            return client


def _mark_internal(request: Any, **_: Any) -> None:
    request.headers[INTERNAL_HEADER] = "1"


def _required(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError("InvalidInputException", f"{name} is required")
    return value


def _page(ids: list[str], body: Mapping[str, Any]) -> dict[str, Any]:
    if body.get("sortOrder", "DESCENDING") == "DESCENDING":
        ids = ids[::-1]
    try:
        start = int(body.get("nextToken") or 0)
    except ValueError:
        raise ApiError("InvalidInputException", "Invalid nextToken") from None
    answer: dict[str, Any] = {"ids": ids[start:start + PAGE_SIZE]}
    if start + PAGE_SIZE < len(ids):
        answer["nextToken"] = str(start + PAGE_SIZE)
    return answer


def _respond(status: int, body: Mapping[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/x-amz-json-1.1",
                    headers={"x-amzn-RequestId": str(uuid.uuid4())})
