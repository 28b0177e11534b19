from __future__ import annotations

from typing import Any

import pytest

from lmi_delivery.errors import GateRefused
from lmi_delivery.github.approval import ApprovalChecker
from lmi_delivery.steps import RUNNER, AwaitApproval


class FakeApi:
    def __init__(self, approvals: list[dict[str, Any]], author: str | None = "alice") -> None:
        self.approvals, self.author = approvals, author

    def run_approvals(self, repo: str, run_id: str) -> list[dict[str, Any]]:
        return self.approvals

    def commit_author(self, repo: str, sha: str) -> str | None:
        return self.author


def entry(login: str, *envs: str, state: str = "approved") -> dict[str, Any]:
    return {"state": state, "user": {"login": login},
            "environments": [{"id": i, "name": e} for i, e in enumerate(envs)]}


def check(api: FakeApi | None, distinct: bool = False, commit: str | None = "c" * 40) -> None:
    ApprovalChecker(api, "acme/platform", "42", commit)(
        AwaitApproval(RUNNER, "prod", distinct_approver=distinct))


def test_an_approval_for_the_environment_passes() -> None:
    check(FakeApi([entry("bob", "staging", "prod")]))


@pytest.mark.parametrize("approvals", [
    [], [entry("bob", "dev")], [entry("bob", "prod", state="rejected")],
], ids=["none", "other environment", "rejected"])
def test_anything_else_is_refused(approvals: list[dict[str, Any]]) -> None:
    with pytest.raises(GateRefused, match="has no approval for environment prod") as info:
        check(FakeApi(approvals))
    assert info.value.exit_code == 3


def test_without_a_token_nothing_can_be_verified() -> None:
    with pytest.raises(GateRefused, match="without the github-token input"):
        check(None)


def test_distinct_approver() -> None:
    check(FakeApi([entry("alice", "prod"), entry("bob", "prod")]), distinct=True)
    with pytest.raises(GateRefused, match="other than the commit's author alice"):
        check(FakeApi([entry("Alice", "prod")]), distinct=True)
    with pytest.raises(GateRefused, match="no GitHub author"):
        check(FakeApi([entry("bob", "prod")], author=None), distinct=True)
    with pytest.raises(GateRefused, match="commit is unknown"):
        check(FakeApi([entry("bob", "prod")]), distinct=True, commit=None)
