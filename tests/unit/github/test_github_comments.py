from __future__ import annotations

from typing import Any

from lmi_delivery.github.comments import MAX_COMMENT, comment_body, marker, truncate, upsert

RUN = "https://github.com/acme/platform/actions/runs/1"


class FakeComments:
    def __init__(self, comments: list[dict[str, Any]] | None = None) -> None:
        self.comments = comments or []
        self.calls: list[str] = []

    def list_issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        self.calls.append("list")
        return [dict(c) for c in self.comments]

    def create_issue_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        self.calls.append("create")
        comment = {"id": len(self.comments) + 1, "body": body, "user": {"type": "Bot"}}
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
    api = FakeComments([{"id": 9, "body": "unrelated", "user": {"type": "User"}}])
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
                        {"id": 4, "body": marker("dev") + " ours", "user": {"type": "Bot"}}])
    assert upsert(api, "r/r", 1, "dev", comment_body("dev", "x", None)).id == 4
