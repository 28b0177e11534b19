"""Reading the CI context from GitHub, CodeBuild and flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmi_delivery.errors import ConfigError
from lmi_delivery.events import ContextFlags, from_codebuild, from_github, resolve

EVENTS = Path(__file__).parent.parent / "data" / "events"


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


def test_flags_override_environment() -> None:
    env = github_env("push", "push-dev.json")
    c = resolve(env, ContextFlags(event="pull_request", base_ref="main", ref="feature"))
    assert (c.source, c.event, c.base_ref, c.ref) == ("github", "pull_request", "main",
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
