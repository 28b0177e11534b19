"""The CI context: which event, on which ref, for which commit, read once at the edge.

GitHub Actions (``GITHUB_*`` variables and the event payload file), CodeBuild (``CODEBUILD_*``)
and command-line flags for local runs all end up in one :class:`CiContext` value. Nothing below
the CLI reads the environment; it receives this value.

Under GitHub Actions, GitHub's report of the event is the truth: a flag may repeat it, fill what
GitHub left out, but never contradict it (:class:`~lmi_delivery.errors.UsageError`, exit 2).
Elsewhere the flags override the environment, and an ``--event-file`` without ``--event`` says
its event by its shape (:func:`infer_event`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lmi_delivery.errors import ConfigError, InputError, UsageError
from lmi_delivery.plan.context import (
    _CODEBUILD_WEBHOOK_EVENTS,
    CiContext,
    UpstreamRun,
    branch_of,
    check_event_name,
    is_null_sha,
)


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


# An event's shape: (event, keys its payload always has, keys it never has). A payload is
# inferred to be an event only when exactly one shape fits; anything else is "could not tell".
_SHAPES: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = tuple(
    (event, frozenset(has.split()), frozenset(lacks.split())) for event, has, lacks in [
        ("merge_group", "merge_group", "pull_request"),
        ("workflow_run", "workflow_run workflow",
         "deployment deployment_status reviewers workflow_job_run"),
        ("workflow_job", "workflow_job", ""),
        ("workflow_dispatch", "inputs ref", "before after commits"),
        ("repository_dispatch", "client_payload branch", ""),
        ("schedule", "schedule", ""),
        ("push", "ref before after commits", "pull_request number"),
        ("create", "ref ref_type master_branch", ""),
        ("delete", "ref ref_type pusher_type", "master_branch"),
        ("pull_request", "pull_request number", "review comment thread"),
        ("pull_request_review", "pull_request review", "comment thread"),
        ("pull_request_review_comment", "pull_request comment", "review thread"),
        ("pull_request_review_thread", "pull_request thread", "review comment"),
        ("issue_comment", "comment issue", "pull_request discussion"),
        ("issues", "issue", "comment pull_request discussion"),
        ("discussion_comment", "comment discussion", "issue pull_request"),
        ("discussion", "discussion", "comment issue pull_request"),
        ("commit_comment", "comment", "issue discussion pull_request"),
        ("release", "release", ""),
        ("deployment_status", "deployment_status deployment", ""),
        ("deployment", "deployment", "deployment_status"),
        ("deployment_review", "workflow_job_run reviewers", ""),
        ("check_run", "check_run", "deployment deployment_status"),
        ("check_suite", "check_suite", ""),
        ("status", "sha state context commit", ""),
        ("code_scanning_alert", "alert commit_oid", ""),
        ("branch_protection_rule", "rule", ""),
        ("fork", "forkee", ""),
        ("star", "starred_at", ""),
        ("gollum", "pages", ""),
        ("page_build", "build id", ""),
        ("ping", "zen hook_id", ""),
        ("package", "package", ""),
        ("project_card", "project_card", ""),
        ("project_column", "project_column", ""),
        ("project", "project", "project_card project_column"),
        ("projects_v2_item", "projects_v2_item", ""),
        ("sponsorship", "sponsorship", ""),
        ("security_advisory", "security_advisory", ""),
        ("marketplace_purchase", "marketplace_purchase", ""),
        ("installation_repositories", "repositories_added repositories_removed", ""),
        ("org_block", "blocked_user", ""),
    ])


def infer_event(payload: Mapping[str, Any]) -> str | None:
    """The event a payload's shape shows, or ``None`` when it does not show exactly one.

    A guess is worse than no answer here (a ``push`` guess could deploy), so a shape counts only
    when it fits one event and no other.
    """
    given = {k for k, v in payload.items() if v is not None or k == "inputs"}
    present = set(payload)
    fits = [event for event, has, lacks in _SHAPES if has <= given and not lacks & present]
    return fits[0] if len(fits) == 1 else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if type(value) is int else None


def _upstream(payload: Mapping[str, Any]) -> UpstreamRun | None:
    run = payload.get("workflow_run")
    if not isinstance(run, Mapping):
        return None
    head_repo = run.get("head_repository")
    head_repo = head_repo if isinstance(head_repo, Mapping) else {}
    repo = payload.get("repository")
    repo = repo if isinstance(repo, Mapping) else {}
    return UpstreamRun(
        conclusion=_str(run.get("conclusion")), event=_str(run.get("event")),
        head_branch=_str(run.get("head_branch")), head_sha=_str(run.get("head_sha")),
        head_repository_id=_int(head_repo.get("id")), repository_id=_int(repo.get("id")),
        head_repository=_str(head_repo.get("full_name")))


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
        if isinstance(merge_group.get("head_ref"), str) and "ref" not in found:
            found["ref"] = merge_group["head_ref"]
    if event == "push":
        found["deleted"] = payload.get("deleted") is True or is_null_sha(_str(payload.get("after")))
    if event == "workflow_run":
        upstream = _upstream(payload)
        found["workflow_run"] = upstream
        # The run is about the upstream run's commit, not the default branch GitHub checks out.
        found["ref"] = f"refs/heads/{upstream.head_branch}" if upstream and \
            upstream.head_branch else None
        found["sha"] = upstream.head_sha if upstream else None
    return found


_PAYLOAD_FIELDS = frozenset({"ref", "base_ref", "sha", "head_sha", "pr_number", "deleted",
                             "workflow_run"})


def _github_context(environ: Mapping[str, str], event: str,
                    payload: Mapping[str, Any]) -> CiContext:
    found = _from_payload(event, payload)
    ref = environ.get("GITHUB_REF") or found.get("ref")
    sha = environ.get("GITHUB_SHA") or found.get("sha")
    if event == "workflow_run":
        # GITHUB_REF/GITHUB_SHA of a workflow_run are the default branch's, not the run's.
        ref, sha = found.get("ref"), found.get("sha")
    attempt = environ.get("GITHUB_RUN_ATTEMPT")
    return CiContext(
        source="github",
        event=event,
        ref=ref,
        base_ref=environ.get("GITHUB_BASE_REF") or found.get("base_ref"),
        sha=sha,
        head_sha=found.get("head_sha"),
        actor=environ.get("GITHUB_ACTOR"),
        repository=environ.get("GITHUB_REPOSITORY"),
        run_id=environ.get("GITHUB_RUN_ID"),
        run_attempt=int(attempt) if attempt and attempt.isdigit() else None,
        pr_number=found.get("pr_number"),
        deleted=bool(found.get("deleted")),
        workflow_run=found.get("workflow_run"),
        payload=payload,
    )


def from_github(environ: Mapping[str, str]) -> CiContext:
    payload: dict[str, Any] = {}
    if environ.get("GITHUB_EVENT_PATH"):
        payload = read_event_file(environ["GITHUB_EVENT_PATH"])
    return _github_context(environ, environ.get("GITHUB_EVENT_NAME", ""), payload)


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
    """Context given on the command line. Outside GitHub Actions every field overrides what the
    environment says; under GitHub Actions a field may only agree with GitHub's report."""

    event: str | None = None
    ref: str | None = None
    base_ref: str | None = None
    sha: str | None = None
    event_file: str | None = None


