"""The CI context: which event, on which ref, for which commit, read once at the edge.

GitHub Actions (``GITHUB_*`` variables and the event payload file), CodeBuild (``CODEBUILD_*``)
and command-line flags for local runs all end up in one :class:`CiContext` value. Nothing below
the CLI reads the environment; it receives this value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from lmi_delivery.errors import ConfigError, InputError

Source = Literal["github", "codebuild", "local"]

#: Events whose code comes from a pull request. None of them may ever reach the apply stage.
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target", "pull_request_review",
                                 "pull_request_review_comment", "merge_group"})
KNOWN_EVENTS = ("push", "pull_request", "workflow_dispatch", "schedule", "pull_request_target")

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
class CiContext:
    source: Source
    event: str
    ref: str | None = None
    """The ref the event ran on (``refs/heads/dev``, ``refs/tags/v1``, ``refs/pull/7/merge``)."""
    base_ref: str | None = None
    """For pull requests: the branch the pull request targets."""
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


def read_event_file(path: str | Path) -> dict[str, Any]:
    """Read a GitHub event payload; a bad file is an input error pointing at it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ConfigError.at(str(p), "is a directory, expected a GitHub event payload (JSON)",
                             line=1, column=1) from None
    except FileNotFoundError:
        raise InputError(f"{p}: event file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError.at(str(p), f"not UTF-8 ({exc.reason})", line=1, column=1) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError.at(str(p), f"invalid JSON: {exc.msg}", line=exc.lineno,
                             column=exc.colno) from None
    if not isinstance(data, dict):
        raise ConfigError.at(str(p), "expected a JSON object (a GitHub event payload)",
                             line=1, column=1)
    return data


def _from_payload(event: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a GitHub event payload says about ref, base ref, commits and the pull request."""
    found: dict[str, Any] = {}
    pr = payload.get("pull_request")
    if isinstance(pr, Mapping):
        base, head = pr.get("base"), pr.get("head")
        if isinstance(base, Mapping) and isinstance(base.get("ref"), str):
            found["base_ref"] = base["ref"]
        if isinstance(head, Mapping) and isinstance(head.get("sha"), str):
            found["head_sha"] = head["sha"]
        if isinstance(pr.get("number"), int):
            found["pr_number"] = pr["number"]
            found["ref"] = f"refs/pull/{pr['number']}/merge"
    if isinstance(payload.get("ref"), str):
        found["ref"] = payload["ref"]
    if isinstance(payload.get("after"), str):
        found["sha"] = payload["after"]
    merge_group = payload.get("merge_group")
    if isinstance(merge_group, Mapping):
        if isinstance(merge_group.get("base_ref"), str):
            found["base_ref"] = branch_of(merge_group["base_ref"]) or merge_group["base_ref"]
        if isinstance(merge_group.get("head_sha"), str):
            found["sha"] = merge_group["head_sha"]
    return found


def from_github(environ: Mapping[str, str]) -> CiContext:
    event = environ.get("GITHUB_EVENT_NAME", "")
    payload: dict[str, Any] = {}
    if environ.get("GITHUB_EVENT_PATH"):
        payload = read_event_file(environ["GITHUB_EVENT_PATH"])
    found = _from_payload(event, payload)
    attempt = environ.get("GITHUB_RUN_ATTEMPT")
    return CiContext(
        source="github",
        event=event,
        ref=environ.get("GITHUB_REF") or found.get("ref"),
        base_ref=environ.get("GITHUB_BASE_REF") or found.get("base_ref"),
        sha=environ.get("GITHUB_SHA") or found.get("sha"),
        head_sha=found.get("head_sha"),
        actor=environ.get("GITHUB_ACTOR"),
        repository=environ.get("GITHUB_REPOSITORY"),
        run_id=environ.get("GITHUB_RUN_ID"),
        run_attempt=int(attempt) if attempt and attempt.isdigit() else None,
        pr_number=found.get("pr_number"),
        payload=payload,
    )


def from_codebuild(environ: Mapping[str, str]) -> CiContext:
    webhook = environ.get("CODEBUILD_WEBHOOK_EVENT", "")
    event = _CODEBUILD_WEBHOOK_EVENTS.get(webhook, "")
    trigger = environ.get("CODEBUILD_WEBHOOK_TRIGGER", "")
    pr_number = int(trigger[3:]) if trigger.startswith("pr/") and trigger[3:].isdigit() else None
    return CiContext(
        source="codebuild",
        event=event or "codebuild",
        ref=environ.get("CODEBUILD_WEBHOOK_HEAD_REF") or None,
        base_ref=branch_of(environ.get("CODEBUILD_WEBHOOK_BASE_REF")) or None,
        sha=environ.get("CODEBUILD_RESOLVED_SOURCE_VERSION")
        or environ.get("CODEBUILD_SOURCE_VERSION") or None,
        actor=environ.get("CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID") or None,
        run_id=environ.get("CODEBUILD_BUILD_ID") or None,
        pr_number=pr_number,
    )


@dataclass(frozen=True)
class ContextFlags:
    """Context given on the command line; every field overrides what the environment says."""

    event: str | None = None
    ref: str | None = None
    base_ref: str | None = None
    sha: str | None = None
    event_file: str | None = None


def resolve(environ: Mapping[str, str], flags: ContextFlags, *,
            default_branch: str | None = None) -> CiContext:
    """The context of this run: flags over GitHub over CodeBuild over local defaults.

    ``default_branch`` is the branch assumed for a local run that names no ref (the selected
    environment's branch), so that ``lmi-delivery plan --env dev`` shows a deploy of dev.
    """
    if environ.get("GITHUB_ACTIONS") == "true":
        context = from_github(environ)
    elif environ.get("CODEBUILD_BUILD_ID"):
        context = from_codebuild(environ)
    else:
        context = CiContext(source="local", event="")
    if flags.event_file:
        payload = read_event_file(flags.event_file)
        found = _from_payload(flags.event or context.event, payload)
        context = replace(context, payload=payload, **{
            k: v for k, v in found.items() if k in {"ref", "base_ref", "sha", "head_sha",
                                                    "pr_number"}})
    ref = flags.ref
    if ref and not ref.startswith("refs/"):
        ref = f"refs/heads/{ref}"
    context = replace(context, event=flags.event or context.event, ref=ref or context.ref,
                      base_ref=flags.base_ref or context.base_ref, sha=flags.sha or context.sha)
    assumed: list[str] = []
    if not context.event:
        context = replace(context, event="push")
        assumed.append("event push")
    if not context.ref and not context.is_pull_request and default_branch:
        context = replace(context, ref=f"refs/heads/{default_branch}")
        assumed.append(f"ref refs/heads/{default_branch}")
    if context.is_pull_request and not context.base_ref and context.payload == {} and \
            default_branch and context.source == "local":
        context = replace(context, base_ref=default_branch)
        assumed.append(f"base ref {default_branch}")
    if not context.sha:
        assumed.append("commit unknown")
    return replace(context, assumed=tuple(assumed))
