"""Reading the CI context from GitHub, CodeBuild and flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from lmi_delivery.cli.options import context_options
from lmi_delivery.errors import ConfigError, UsageError
from lmi_delivery.plan.context import NULL_SHA
from lmi_delivery.plan.events import ContextFlags, from_codebuild, from_github, infer_event, resolve

EVENTS = Path(__file__).resolve().parents[2] / "data" / "events"


def github_env(event: str, payload: str, **extra: str) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(EVENTS / payload), "GITHUB_REPOSITORY": "acme/agent-platform",
            "GITHUB_RUN_ID": "912", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_ACTOR": "dana", **extra}


def test_github_pull_request() -> None:
    env = github_env("pull_request", "pull-request-into-dev.json",
                     GITHUB_REF="refs/pull/42/merge", GITHUB_BASE_REF="dev",
                     GITHUB_SHA="mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm")
    c = from_github(env)
    assert (c.event, c.base_ref, c.pr_number) == ("pull_request", "dev", 42)
    # A plan is for the PR head commit, not GitHub's ephemeral merge commit.
    assert c.commit == "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
    assert c.is_pull_request
    assert c.branch is None
    assert (c.run_id, c.run_attempt, c.actor) == ("912", 2, "dana")


def test_github_push_reads_payload_when_variables_missing() -> None:
    c = from_github(github_env("push", "push-dev.json"))
    assert c.ref == "refs/heads/dev"
    assert c.branch == "dev"
    assert c.sha == "2b7e3c1f0a9d4e5b6c7d8e9f0a1b2c3d4e5f6a7b"


def test_tag_push_is_not_a_branch() -> None:
    c = from_github(github_env("push", "push-tag.json"))
    assert c.is_tag
    assert c.branch is None


def test_codebuild_webhook() -> None:
    c = from_codebuild({"CODEBUILD_BUILD_ID": "p:1",
                        "CODEBUILD_WEBHOOK_EVENT": "PULL_REQUEST_UPDATED",
                        "CODEBUILD_WEBHOOK_TRIGGER": "pr/12",
                        "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main",
                        "CODEBUILD_RESOLVED_SOURCE_VERSION": "abc"})
    assert (c.event, c.base_ref, c.pr_number, c.sha) == ("pull_request", "main", 12, "abc")


def test_flags_override_environment_outside_github() -> None:
    env = {"CODEBUILD_BUILD_ID": "p:1", "CODEBUILD_WEBHOOK_EVENT": "PUSH",
           "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/dev",
           "CODEBUILD_RESOLVED_SOURCE_VERSION": "abc"}
    c = resolve(env, ContextFlags(event="pull_request", base_ref="main", ref="feature"))
    assert (c.source, c.event, c.base_ref, c.ref) == ("codebuild", "pull_request", "main",
                                                      "refs/heads/feature")


def test_local_defaults_are_said() -> None:
    c = resolve({}, ContextFlags(), default_branch="dev")
    assert (c.source, c.event, c.ref) == ("local", "push", "refs/heads/dev")
    assert "event push" in c.assumed
    assert "commit unknown" in c.assumed


def test_event_file_flag() -> None:
    c = resolve({}, ContextFlags(event="pull_request",
                                 event_file=str(EVENTS / "pull-request-into-dev.json")))
    assert c.base_ref == "dev"
    assert c.pr_number == 42


def test_bad_event_file_points_at_it(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text('{\n  "ref": "refs/heads/dev",\n  oops\n}\n')
    with pytest.raises(ConfigError) as err:
        resolve({}, ContextFlags(event_file=str(bad)))
    assert f"{bad}:3:3:" in str(err.value)
    with pytest.raises(ConfigError, match="is a directory"):
        resolve({}, ContextFlags(event_file=str(tmp_path)))


# --- events at the edge -------------------------------------------------------------------

SHA = "2b7e3c1f0a9d4e5b6c7d8e9f0a1b2c3d4e5f6a7b"
REPO_ID = 4242


def write(tmp_path: Path, payload: dict[str, Any], name: str = "event.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(payload), encoding="utf-8")
    return str(path)


def push_payload(**changes: Any) -> dict[str, Any]:
    return {"ref": "refs/heads/dev", "before": "1" * 40, "after": SHA, "created": False,
            "deleted": False, "forced": False, "base_ref": None, "commits": [],
            "repository": {"id": REPO_ID, "full_name": "acme/agent-platform"}, **changes}


def workflow_run_payload(**run: Any) -> dict[str, Any]:
    upstream = {"conclusion": "success", "event": "push", "head_branch": "dev",
                "head_sha": SHA, "head_repository": {"id": REPO_ID,
                                                     "full_name": "acme/agent-platform"}}
    return {"action": "completed", "workflow_run": {**upstream, **run},
            "workflow": {"path": ".github/workflows/ci.yml"},
            "repository": {"id": REPO_ID, "full_name": "acme/agent-platform"}}


MERGE_GROUP = {"action": "checks_requested", "merge_group": {
    "head_sha": "c" * 40, "head_ref": "refs/heads/gh-readonly-queue/main/pr-104-" + "a" * 40,
    "base_sha": "b" * 40, "base_ref": "refs/heads/main"},
    "repository": {"id": REPO_ID}}


@pytest.mark.parametrize(("changes", "deleted"), [
    ({"deleted": True, "after": NULL_SHA}, True),
    ({"deleted": True}, True),                       # the flag alone says it
    ({"after": NULL_SHA}, True),                     # so does an all-zero `after`
    ({"created": True, "before": NULL_SHA}, False),  # a created branch is an ordinary push
])
def test_deleted_pushes_are_marked(tmp_path: Path, changes: dict[str, Any],
                                   deleted: bool) -> None:
    path = write(tmp_path, push_payload(**changes))
    on_github = from_github({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push",
                             "GITHUB_EVENT_PATH": path})
    local = resolve({}, ContextFlags(event_file=path))
    for c in (on_github, local):
        assert (c.event, c.ref, c.deleted) == ("push", "refs/heads/dev", deleted)


def github_push(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": write(tmp_path, push_payload(), "github.json"),
            "GITHUB_REF": "refs/heads/dev", "GITHUB_SHA": SHA, **extra}


@pytest.mark.parametrize(("flags", "named"), [
    (ContextFlags(event="workflow_dispatch"), ("--event workflow_dispatch",
                                               "GITHUB_EVENT_NAME=push")),
    (ContextFlags(ref="main"), ("--ref main", "GITHUB_REF=refs/heads/dev")),
    (ContextFlags(ref="refs/heads/main"), ("--ref refs/heads/main", "GITHUB_REF=refs/heads/dev")),
    (ContextFlags(sha="d" * 40), ("--sha " + "d" * 40, f"GITHUB_SHA={SHA}")),
    (ContextFlags(sha="2b7e3c"), ("--sha 2b7e3c", f"GITHUB_SHA={SHA}")),  # too short to agree
])
def test_flags_may_not_contradict_github(tmp_path: Path, flags: ContextFlags,
                                         named: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as err:
        resolve(github_push(tmp_path), flags)
    assert err.value.exit_code == 2
    for text in named:
        assert text in str(err.value)


def test_base_ref_may_not_contradict_the_pull_request(tmp_path: Path) -> None:
    env = github_env("pull_request", "pull-request-into-dev.json", GITHUB_BASE_REF="dev",
                     GITHUB_REF="refs/pull/42/merge")
    with pytest.raises(UsageError, match=r"--base-ref main .*GITHUB_BASE_REF=dev"):
        resolve(env, ContextFlags(base_ref="main"))
    # ...and the event file must be GitHub's own payload, not another one.
    with pytest.raises(UsageError, match=r"--event-file .*GITHUB_EVENT_PATH="):
        resolve(env, ContextFlags(event_file=str(EVENTS / "push-dev.json")))
    same = resolve(env, ContextFlags(base_ref="refs/heads/dev", event="pull_request",
                                     event_file=str(EVENTS / "pull-request-into-dev.json")))
    assert (same.event, same.base_ref, same.pr_number) == ("pull_request", "dev", 42)


def test_flags_that_agree_with_github_keep_githubs_values(tmp_path: Path) -> None:
    c = resolve(github_push(tmp_path), ContextFlags(event="push", ref="dev", sha=SHA[:12]))
    assert (c.event, c.ref, c.sha) == ("push", "refs/heads/dev", SHA)  # the full sha, GitHub's


@pytest.mark.parametrize("event", ["Push", "pull-request", "push;rm", "", "x" * 65, "2push",
                                   "_push"])
def test_event_names_must_look_like_github_events(event: str) -> None:
    with pytest.raises(UsageError, match="not a GitHub event name"):
        resolve({}, ContextFlags(event=event))


def test_the_event_flag_takes_any_github_event_name() -> None:
    @click.command()
    @context_options
    def show(event: str | None, **_: object) -> None:
        click.echo(resolve({}, ContextFlags(event=event)).event)

    runner = CliRunner()
    for event in ("merge_group", "workflow_run", "release", "issue_comment", "projects_v2_item"):
        result = runner.invoke(show, ["--event", event])
        assert (result.exit_code, result.output) == (0, f"{event}\n")
    refused = runner.invoke(show, ["--event", "Merge-Group"])
    assert refused.exit_code == 2
    assert "'Merge-Group' is not a GitHub event name" in refused.output


@pytest.mark.parametrize(("payload", "event"), [
    (push_payload(), "push"),
    (push_payload(deleted=True, after=NULL_SHA), "push"),
    ({"ref": "refs/heads/dev", "inputs": None, "workflow": "deploy.yml"}, "workflow_dispatch"),
    ({"ref": "refs/heads/dev", "inputs": {"dry": "1"}}, "workflow_dispatch"),
    (MERGE_GROUP, "merge_group"),
    (workflow_run_payload(), "workflow_run"),
    ({"action": "opened", "number": 7, "pull_request": {"number": 7}}, "pull_request"),
    ({"action": "submitted", "review": {}, "pull_request": {"number": 7}},
     "pull_request_review"),
    ({"action": "created", "comment": {}, "issue": {"number": 7}}, "issue_comment"),
    ({"action": "published", "release": {"tag_name": "v1"}}, "release"),
    ({"schedule": "17 3 * * *"}, "schedule"),
    ({"ref": "v1", "ref_type": "tag", "master_branch": "main", "pusher_type": "user"}, "create"),
])
def test_event_file_says_its_event_by_its_shape(tmp_path: Path, payload: dict[str, Any],
                                                event: str) -> None:
    assert infer_event(payload) == event
    c = resolve({}, ContextFlags(event_file=write(tmp_path, payload)), default_branch="dev")
    assert c.event == event
    assert f"event {event} (from the payload's shape)" in c.assumed
    assert "event push" not in c.assumed


@pytest.mark.parametrize("payload", [
    {},
    {"action": "created", "repository": {"id": 1}, "sender": {}},  # star/watch/repository alike
    {"ref": "refs/heads/dev"},                                     # a push? a dispatch? a tag?
    {"pull_request": {"number": 1}, "merge_group": {"head_sha": "c" * 40}},  # not one event
])
def test_event_file_of_no_clear_shape_needs_event(tmp_path: Path,
                                                  payload: dict[str, Any]) -> None:
    path = write(tmp_path, payload)
    with pytest.raises(UsageError, match=r"could not be inferred.*--event"):
        resolve({}, ContextFlags(event_file=path), default_branch="dev")
    assert resolve({}, ContextFlags(event="release", event_file=path)).event == "release"


def test_github_event_name_wins_over_the_payloads_shape(tmp_path: Path) -> None:
    # Under GitHub Actions the event is GITHUB_EVENT_NAME, whatever the payload looks like.
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "merge_group",
           "GITHUB_EVENT_PATH": write(tmp_path, {**push_payload(), **MERGE_GROUP})}
    c = resolve(env, ContextFlags(event_file=env["GITHUB_EVENT_PATH"]), default_branch="dev")
    assert (c.event, c.base_ref, c.is_pull_request) == ("merge_group", "main", True)
    with pytest.raises(UsageError, match=r"--event push .*GITHUB_EVENT_NAME=merge_group"):
        resolve(env, ContextFlags(event="push"))


def test_merge_group_context(tmp_path: Path) -> None:
    c = resolve({}, ContextFlags(event_file=write(tmp_path, MERGE_GROUP)), default_branch="dev")
    assert (c.event, c.base_ref, c.sha) == ("merge_group", "main", "c" * 40)
    assert c.ref == MERGE_GROUP["merge_group"]["head_ref"]  # type: ignore[index]
    assert c.is_pull_request
    assert not any(a.startswith("ref ") for a in c.assumed)


def test_workflow_run_context_is_the_upstream_runs(tmp_path: Path) -> None:
    # GITHUB_REF/GITHUB_SHA of a workflow_run are the default branch's; the context is the run's.
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "workflow_run",
           "GITHUB_EVENT_PATH": write(tmp_path, workflow_run_payload()),
           "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": "e" * 40}
    c = resolve(env, ContextFlags(), default_branch="prod")
    assert (c.event, c.ref, c.sha) == ("workflow_run", "refs/heads/dev", SHA)
    assert c.workflow_run is not None
    assert (c.workflow_run.conclusion, c.workflow_run.event) == ("success", "push")
    assert c.workflow_run.same_repository
    with pytest.raises(UsageError, match=r"--ref main .*workflow_run"):
        resolve(env, ContextFlags(ref="main"))
    fork = workflow_run_payload(head_repository={"id": 99, "full_name": "evil/fork"})
    local = resolve({}, ContextFlags(event_file=write(tmp_path, fork, "fork.json")))
    assert local.workflow_run is not None
    assert not local.workflow_run.same_repository