def _full_ref(ref: str | None) -> str | None:
    if ref and not ref.startswith("refs/"):
        return f"refs/heads/{ref}"
    return ref or None


def _event_of_file(path: str, payload: Mapping[str, Any]) -> str:
    event = infer_event(payload)
    if event is None:
        raise UsageError(f"{path}: the event could not be inferred from the payload's shape; "
                         "give it with --event NAME (e.g. --event push)")
    return event


def _contradiction(flag: str, given: str, reported: str) -> UsageError:
    return UsageError(f"{flag} {given} contradicts what GitHub reported ({reported}): under "
                      "GitHub Actions the context is GitHub's event; drop the flag or make it "
                      "agree")


def _sha_agrees(given: str, candidates: list[str | None]) -> bool:
    wanted = given.lower()
    return any(c and (c.lower() == wanted or (len(wanted) >= 7 and c.lower().startswith(wanted)))
               for c in candidates)


def _on_github(environ: Mapping[str, str], flags: ContextFlags) -> tuple[CiContext, list[str]]:
    """GitHub's context, with the flags checked against it and filling only what it left out."""
    assumed: list[str] = []
    reported_event = environ.get("GITHUB_EVENT_NAME", "")
    if flags.event and reported_event and flags.event != reported_event:
        raise _contradiction("--event", flags.event, f"GITHUB_EVENT_NAME={reported_event}")
    payload: Mapping[str, Any] = {}
    if environ.get("GITHUB_EVENT_PATH"):
        payload = read_event_file(environ["GITHUB_EVENT_PATH"])
    if flags.event_file:
        given = read_event_file(flags.event_file)
        if environ.get("GITHUB_EVENT_PATH") and given != payload:
            raise _contradiction("--event-file", flags.event_file,
                                 f"GITHUB_EVENT_PATH={environ['GITHUB_EVENT_PATH']} is another "
                                 "payload")
        payload = given
    event = reported_event or flags.event or ""
    if not event and flags.event_file:
        event = _event_of_file(flags.event_file, payload)
        assumed.append(f"event {event} (from the payload's shape)")
    return _agreeing_flags(environ, _github_context(environ, event, payload), flags), assumed


