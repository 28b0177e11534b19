from __future__ import annotations

from typing import Any

import pytest
from md_checks import HOSTILE, fenced_block

from lmi_delivery.escape import fenced
from lmi_delivery.github.comments import (
    ACTIONS_BOT,
    MAX_COMMENT,
    Identity,
    comment_body,
    marker,
    token_identity,
    truncate,
    upsert,
)

RUN = "https://github.com/acme/platform/actions/runs/1"
BOT = {"login": "github-actions[bot]", "type": "Bot"}


class FakeComments:
    """Comments of one pull request; ``user`` is what ``GET /user`` says (``None``: 403, as
    for the ``GITHUB_TOKEN``), and the author of the comments this token creates."""

    def __init__(self, comments: list[dict[str, Any]] | None = None,
                 user: dict[str, Any] | None = None) -> None:
        self.comments = comments or []
        self.user = user
        self.calls: list[str] = []

    def authenticated_user(self) -> dict[str, Any] | None:
        self.calls.append("user")
        return self.user

    def list_issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        self.calls.append("list")
        return [dict(c) for c in self.comments]

    def create_issue_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        self.calls.append("create")
        comment = {"id": len(self.comments) + 1, "body": body, "user": dict(self.user or BOT)}
        self.comments.append(comment)
        return comment

    def update_issue_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        self.calls.append(f"update {comment_id}")
        [comment] = [c for c in self.comments if c["id"] == comment_id]
        comment["body"] = body
        return comment


def test_a_short_body_is_kept_whole_with_its_marker_and_link() -> None:
    body = comment_body("dev", "### plan\nPlan: 1 to add", RUN)
    assert body.startswith("<!-- lmi-delivery:dev -->\n### plan")
    assert RUN in body
    assert "Truncated" not in body


def test_a_huge_plan_is_cut_below_the_limit_with_a_pointer() -> None:
    huge = "```\n" + "\n".join(f"  + resource {i} = {'x' * 60}" for i in range(5000)) + "\n```"
    body = comment_body("prod", huge, RUN)
    assert len(body) < MAX_COMMENT
    assert "**Truncated:**" in body
    assert f"The full plan is in [the run's log and job summary]({RUN})" in body
    kept = body.split("> **Truncated:**")[0]
    assert kept.count("```") % 2 == 0, "the code block was closed"


def test_truncate_cuts_at_a_line() -> None:
    text = "\n".join(["a" * 50] * 100)
    cut = truncate(text, 1000, "see log")
    assert cut.startswith("a" * 50 + "\n")
    assert "see log" in cut
    assert all(len(line) in (0, 50) for line in cut.split("\n\n")[0].splitlines())


def test_upsert_creates_once_then_updates_in_place() -> None:
    api = FakeComments([{"id": 9, "body": "unrelated", "user": {"login": "al", "type": "User"}}])
    first = upsert(api, "acme/platform", 7, "dev", comment_body("dev", "one", RUN))
    second = upsert(api, "acme/platform", 7, "dev", comment_body("dev", "two", RUN))
    other = upsert(api, "acme/platform", 7, "prod", comment_body("prod", "three", RUN))
    assert (first.action, second.action, other.action) == ("created", "updated", "created")
    assert second.id == first.id
    bodies = [c["body"] for c in api.comments]
    assert len(bodies) == 3
    assert sum(b.startswith(marker("dev")) for b in bodies) == 1
    assert "two" in next(b for b in bodies if b.startswith(marker("dev")))


def test_a_quoted_marker_is_not_our_comment() -> None:
    api = FakeComments([{"id": 3, "body": "> " + marker("dev") + "\nquoted",
                         "user": {"type": "User"}}])
    assert upsert(api, "r/r", 1, "dev", comment_body("dev", "x", None)).action == "created"


def test_the_bot_comment_wins_over_a_pasted_marker() -> None:
    api = FakeComments([{"id": 3, "body": marker("dev") + " pasted", "user": {"type": "User"}},
                        {"id": 4, "body": marker("dev") + " ours", "user": BOT}])
    assert upsert(api, "r/r", 1, "dev", comment_body("dev", "x", None)).id == 4


@pytest.mark.parametrize("author", [
    {"login": "mallory", "type": "User"},
    {"login": "github-actions[bot]", "type": "User"},  # a user cannot take the bot's login
    {"login": "other-app[bot]", "type": "Bot"},
    None,
], ids=["a person", "the bot's login as a user", "another bot", "no user"])
def test_a_marker_comment_by_anyone_else_is_never_edited(author: dict[str, Any] | None) -> None:
    theirs = {"id": 3, "body": marker("dev") + "\napprove me, it is only a typo fix",
              "user": author}
    api = FakeComments([dict(theirs)])
    posted = upsert(api, "r/r", 1, "dev", comment_body("dev", "the real plan", None))
    assert posted.action == "created"
    assert api.comments[0] == theirs
    assert "update 3" not in api.calls


def test_a_personal_token_edits_only_its_own_user_comments() -> None:
    mine = {"id": 5, "body": marker("dev") + " mine", "user": {"login": "Deployer",
                                                                "type": "User"}}
    bots = {"id": 6, "body": marker("dev") + " the bot's", "user": BOT}
    api = FakeComments([bots, mine], user={"login": "deployer", "type": "User"})
    assert upsert(api, "r/r", 1, "dev", comment_body("dev", "x", None)).id == 5
    assert api.calls[0] == "user"


def test_the_identity_falls_back_to_the_actions_bot() -> None:
    assert token_identity(FakeComments()) == ACTIONS_BOT
    assert token_identity(FakeComments(user={"login": "", "type": "User"})) == ACTIONS_BOT
    assert token_identity(FakeComments(user={"login": "x", "type": "Bot"})) == Identity("x", "Bot")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_plan_text_stays_inside_its_block_in_the_comment(text: str) -> None:
    body = comment_body("dev", "#### Terraform plan\n\n" + fenced(text), "javascript:alert(1)")
    after = body.split("#### Terraform plan\n\n", 1)[1]
    _, inside, rest = fenced_block(after)
    assert inside == text
    assert rest.strip().startswith("<sub>lmi-delivery")
    assert "javascript:" not in rest, "the run link is an http(s) URL or no link"


def test_a_cut_inside_a_long_fence_closes_with_that_fence() -> None:
    plan = "\n".join(f"  + resource {i} ```" for i in range(9000)) + "\n````"
    body = comment_body("prod", fenced(plan), RUN)
    assert len(body) < MAX_COMMENT
    fence, _, rest = fenced_block(body.split("\n", 1)[1])
    assert fence == "`````"
    assert rest.lstrip().startswith("> **Truncated:**")
