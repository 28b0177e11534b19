"""Projects as CodeBuild keeps them: ``UpdateProject`` and a project's concurrent build limit.

The CodeBuild user guide, "Builds in AWS CodeBuild": "If the build project has a concurrent
build limit set, builds return an error if the number of running builds reaches the concurrent
build limit for the project." The API reference of ``UpdateProject``: "To remove this limit, set
this value to -1."
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from codebuild_helpers import ENVIRONMENT, ROLE, run

from lmi_delivery.sandbox.server import Sandbox

SLOW = "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 3\n"
QUICK = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo updated\n"


@pytest.fixture
def codebuild(sandbox: Sandbox) -> Any:
    return sandbox.client("codebuild")


def create(codebuild: Any, source: Path, buildspec: str, **extra: Any) -> dict[str, Any]:
    project: dict[str, Any] = codebuild.create_project(
        name="apply", source={"type": "NO_SOURCE", "location": str(source),
                              "buildspec": buildspec},
        artifacts={"type": "NO_ARTIFACTS"}, environment=ENVIRONMENT, serviceRole=ROLE,
        **extra)["project"]
    return project


def test_the_concurrent_build_limit_is_kept_and_refuses_a_build_over_it(
        codebuild: Any, tmp_path: Path) -> None:
    created = create(codebuild, tmp_path, SLOW, concurrentBuildLimit=1)
    assert created["concurrentBuildLimit"] == 1
    assert codebuild.batch_get_projects(names=["apply"])["projects"][0][
        "concurrentBuildLimit"] == 1
    first = codebuild.start_build(projectName="apply")["build"]["id"]
    with pytest.raises(ClientError) as refused:
        codebuild.start_build(projectName="apply")
    assert refused.value.response["Error"]["Code"] == "AccountLimitExceededException"
    codebuild.stop_build(id=first)
    second = codebuild.start_build(projectName="apply")["build"]["id"]  # room again
    codebuild.stop_build(id=second)


def test_update_project_replaces_what_it_is_given_and_minus_one_lifts_the_limit(
        codebuild: Any, tmp_path: Path) -> None:
    create(codebuild, tmp_path, SLOW, concurrentBuildLimit=1, timeoutInMinutes=60)
    updated = codebuild.update_project(
        name="apply", source={"type": "NO_SOURCE", "location": str(tmp_path),
                              "buildspec": QUICK}, concurrentBuildLimit=-1)["project"]
    assert "concurrentBuildLimit" not in updated
    stored = codebuild.batch_get_projects(names=["apply"])["projects"][0]
    assert stored["source"]["buildspec"] == QUICK
    assert stored["timeoutInMinutes"] == 60  # not given: unchanged
    builds = [codebuild.start_build(projectName="apply")["build"]["id"] for _ in range(2)]
    assert len(set(builds)) == 2  # no limit any more
    assert run(codebuild, "apply")["buildStatus"] == "SUCCEEDED"  # runs the new buildspec


def test_update_project_of_a_missing_project_or_a_bad_limit_changes_nothing(
        codebuild: Any, tmp_path: Path) -> None:
    with pytest.raises(ClientError) as missing:
        codebuild.update_project(name="nope", timeoutInMinutes=10)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    create(codebuild, tmp_path, SLOW, timeoutInMinutes=60)
    with pytest.raises(ClientError) as bad:
        codebuild.update_project(name="apply", timeoutInMinutes=10, concurrentBuildLimit=0)
    assert bad.value.response["Error"]["Code"] == "InvalidInputException"
    assert codebuild.batch_get_projects(names=["apply"])["projects"][0][
        "timeoutInMinutes"] == 60