def _reported(environ: Mapping[str, str], context: CiContext, variable: str,
              value: str | None) -> str:
    """How to name what GitHub reported: its variable when that is where the value came from."""
    if context.event == "workflow_run" and variable in ("GITHUB_REF", "GITHUB_SHA"):
        return f"the workflow_run's {'branch' if variable == 'GITHUB_REF' else 'commit'} {value}"
    if environ.get(variable):
        return f"{variable}={environ[variable]}"
    return f"{value} in the event payload"


def _agreeing_flags(environ: Mapping[str, str], context: CiContext,
                    flags: ContextFlags) -> CiContext:
    """``context`` with the --ref/--sha/--base-ref flags filling what GitHub did not report; a
    flag that says otherwise than GitHub is a usage error. A flag that agrees changes nothing
    (a short sha stays GitHub's full one)."""
    # A workflow_run is about the upstream run: GITHUB_REF/GITHUB_SHA (the default branch's)
    # are not what it ran on, so only the run's own ref and commit agree.
    own = context.event != "workflow_run"
    ref = _full_ref(flags.ref)
    if ref:
        refs = {context.ref, environ.get("GITHUB_REF") if own else None} - {None, ""}
        if refs and ref not in refs:
            raise _contradiction("--ref", flags.ref or ref,
                                 _reported(environ, context, "GITHUB_REF", context.ref))
        context = replace(context, ref=context.ref or ref)
    if flags.sha:
        shas = [context.sha, *([context.head_sha, environ.get("GITHUB_SHA")] if own else [])]
        if any(shas) and not _sha_agrees(flags.sha, shas):
            raise _contradiction("--sha", flags.sha,
                                 _reported(environ, context, "GITHUB_SHA", context.commit))
        context = replace(context, sha=context.sha or flags.sha)
    if flags.base_ref:
        given = branch_of(_full_ref(flags.base_ref)) or flags.base_ref
        reported = branch_of(_full_ref(context.base_ref)) or context.base_ref
        if reported and given != reported:
            raise _contradiction("--base-ref", flags.base_ref,
                                 _reported(environ, context, "GITHUB_BASE_REF", reported))
        context = replace(context, base_ref=context.base_ref or given)
    return context


def _elsewhere(environ: Mapping[str, str], flags: ContextFlags) -> tuple[CiContext, list[str]]:
    """CodeBuild's or a local context, every flag over what the environment says."""
    assumed: list[str] = []
    if environ.get("CODEBUILD_BUILD_ID"):
        context = from_codebuild(environ)
        reported_event = "" if context.event == "codebuild" else context.event
    else:
        context = CiContext(source="local", event="")
        reported_event = ""
    if flags.event_file:
        payload = read_event_file(flags.event_file)
        event = flags.event or reported_event
        if not event:
            event = _event_of_file(flags.event_file, payload)
            assumed.append(f"event {event} (from the payload's shape)")
        found = _from_payload(event, payload)
        context = replace(context, event=event, payload=payload,
                          **{k: v for k, v in found.items() if k in _PAYLOAD_FIELDS})
    return replace(context, event=flags.event or context.event,
                   ref=_full_ref(flags.ref) or context.ref,
                   base_ref=flags.base_ref or context.base_ref,
                   sha=flags.sha or context.sha), assumed


def resolve(environ: Mapping[str, str], flags: ContextFlags, *,
            default_branch: str | None = None) -> CiContext:
    """The context of this run.

    Under GitHub Actions (``GITHUB_ACTIONS=true``) GitHub's report wins and a flag that
    contradicts it is a usage error; elsewhere flags over CodeBuild over local defaults. An
    ``--event-file`` without an event (no ``--event``, no CI event) says its event by its shape,
    or is a usage error when its shape does not tell.

    ``default_branch`` is the branch assumed for a local run that names no ref (the selected
    environment's branch), so that ``lmi-delivery plan --env dev`` shows a deploy of dev.
    """
    if flags.event is not None:
        check_event_name(flags.event)
    if environ.get("GITHUB_ACTIONS") == "true":
        context, assumed = _on_github(environ, flags)
    else:
        context, assumed = _elsewhere(environ, flags)
    if not context.event:
        context = replace(context, event="push")
        assumed.append("event push")
    if not context.ref and not context.is_pull_request and default_branch and \
            context.event != "workflow_run":
        context = replace(context, ref=f"refs/heads/{default_branch}")
        assumed.append(f"ref refs/heads/{default_branch}")
    if context.is_pull_request and not context.base_ref and context.payload == {} and \
            default_branch and context.source == "local":
        context = replace(context, base_ref=default_branch)
        assumed.append(f"base ref {default_branch}")
    if not context.sha:
        assumed.append("commit unknown")
    return replace(context, assumed=tuple(assumed))
