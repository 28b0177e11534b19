"""Prove that this run's deployment to a GitHub environment was approved, before applying.

GitHub records each review of a run's pending deployments; ``GET
/repos/{owner}/{repo}/actions/runs/{run_id}/approvals`` lists them. The deployment to ``E`` is
approved when an entry has ``state == "approved"`` and ``E`` among its ``environments``. With
``require_distinct_approver: true`` the approver must not be the commit's author. Anything else
is a refusal (exit 3) that names what is missing; nothing is applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from lmi_delivery.errors import GateRefused
from lmi_delivery.steps import AwaitApproval


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


@dataclass
class ApprovalChecker:
    """``RunServices.approve``: returns when approved, raises :class:`GateRefused` otherwise."""

    api: ApprovalsApi | None
    repository: str | None
    run_id: str | None
    commit: str | None
    say: Callable[[str], None] = lambda line: None

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
        self.say(f"approval: deployment to {env} approved by {', '.join(sorted(approvers))}")

    def _check_distinct(self, env: str, approvers: list[str]) -> None:
        assert self.api is not None
        assert self.repository
        if not self.commit:
            raise GateRefused(f"environment {env} requires an approver other than the commit's "
                              "author, but the commit is unknown. Nothing was applied.")
        author = self.api.commit_author(self.repository, self.commit)
        if author is None:
            raise GateRefused(f"environment {env} requires an approver other than the commit's "
                              f"author, but commit {self.commit[:12]} has no GitHub author to "
                              "compare with. Nothing was applied.")
        others = [a for a in approvers if a and a.lower() != author.lower()]
        if not others:
            raise GateRefused(f"environment {env} requires an approver other than the commit's "
                              f"author {author}: only {author} approved. Nothing was applied.")
