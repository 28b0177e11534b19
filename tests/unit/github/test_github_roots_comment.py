"""One comment per pull request and environment, listing the roots that run and those skipped."""

from __future__ import annotations

from lmi_delivery.github import comments
from lmi_delivery.github.roots_comment import compose


def test_the_comment_lists_each_running_root_section_and_each_skipped_root() -> None:
    text = compose("dev", [("provider", "provider plan\n"), ("orders", "orders plan\n")],
                   [("search", "no change to its files")])
    assert text == (
        "### Terraform roots of `dev`\n\n"
        "2 of 3 run: `provider`, `orders`.\n\n"
        "Skipped:\n\n"
        "- `search`: no change to its files\n\n"
        "#### Root `provider`\n\nprovider plan\n\n"
        "#### Root `orders`\n\norders plan\n")


def test_nothing_running_still_says_why_each_root_is_skipped() -> None:
    text = compose("prod", [], [("a", "deploys to dev only, not prod")])
    assert "0 of 1 run: none." in text
    assert "- `a`: deploys to dev only, not prod" in text


def test_outside_text_is_escaped_and_the_environment_keeps_one_marked_comment() -> None:
    text = compose("dev", [("orders", "section")], [("x`y", "see <b>here</b> @team")])
    assert "<b>" not in text
    assert "@team" not in text.replace("@\u200bteam", "")
    body = comments.comment_body("dev", text, "https://example.test/run/1")
    assert body.startswith(comments.marker("dev") + "\n")
    assert body.count(comments.marker("dev")) == 1
