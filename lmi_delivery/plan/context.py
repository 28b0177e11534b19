"""The CI context: which event, on which ref, for which commit, as one value.

:class:`CiContext` is what everything below the CLI receives instead of the environment; the
predicates here say what kind of event it is. Reading it from GitHub, CodeBuild or flags is
:mod:`lmi_delivery.plan.events`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lmi_delivery.errors import UsageError

Source = Literal["github", "codebuild", "local"]

#: Events whose code comes from a pull request. None of them may ever reach the apply stage.
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target", "pull_request_review",
                                 "pull_request_review_comment", "merge_group"})

#: What a GitHub event name looks like (``push``, ``merge_group``, ``workflow_run``, ...).
#: Lower-case letters and '_', and digits after the first letter (``projects_v2_item``).
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
EVENT_NAME_RULE = ("lower-case letters, digits and '_', e.g. push, pull_request, merge_group, "
                   "workflow_run")

#: The commit id GitHub gives a ref that does not exist (before a create, after a delete).
NULL_SHA = "0" * 40

_CODEBUILD_WEBHOOK_EVENTS = {
    "PUSH": "push",
    "PULL_REQUEST_CREATED": "pull_request",
    "PULL_REQUEST_UPDATED": "pull_request",
    "PULL_REQUEST_REOPENED": "pull_request",
    "PULL_REQUEST_MERGED": "pull_request",
    "PULL_REQUEST_CLOSED": "pull_request",
}


def is_pull_request_event(event: str) -> bool:
    return event in PULL_REQUEST_EVENTS or event.startswith("pull_request")


def is_null_sha(sha: str | None) -> bool:
    """True for GitHub's all-zero commit id (of any length: some tools shorten it)."""
    return bool(sha) and set(sha or "") == {"0"}


def check_event_name(event: str) -> str:
    """``event`` when it is a plausible GitHub event name, else a usage error."""
    if not EVENT_NAME.fullmatch(event):
        raise UsageError(f"--event {event!r} is not a GitHub event name ({EVENT_NAME_RULE})")
    return event


def branch_of(ref: str | None) -> str | None:
    """``refs/heads/dev`` → ``dev``; a bare name stays itself; tags and other refs → None."""
    if not ref:
        return None
    if ref.startswith("refs/heads/"):
        return ref.removeprefix("refs/heads/")
    if ref.startswith("refs/"):
        return None
    return ref


@dataclass(frozen=True)
class UpstreamRun:
    """What a ``workflow_run`` event says about the run it follows (``workflow_run.*``)."""

    conclusion: str | None = None
    """``success``, ``failure``, ...; ``None`` while the run is requested or in progress."""
    event: str | None = None
    """The event that triggered the upstream run (``push``, ``pull_request``, ...)."""
    head_branch: str | None = None
    head_sha: str | None = None
    head_repository_id: int | None = None
    """``workflow_run.head_repository.id``: where the upstream run's code comes from."""
    repository_id: int | None = None
    """``repository.id``: the repository this workflow runs in."""
    head_repository: str | None = None
    """``workflow_run.head_repository.full_name``, to name a fork."""

    @property
    def same_repository(self) -> bool:
        """True only when both ids are known and equal: a fork's run, or an unknown one, is not."""
        return self.head_repository_id is not None and \
            self.head_repository_id == self.repository_id


@dataclass(frozen=True)
class CiContext:
    source: Source
    event: str
    ref: str | None = None
    """The ref the event ran on (``refs/heads/dev``, ``refs/tags/v1``, ``refs/pull/7/merge``)."""
    base_ref: str | None = None
    """For pull requests and merge groups: the branch they target."""
    sha: str | None = None
    head_sha: str | None = None
    """For pull requests: the head commit of the pull request (``sha`` is the merge commit)."""
    actor: str | None = None
    repository: str | None = None
    run_id: str | None = None
    run_attempt: int | None = None
    pr_number: int | None = None
    assumed: tuple[str, ...] = ()
    """What was not given and had to be assumed (local runs), to say so in the output."""
    deleted: bool = False
    """A push that deleted its ref (``"deleted": true`` or an all-zero ``after``)."""
    workflow_run: UpstreamRun | None = None
    """For ``workflow_run`` events: the run this one follows."""
    payload: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def branch(self) -> str | None:
        return branch_of(self.ref)

    @property
    def is_pull_request(self) -> bool:
        return is_pull_request_event(self.event)

    @property
    def is_tag(self) -> bool:
        return bool(self.ref and self.ref.startswith("refs/tags/"))

    @property
    def commit(self) -> str | None:
        """The commit a plan is made for: the PR head for pull requests, else ``sha``."""
        return self.head_sha or self.sha

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "event": self.event,
            "ref": self.ref,
            "base_ref": self.base_ref,
            "sha": self.sha,
            "head_sha": self.head_sha,
            "actor": self.actor,
            "repository": self.repository,
            "run_id": self.run_id,
            "run_attempt": self.run_attempt,
            "pr_number": self.pr_number,
            "assumed": list(self.assumed),
        }
