"""Click options shared by several commands: the config file, the output format, the CI context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

FORMAT_CHOICE = click.Choice(["text", "json", "markdown"])
EVENT_CHOICE = click.Choice(
    ["push", "pull_request", "workflow_dispatch", "schedule", "pull_request_target"]
)


def config_option(f: F) -> F:
    return click.option(
        "--config", "config_path", default="lmi-delivery.yml", show_default=True,
        type=click.Path(dir_okay=True, path_type=str),
        help="The lmi-delivery configuration file; its directory is the repository root.",
    )(f)


def format_option(f: F) -> F:
    return click.option("--format", "fmt", type=FORMAT_CHOICE, default="text",
                        show_default=True, help="Output format.")(f)


def context_options(f: F) -> F:
    """The CI context flags; each overrides what the GitHub or CodeBuild environment says."""
    options = [
        click.option("--event", type=EVENT_CHOICE,
                     help="Event to plan for. Default: the CI's event, else push."),
        click.option("--ref", help="Branch or ref the event ran on (e.g. dev or refs/heads/dev)."),
        click.option("--base-ref", help="For pull requests: the branch the PR targets."),
        click.option("--sha", help="Commit the plan is for."),
        click.option("--event-file", type=click.Path(dir_okay=True),
                     help="A GitHub event payload (JSON) to read the context from."),
    ]
    for option in reversed(options):
        f = option(f)
    return f
