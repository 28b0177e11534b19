"""What CodeBuild keeps of a project and moto does not: ``UpdateProject`` and the concurrency limit.

moto's ``CreateProject`` drops ``concurrentBuildLimit`` and it has no ``UpdateProject``; CodeBuild
has both, and a project's limit makes ``StartBuild`` fail (``AccountLimitExceededException``)
once that many of its builds run, rather than queue them. The project itself stays moto's
(``BatchGetProjects`` answers it): this module writes the fields into moto's record of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Fields ``UpdateProject`` may change, with the request's name (all as CodeBuild names them).
UPDATABLE = ("description", "source", "secondarySources", "sourceVersion",
             "secondarySourceVersions", "artifacts", "secondaryArtifacts", "cache",
             "environment", "serviceRole", "timeoutInMinutes", "queuedTimeoutInMinutes",
             "encryptionKey", "tags", "vpcConfig", "badgeEnabled", "logsConfig",
             "concurrentBuildLimit")
LIMIT = "concurrentBuildLimit"


class ProjectError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _metadata(account: str, region: str, name: str) -> dict[str, Any]:
    from moto.codebuild.models import codebuild_backends

    project = codebuild_backends[account][region].codebuild_projects.get(name)
    if project is None:
        raise ProjectError("ResourceNotFoundException", f"Project cannot be found: {name}")
    metadata: dict[str, Any] = project.project_metadata
    return metadata


def _limit(value: Any) -> int | None:
    """The limit a request sets: ``-1`` removes it, as in CodeBuild."""
    if not isinstance(value, int) or isinstance(value, bool) or value == 0 or value < -1:
        raise ProjectError("InvalidInputException",
                           f"concurrentBuildLimit must be a positive number or -1, not {value!r}")
    return None if value == -1 else value


def set_limit(account: str, region: str, name: str, value: Any) -> None:
    """After moto created project ``name``: keep the ``concurrentBuildLimit`` it dropped."""
    limit = _limit(value)
    metadata = _metadata(account, region, name)
    if limit is None:
        metadata.pop(LIMIT, None)
    else:
        metadata[LIMIT] = limit


def describe(account: str, region: str, name: str) -> dict[str, Any]:
    """The project as ``BatchGetProjects`` answers it (times as epoch seconds)."""
    return dict(_metadata(account, region, name))


def update(account: str, region: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``UpdateProject``: the fields given replace the project's; the project as it is now."""
    from moto.core.utils import unix_time

    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError("InvalidInputException", "name is required")
    metadata = _metadata(account, region, name)
    unknown = sorted(set(body) - {"name", *UPDATABLE})
    if unknown:
        raise ProjectError("InvalidInputException",
                           f"UpdateProject does not take {', '.join(unknown)}")
    if LIMIT in body:
        _limit(body[LIMIT])  # checked before anything changes
    for key in UPDATABLE:
        if key not in body:
            continue
        if key == LIMIT:
            set_limit(account, region, name, body[key])
        elif key == "badgeEnabled":
            metadata["badge"] = {"badgeEnabled": bool(body[key])}
        else:
            metadata[key] = body[key]
    metadata["lastModifiedDate"] = unix_time()
    return {"project": dict(metadata)}


def limit_of(project: Mapping[str, Any]) -> int | None:
    value = project.get(LIMIT)
    return value if isinstance(value, int) and value > 0 else None
