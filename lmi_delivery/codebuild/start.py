"""Starting builds: one ``StartBuild`` call per request, reported the moment it returns."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from lmi_delivery.aws.errors import translated
from lmi_delivery.codebuild.model import BuildRequest, ConsoleLinks, StartedBuild
from lmi_delivery.codebuild.variables import Variable, VariableType

if TYPE_CHECKING:
    from mypy_boto3_codebuild import CodeBuildClient

    from lmi_delivery.codebuild.reporting import Reporter
    from lmi_delivery.plan.steps import StartBuild


def start_build(client: CodeBuildClient, request: BuildRequest, *,
                reporter: Reporter | None = None,
                links: ConsoleLinks | None = None) -> StartedBuild:
    """Start one build; tell ``reporter`` its id and log link before returning. A refusal is
    an :class:`~lmi_delivery.errors.AwsError`: the executor fails that one environment's stage."""
    with translated(project=request.project):
        answer = client.start_build(**request.to_api())
    build = answer["build"]
    build_id = build["id"]
    project = build.get("projectName") or request.project
    links = links or ConsoleLinks.for_client(client)
    started = StartedBuild(build_id, project, links.log_url(project, build_id),
                           build.get("buildNumber"))
    if reporter is not None:
        reporter.build_started(started)
    return started


def start_builds(client: CodeBuildClient, requests: Iterable[BuildRequest], *,
                 reporter: Reporter | None = None, links: ConsoleLinks | None = None,
                 on_started: Callable[[StartedBuild], Any] | None = None,
                 ) -> list[StartedBuild]:
    """Start each request in turn; ``on_started`` sees each build as soon as it exists
    (a cancellation registers it there, so that a signal between two starts stops it)."""
    started: list[StartedBuild] = []
    for request in requests:
        build = start_build(client, request, reporter=reporter, links=links)
        started.append(build)
        if on_started is not None:
            on_started(build)
    return started


def request_from_step(step: StartBuild, *, buildspec_override: str | None = None,
                      ) -> BuildRequest:
    """The :class:`BuildRequest` of a delivery plan's ``start-build`` step."""
    return BuildRequest(
        project=step.project,
        source_version=step.source_version,
        # Variable checks the type against CodeBuild's three.
        variables=tuple(Variable(v.name, v.value, cast(VariableType, v.type))
                        for v in step.environment_variables),
        timeout_minutes=step.timeout_minutes,
        buildspec=buildspec_override,
    )

