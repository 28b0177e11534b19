"""What ``lmi-delivery codebuild start|wait`` do, given the services (no click, no environ)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from lmi_delivery.codebuild.cancel import cancel_on_signals
from lmi_delivery.codebuild.failure import raise_for_failures
from lmi_delivery.codebuild.model import BuildRequest, BuildResult, ConsoleLinks, StartedBuild
from lmi_delivery.codebuild.poller import wait
from lmi_delivery.codebuild.reporting import Reporter, TextReporter
from lmi_delivery.codebuild.start import start_build
from lmi_delivery.github.build_reporter import GithubReporter

if TYPE_CHECKING:
    from mypy_boto3_codebuild import CodeBuildClient
    from mypy_boto3_logs import CloudWatchLogsClient


@dataclass(frozen=True)
class CodeBuildServices:
    codebuild: CodeBuildClient
    logs: CloudWatchLogsClient | None
    links: ConsoleLinks


def services_from_environ(environ: Mapping[str, str]) -> CodeBuildServices:
    """Clients from the one client factory, configured by ``environ``."""
    from lmi_delivery.aws.clients import clients_for

    factory = clients_for(None, None, environ)  # no config: the region is AWS_REGION's
    return CodeBuildServices(factory.client("codebuild"), factory.client("logs"),
                             ConsoleLinks(factory.settings.region,
                                          factory.settings.endpoint_url))


def make_reporter(kind: str, environ: Mapping[str, str], stream: TextIO) -> Reporter:
    """``auto`` is ``github`` inside GitHub Actions (``GITHUB_ACTIONS=true``), else ``text``."""
    if kind == "auto":
        kind = "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"
    if kind == "github":
        return GithubReporter(stream, environ.get("GITHUB_OUTPUT") or None)
    return TextReporter(stream)


def start_and_wait(services: CodeBuildServices, request: BuildRequest, reporter: Reporter, *,
                   detach: bool, poll_interval: float, out: TextIO | None = None,
                   ) -> list[BuildResult]:
    """Start the build; with ``detach`` print its id to ``out`` and return at once, else
    wait for it (a signal stops it: exit 130) and raise if it failed (exit 1)."""
    with cancel_on_signals() as cancel:
        build = start_build(services.codebuild, request, reporter=reporter,
                            links=services.links)
        if detach:
            print(build.id, file=out or sys.stdout, flush=True)
            return []
        results = wait([build], codebuild_client=services.codebuild, logs_client=services.logs,
                       reporter=reporter, poll_interval=poll_interval, cancel=cancel)
    raise_for_failures(results)
    return results


def wait_for_ids(services: CodeBuildServices, build_ids: Sequence[str], reporter: Reporter, *,
                 poll_interval: float, stop_on_cancel: bool = True, **options: Any,
                 ) -> list[BuildResult]:
    """Pick builds up by id and wait for all of them; raise if any failed (exit 1)."""
    builds = [StartedBuild.from_id(i, services.links) for i in dict.fromkeys(build_ids)]
    with cancel_on_signals() as cancel:
        results = wait(builds, codebuild_client=services.codebuild, logs_client=services.logs,
                       reporter=reporter, poll_interval=poll_interval, cancel=cancel,
                       stop_on_cancel=stop_on_cancel, **options)
    raise_for_failures(results)
    return results
