"""Starting CodeBuild builds, waiting on many with one poller, streaming logs, cancelling.

Clients are handed in (build them with :func:`lmi_delivery.aws.clients.clients_for`); nothing
here reads the environment. Modules: ``variables`` (overrides, the secret rule), ``model``
(requests, builds, results, console links), ``start``, ``poller`` (with ``logs``, ``interval``),
``failure``, ``cancel``, ``reporting`` (the :class:`Reporter` protocol; GitHub's form lives in
:mod:`lmi_delivery.github.build_reporter`) and ``run`` (what the CLI's commands do). It never
writes GitHub workflow commands and never reads the environment.
"""

from __future__ import annotations

from lmi_delivery.codebuild.cancel import Cancellation, cancel_on_signals, stop_builds
from lmi_delivery.codebuild.failure import raise_for_failures
from lmi_delivery.codebuild.interval import AdaptiveInterval
from lmi_delivery.codebuild.model import BuildRequest, BuildResult, ConsoleLinks, StartedBuild
from lmi_delivery.codebuild.poller import wait
from lmi_delivery.codebuild.reporting import Reporter, TextReporter
from lmi_delivery.codebuild.start import request_from_step, start_build, start_builds
from lmi_delivery.codebuild.variables import Variable
from lmi_delivery.github.build_reporter import GithubReporter

__all__ = [
    "AdaptiveInterval",
    "BuildRequest",
    "BuildResult",
    "Cancellation",
    "ConsoleLinks",
    "GithubReporter",
    "Reporter",
    "StartedBuild",
    "TextReporter",
    "Variable",
    "cancel_on_signals",
    "raise_for_failures",
    "request_from_step",
    "start_build",
    "start_builds",
    "stop_builds",
    "wait",
]
