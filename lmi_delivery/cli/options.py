"""Click options shared by several commands: the config file, the output format, the CI context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from lmi_delivery.plan import context

F = TypeVar("F", bound=Callable[..., Any])

FORMAT_CHOICE = click.Choice(["text", "json", "markdown"])


def event_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--event``: any GitHub event name (``push``, ``merge_group``, ``workflow_run``, ...), not
    a fixed list: the stage policy says what each does ("nothing", with the reason, for most)."""
    if value is not None and not context.EVENT_NAME.fullmatch(value):
        raise click.BadParameter(
            f"{value!r} is not a GitHub event name ({context.EVENT_NAME_RULE})", ctx, param)
    return value


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
    """The CI context flags: each overrides what a CodeBuild or local environment says; under
    GitHub Actions each may only agree with GitHub's report of the event (else exit 2)."""
    options = [
        click.option("--event", callback=event_name, metavar="EVENT",
                     help="GitHub event to plan for, any event name (push, pull_request, "
                          "merge_group, workflow_run, ...). Default: the CI's event; with "
                          "--event-file, the event its payload's shape shows; else push. Under "
                          "GitHub Actions it may not contradict GITHUB_EVENT_NAME (nor --ref, "
                          "--sha, --base-ref what GitHub reported)."),
        click.option("--ref", help="Branch or ref the event ran on (e.g. dev or refs/heads/dev)."),
        click.option("--base-ref",
                     help="For pull requests and merge groups: the branch they target."),
        click.option("--sha", help="Commit the plan is for."),
        click.option("--event-file", type=click.Path(dir_okay=True),
                     help="A GitHub event payload (JSON) to read the context from; without "
                          "--event, its shape says which event it is (exit 2 when it does "
                          "not)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f
