from __future__ import annotations

from typing import Any

import pytest

from lmi_delivery.errors import GateRefused
from lmi_delivery.github.approval import ApprovalChecker, run_participants
from lmi_delivery.plan.steps import RUNNER, AwaitApproval


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


def check(api: FakeApi | None, distinct: bool = False, commit: str | None = "c" * 40,
          participants: frozenset[str] = frozenset()) -> None:
    ApprovalChecker(api, "acme/platform", "42", commit, participants=participants)(
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
    with pytest.raises(GateRefused, match=r"other than the commit's author.*\(alice\): only "
                                          "Alice approved"):
        check(FakeApi([entry("Alice", "prod")]), distinct=True)
    with pytest.raises(GateRefused, match="no GitHub author"):
        check(FakeApi([entry("bob", "prod")], author=None), distinct=True)
    with pytest.raises(GateRefused, match="commit is unknown"):
        check(FakeApi([entry("bob", "prod")]), distinct=True, commit=None)


PUSH = {
    "ref": "refs/heads/main", "after": "c" * 40,
    "pusher": {"name": "pat", "email": "pat@example.com"},
    "sender": {"login": "sam"},
    "head_commit": {"id": "c" * 40, "author": {"username": "hana"},
                    "committer": {"username": "web-flow"}},
    "commits": [
        {"id": "b" * 40, "author": {"username": "cara", "name": "Cara"},
         "committer": {"username": "Cole"}},
        {"id": "c" * 40, "author": {"name": "no GitHub user"}, "committer": None},
    ],
}


def test_everyone_behind_a_push_is_a_participant() -> None:
    assert run_participants(PUSH, "Actor", None, "") == {
        "actor", "sam", "pat", "hana", "web-flow", "cara", "cole"}
    assert run_participants({"workflow_run": {"actor": {"login": "Wanda"},
                                              "triggering_actor": {"login": "tim"}}}) == \
        {"wanda", "tim"}
    assert run_participants({"commits": "not a list", "pusher": "x"}) == frozenset()


@pytest.mark.parametrize("approver", ["actor", "re-runner", "sam", "pat", "hana", "cara", "COLE"])
def test_no_one_behind_the_run_counts_as_the_distinct_approver(approver: str) -> None:
    participants = run_participants(PUSH, "actor", "re-runner")
    with pytest.raises(GateRefused, match=f"only {approver} approved"):
        check(FakeApi([entry(approver, "prod")], author="alice"), distinct=True,
              participants=participants)
    check(FakeApi([entry(approver, "prod"), entry("dora", "prod")], author="alice"),
          distinct=True, participants=participants)


def test_the_event_is_enough_when_the_commit_has_no_github_author() -> None:
    participants = run_participants(PUSH, "actor")
    check(FakeApi([entry("bob", "prod")], author=None), distinct=True, participants=participants)
    with pytest.raises(GateRefused, match="only pat approved"):
        check(FakeApi([entry("pat", "prod")], author=None), distinct=True,
              participants=participants)
