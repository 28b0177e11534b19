"""Prove that this run's deployment to a GitHub environment was approved, before applying.

GitHub records each review of a run's pending deployments; ``GET
/repos/{owner}/{repo}/actions/runs/{run_id}/approvals`` lists them. The deployment to ``E`` is
approved when an entry has ``state == "approved"`` and ``E`` among its ``environments``. With
``require_distinct_approver: true`` some approver must be none of the people behind the run:
the commit's GitHub author, the actor and the triggering actor of the run (``GITHUB_ACTOR``,
``GITHUB_TRIGGERING_ACTOR``, ``sender``), the pusher, and the authors and committers of every
pushed commit (:func:`run_participants` reads them from the event). Logins compare without
case. Anything else is a refusal (exit 3) that names what is missing; nothing is applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from lmi_delivery.errors import GateRefused
from lmi_delivery.plan.steps import AwaitApproval


class ApprovalsApi(Protocol):
    def run_approvals(self, repo: str, run_id: str) -> list[dict[str, Any]]: ...

    def commit_author(self, repo: str, sha: str) -> str | None: ...


def _approvers(entries: list[dict[str, Any]], environment: str) -> list[str]:
    found = []
    for entry in entries:
        if entry.get("state") != "approved":
            continue
        names = {e.get("name") for e in entry.get("environments") or [] if isinstance(e, Mapping)}
        if environment in names:
            user = entry.get("user")
            login = user.get("login") if isinstance(user, Mapping) else None
            found.append(str(login or ""))
    return found


def _login(value: Any, key: str) -> str | None:
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, str) and found else None


def _commit_people(commit: Any) -> Iterator[str | None]:
    if isinstance(commit, Mapping):
        yield _login(commit.get("author"), "username")
        yield _login(commit.get("committer"), "username")


def run_participants(payload: Mapping[str, Any], *actors: str | None) -> frozenset[str]:
    """The logins (lower case) of everyone behind this run: ``actors`` (``GITHUB_ACTOR``,
    ``GITHUB_TRIGGERING_ACTOR``), and from the event payload the sender, the pusher, the
    authors and committers of the pushed commits and of the head commit, and a
    ``workflow_run``'s actor and triggering actor."""
    found: list[str | None] = list(actors)
    found.append(_login(payload.get("sender"), "login"))
    found.append(_login(payload.get("pusher"), "name"))
    found += _commit_people(payload.get("head_commit"))
    commits = payload.get("commits")
    for commit in commits if isinstance(commits, list) else []:
        found += _commit_people(commit)
    run = payload.get("workflow_run")
    if isinstance(run, Mapping):
        found.append(_login(run.get("actor"), "login"))
        found.append(_login(run.get("triggering_actor"), "login"))
    return frozenset(name.lower() for name in found if name)


@dataclass
class ApprovalChecker:
    """``RunServices.approve``: returns when approved, raises :class:`GateRefused` otherwise."""

    api: ApprovalsApi | None
    repository: str | None
    run_id: str | None
    commit: str | None
    say: Callable[[str], None] = lambda line: None
    participants: frozenset[str] = field(default_factory=frozenset)
    """Who may not be the distinct approver besides the commit's author
    (:func:`run_participants`)."""
    approved_by: tuple[str, ...] = ()
    """Who approved, once :meth:`__call__` returned: recorded with the apply."""

    def __call__(self, step: AwaitApproval) -> None:
        env = step.environment
        missing = [what for what, value in (("GITHUB_REPOSITORY", self.repository),
                                            ("GITHUB_RUN_ID", self.run_id),
                                            ("the github-token input", self.api)) if not value]
        if missing:
            raise GateRefused(f"environment {env} requires an approved deployment, which cannot "
                              f"be verified without {', '.join(missing)}. Nothing was applied.")
        assert self.api is not None
        assert self.repository
        assert self.run_id
        approvers = _approvers(self.api.run_approvals(self.repository, self.run_id), env)
        if not approvers:
            raise GateRefused(
                f"environment {env} requires an approved deployment: run {self.run_id} has no "
                f"approval for environment {env} (run the apply in a job with `environment: "
                f"{env}` whose GitHub environment has required reviewers). Nothing was applied.")
        if step.distinct_approver:
            self._check_distinct(env, approvers)
        self.approved_by = tuple(sorted({a for a in approvers if a}))
        self.say(f"approval: deployment to {env} approved by {', '.join(sorted(approvers))}")

    def _check_distinct(self, env: str, approvers: list[str]) -> None:
        assert self.api is not None
        assert self.repository
        excluded = {name.lower() for name in self.participants if name}
        author = self.api.commit_author(self.repository, self.commit) if self.commit else None
        if author:
            excluded.add(author.lower())
        if not excluded:
            why = (f"commit {self.commit[:12]} has no GitHub author" if self.commit
                   else "the commit is unknown")
            raise GateRefused(f"environment {env} requires an approver other than the commit's "
                              f"author, but {why} and the event names nobody to compare with. "
                              "Nothing was applied.")
        others = [a for a in approvers if a and a.lower() not in excluded]
        if not others:
            raise GateRefused(
                f"environment {env} requires an approver other than the commit's author, the "
                f"pusher, the committers and whoever triggered the run "
                f"({', '.join(sorted(excluded))}): only "
                f"{', '.join(sorted({a for a in approvers if a})) or 'an unnamed user'} "
                "approved. Nothing was applied.")
