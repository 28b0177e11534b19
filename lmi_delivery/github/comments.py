"""One pull request comment per environment, found by a hidden marker and updated in place.

The comment starts with ``<!-- lmi-delivery:ENV -->``; a later run of the same pull request
updates that comment instead of adding another (a re-run, a new push, a matrix job retried).
Only a comment the token's own identity wrote is ever edited: anyone can paste the marker into
a comment of theirs, and editing it would put our text under their name (or let them choose
what an approver sees as ours). The identity is ``GET /user``'s; the Actions ``GITHUB_TOKEN``
may not read it (403), and then it is ``github-actions[bot]``, the user that token comments as.
(Another app's installation token cannot be told apart that way: its runs add a new comment
each time rather than ever editing someone else's.)
GitHub refuses bodies over 65,536 characters, so a long plan is cut at a line, with a pointer
to the full log: a huge plan never silently produces no comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from lmi_delivery.escape import code_span, link, open_fence

MAX_COMMENT = 65_536
#: Room kept for the marker, the truncation note and the closing fence.
_RESERVE = 1_000


class CommentsApi(Protocol):
    def authenticated_user(self) -> dict[str, Any] | None:
        """``GET /user``, or ``None`` when the token may not read it."""

    def list_issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]: ...

    def create_issue_comment(self, repo: str, number: int, body: str) -> dict[str, Any]: ...

    def update_issue_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]: ...

    def delete_issue_comment(self, repo: str, comment_id: int) -> None: ...


@dataclass(frozen=True)
class Identity:
    """Who a token comments as: ``user.login`` and ``user.type`` of the comments it writes."""

    login: str
    type: str

    def wrote(self, comment: dict[str, Any]) -> bool:
        user = comment.get("user")
        if not isinstance(user, dict):
            return False
        login, kind = user.get("login"), user.get("type")
        return (isinstance(login, str) and login.casefold() == self.login.casefold()
                and kind == self.type)


#: The author of comments made with the ``GITHUB_TOKEN`` of GitHub Actions.
ACTIONS_BOT = Identity("github-actions[bot]", "Bot")


def token_identity(api: CommentsApi) -> Identity:
    """The token's own user; :data:`ACTIONS_BOT` when the token cannot say (``GITHUB_TOKEN``)."""
    user = api.authenticated_user()
    if isinstance(user, dict):
        login, kind = user.get("login"), user.get("type")
        if isinstance(login, str) and login and isinstance(kind, str) and kind:
            return Identity(login, kind)
    return ACTIONS_BOT


def marker(environment: str) -> str:
    return f"<!-- lmi-delivery:{environment} -->"


def truncate(text: str, limit: int, pointer: str) -> str:
    """``text`` if it fits in ``limit``; else its head, cut at a line, plus ``pointer``.

    A cut inside a code block closes the block with its own fence, so the note after it is
    Markdown again whatever fence the block used.
    """
    if len(text) <= limit:
        return text
    room = max(0, limit - len(pointer) - 200)
    head = text[:room]
    if "\n" in head:
        head = head[:head.rindex("\n") + 1]
    fence = open_fence(head)
    if fence is not None:
        head = (head if head.endswith("\n") else head + "\n") + fence + "\n"
    omitted = len(text) - len(head)
    note = f"\n\n> **Truncated:** {omitted:,} characters not shown. {pointer}\n"
    return head + note


def comment_body(environment: str, markdown: str, run_url: str | None) -> str:
    """The full comment: marker, the report, a link to the run; under GitHub's limit."""
    log = link("the run's log and job summary", run_url) if run_url else "the run's log"
    pointer = f"The full plan is in {log}."
    head = marker(environment) + "\n"
    foot = f"\n\n<sub>lmi-delivery · environment {code_span(environment)} · {log}</sub>\n"
    budget = MAX_COMMENT - len(head) - len(foot) - _RESERVE
    return head + truncate(markdown.rstrip("\n"), budget, pointer) + foot


def _marked(comment: dict[str, Any], environment: str) -> bool:
    body = comment.get("body")
    return isinstance(body, str) and body.startswith(marker(environment))


@dataclass(frozen=True)
class Posted:
    action: str
    """``created`` or ``updated``."""
    id: int
    url: str


def upsert(api: CommentsApi, repo: str, number: int, environment: str, body: str,
           identity: Identity | None = None) -> Posted:
    """Update the environment's comment on the pull request, or create it when there is none.

    The environment's comment is the first one that starts with its marker and that
    ``identity`` (default: the token's, :func:`token_identity`) wrote; a marked comment by
    anyone else is left alone.
    """
    if not body.startswith(marker(environment)):
        raise ValueError("the body must start with the environment's marker")
    author = identity or token_identity(api)
    existing = [c for c in api.list_issue_comments(repo, number)
                if _marked(c, environment) and author.wrote(c)]
    if existing:
        comment_id = int(existing[0]["id"])
        result = api.update_issue_comment(repo, comment_id, body)
        return Posted("updated", comment_id, str(result.get("html_url", "")))
    result = api.create_issue_comment(repo, number, body)
    return Posted("created", int(result["id"]), str(result.get("html_url", "")))


def delete_stale(api: CommentsApi, repo: str, number: int, environment: str,
                 identity: Identity | None = None) -> list[int]:
    """Delete the environment's comments that ``identity`` (default: the token's) wrote: a
    ``changes-only`` run whose plan has no changes leaves none behind. Returns their ids."""
    author = identity or token_identity(api)
    stale = [int(c["id"]) for c in api.list_issue_comments(repo, number)
             if _marked(c, environment) and author.wrote(c)]
    for comment_id in stale:
        api.delete_issue_comment(repo, comment_id)
    return stale
