"""One pull request comment per environment, found by a hidden marker and updated in place.

The comment starts with ``<!-- lmi-delivery:ENV -->``; a later run of the same pull request
updates that comment instead of adding another (a re-run, a new push, a matrix job retried).
GitHub refuses bodies over 65,536 characters, so a long plan is cut at a line, with a pointer
to the full log: a huge plan never silently produces no comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

MAX_COMMENT = 65_536
#: Room kept for the marker, the truncation note and the closing fence.
_RESERVE = 1_000


class CommentsApi(Protocol):
    def list_issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]: ...

    def create_issue_comment(self, repo: str, number: int, body: str) -> dict[str, Any]: ...

    def update_issue_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]: ...


def marker(environment: str) -> str:
    return f"<!-- lmi-delivery:{environment} -->"


def truncate(text: str, limit: int, pointer: str) -> str:
    """``text`` if it fits in ``limit``; else its head, cut at a line, plus ``pointer``."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(pointer) - 200)
    head = text[:room]
    if "\n" in head:
        head = head[:head.rindex("\n") + 1]
    if head.count("```") % 2:  # cut inside a code block: close it
        head += "```\n"
    omitted = len(text) - len(head)
    note = f"\n\n> **Truncated:** {omitted:,} characters not shown. {pointer}\n"
    return head + note


def comment_body(environment: str, markdown: str, run_url: str | None) -> str:
    """The full comment: marker, the report, a link to the run; under GitHub's limit."""
    link = f"[the run's log and job summary]({run_url})" if run_url else "the run's log"
    pointer = f"The full plan is in {link}."
    head = marker(environment) + "\n"
    foot = f"\n\n<sub>lmi-delivery · environment `{environment}` · {link}</sub>\n"
    budget = MAX_COMMENT - len(head) - len(foot) - _RESERVE
    return head + truncate(markdown.rstrip("\n"), budget, pointer) + foot


def _ours(comment: dict[str, Any], environment: str) -> bool:
    body = comment.get("body")
    return isinstance(body, str) and body.startswith(marker(environment))


@dataclass(frozen=True)
class Posted:
    action: str
    """``created`` or ``updated``."""
    id: int
    url: str


def upsert(api: CommentsApi, repo: str, number: int, environment: str,
           body: str) -> Posted:
    """Update the environment's comment on the pull request, or create it when there is none."""
    if not body.startswith(marker(environment)):
        raise ValueError("the body must start with the environment's marker")
    existing = [c for c in api.list_issue_comments(repo, number) if _ours(c, environment)]
    # A bot's comment first: a person quoting the marker does not own the environment's comment.
    existing.sort(key=lambda c: (c.get("user") or {}).get("type") != "Bot")
    if existing:
        comment_id = int(existing[0]["id"])
        result = api.update_issue_comment(repo, comment_id, body)
        return Posted("updated", comment_id, str(result.get("html_url", "")))
    result = api.create_issue_comment(repo, number, body)
    return Posted("created", int(result["id"]), str(result.get("html_url", "")))
