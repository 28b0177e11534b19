"""Alias moves and rollback targets against an in-memory Lambda (no AWS, no sandbox)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lmi_delivery.config.model import (
    CodeBuildSettings,
    Config,
    Environment,
    Function,
    TerraformSettings,
)
from lmi_delivery.errors import GateRefused, OperationFailed, UsageError
from lmi_delivery.postdeploy.alias import (
    ConcurrentChange,
    execute_alias,
    newest_active,
    plan_alias,
)
from lmi_delivery.postdeploy.history import Entry, History
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.postdeploy.rollback import plan_rollback


def _error(code: str) -> Any:
    class Error(ClientError):
        def __init__(self, message: str = "") -> None:
            super().__init__({"Error": {"Code": code, "Message": message}}, "Call")

    Error.__name__ = code
    return Error


class FakeLambda:
    """Versions with states, aliases with revision ids; the calls the alias step makes."""

    exceptions = SimpleNamespace(ResourceNotFoundException=_error("ResourceNotFoundException"),
                                 ResourceConflictException=_error("ResourceConflictException"))

    def __init__(self, versions: dict[str, dict[str, str]],
                 aliases: dict[str, str] | None = None) -> None:
        self.versions = versions
        self.aliases = {name: [v, "rev-0"] for name, v in (aliases or {}).items()}
        self.calls: list[str] = []

    def get_alias(self, FunctionName: str, Name: str) -> dict[str, Any]:
        if FunctionName not in self.aliases:
            raise self.exceptions.ResourceNotFoundException()
        version, revision = self.aliases[FunctionName]
        return {"FunctionVersion": version, "RevisionId": revision}

    def update_alias(self, FunctionName: str, Name: str, FunctionVersion: str, RevisionId: str,
                     **_: Any) -> dict[str, Any]:
        self.calls.append(f"update {FunctionName} {FunctionVersion}")
        if self.aliases[FunctionName][1] != RevisionId:
            raise _error("PreconditionFailedException")("revision mismatch")
        self.aliases[FunctionName] = [FunctionVersion, f"rev-{len(self.calls)}"]
        return {"FunctionVersion": FunctionVersion, "RevisionId": f"rev-{len(self.calls)}"}

    def create_alias(self, FunctionName: str, Name: str, FunctionVersion: str) -> dict[str, Any]:
        self.calls.append(f"create {FunctionName} {FunctionVersion}")
        self.aliases[FunctionName] = [FunctionVersion, "rev-new"]
        return {"FunctionVersion": FunctionVersion, "RevisionId": "rev-new"}

    def get_function_configuration(self, FunctionName: str, Qualifier: str) -> dict[str, str]:
        if Qualifier not in self.versions[FunctionName]:
            raise self.exceptions.ResourceNotFoundException()
        return {"State": self.versions[FunctionName][Qualifier]}

    def get_paginator(self, name: str) -> Any:
        assert name == "list_versions_by_function"
        versions = self.versions

        class Pages:
            def paginate(self, FunctionName: str) -> list[dict[str, Any]]:
                return [{"Versions": [{"Version": v, "State": s}
                                      for v, s in versions[FunctionName].items()]}]

        return Pages()


def config(*keys: str) -> Config:
    return Config(path=Path("lmi-delivery.yml"), root=Path("."), digest="", version=1,
                  service="svc", region="us-east-1", naming="{service}-{env}-{name}",
                  terraform=TerraformSettings("1.12.2", "terraform"),
                  codebuild=CodeBuildSettings({}, "s3://bucket/prefix"),
                  environments={"dev": Environment("dev", "dev")},
                  functions={k: Function(k) for k in keys})


DEV = Environment("dev", "dev")


def test_moves_only_to_active_versions() -> None:
    lam = FakeLambda({"svc-dev-a": {"1": "Active", "2": "Pending"}}, {"svc-dev-a": "1"})
    plan = plan_alias(lam, config("a"), DEV, versions={"svc-dev-a": "2"})  # type: ignore[arg-type]  # fake
    with pytest.raises(OperationFailed, match="it is Pending, not Active"):
        execute_alias(lam, plan, reporter=ProgressLog())  # type: ignore[arg-type]  # fake
    assert lam.calls == []


def two_moves(state_of_b2: str = "Active") -> tuple[FakeLambda, Any]:
    """Aliases of a and b on 1, planned to move to 2 (b's version 2 in ``state_of_b2``)."""
    lam = FakeLambda({"svc-dev-a": {"1": "Active", "2": "Active"},
                      "svc-dev-b": {"1": "Active", "2": state_of_b2}},
                     {"svc-dev-a": "1", "svc-dev-b": "1"})
    plan = plan_alias(lam, config("a", "b"), DEV,  # type: ignore[arg-type]  # fake
                      versions={"svc-dev-a": "2", "svc-dev-b": "2"})
    return lam, plan


def test_a_target_not_active_refuses_the_step_before_any_alias_moves() -> None:
    """The targets' states are read first: the function before the refused one stays too."""
    lam, plan = two_moves("Deactivated")
    with pytest.raises(OperationFailed) as error:
        execute_alias(lam, plan, reporter=ProgressLog())  # type: ignore[arg-type]  # fake
    assert "svc-dev-b:live at version 2: it is Deactivated" in str(error.value)
    assert "no alias was moved" in str(error.value)
    assert lam.calls == []


def test_creates_missing_alias_and_defaults_to_newest_active() -> None:
    lam = FakeLambda({"svc-dev-a": {"$LATEST": "Active", "1": "Active", "2": "Active",
                                    "3": "Failed"}})
    plan = plan_alias(lam, config("a"), DEV)  # type: ignore[arg-type]  # fake
    assert [m.step.to_version for m in plan.moves] == ["2"]
    done = execute_alias(lam, plan, reporter=ProgressLog())  # type: ignore[arg-type]  # fake
    assert [(r.action, r.to_version) for r in done] == [("created", "2")]


def test_concurrent_change_stops_before_the_next_alias() -> None:
    lam, plan = two_moves()
    lam.aliases["svc-dev-a"][1] = "changed-by-someone"
    with pytest.raises(ConcurrentChange) as error:
        execute_alias(lam, plan, reporter=ProgressLog())  # type: ignore[arg-type]  # fake
    assert "changed by someone else" in str(error.value)
    assert "not moved: svc-dev-b:live" in str(error.value)
    assert lam.calls == ["update svc-dev-a 2"]


def test_unchanged_alias_makes_no_call() -> None:
    lam = FakeLambda({"svc-dev-a": {"4": "Active"}}, {"svc-dev-a": "4"})
    plan = plan_alias(lam, config("a"), DEV, versions={"svc-dev-a": "4"})  # type: ignore[arg-type]  # fake
    done = execute_alias(lam, plan, reporter=ProgressLog())  # type: ignore[arg-type]  # fake
    assert [r.action for r in done] == ["unchanged"]
    assert lam.calls == []


def test_newest_active_skips_failed_and_newer_versions() -> None:
    lam = FakeLambda({"f": {"1": "Active", "2": "Active", "3": "Failed", "4": "Active"}})
    assert newest_active(lam, "f") == "4"  # type: ignore[arg-type]  # fake
    assert newest_active(lam, "f", older_than="4") == "2"  # type: ignore[arg-type]  # fake
    assert newest_active(lam, "f", older_than="1") is None  # type: ignore[arg-type]  # fake


def history(function: str, *moves: tuple[str | None, str, str]) -> History:
    """``(previous, version, action)`` entries, oldest first."""
    return History(function, "live", tuple(Entry(p, v, action=a) for p, v, a in moves))


def test_rollback_goes_to_the_version_served_before_the_move_to_the_current_one() -> None:
    lam = FakeLambda({"svc-dev-a": {"1": "Active", "2": "Active", "3": "Active",
                                    "4": "Active"}}, {"svc-dev-a": "3"})
    # 1 -> 2 -> 3 deployed; 4 was published and never served
    a = history("svc-dev-a", (None, "1", "deploy"), ("1", "2", "deploy"), ("2", "3", "deploy"))
    plan = plan_rollback(lam, config("a"), DEV, histories={"svc-dev-a": a})  # type: ignore[arg-type]  # fake
    assert [m.step.to_version for m in plan.alias.moves] == ["2"]
    assert "alias history" in plan.reasons["svc-dev-a"]
    to = plan_rollback(lam, config("a"), DEV, to="4")  # type: ignore[arg-type]  # fake
    assert [m.step.to_version for m in to.alias.moves] == ["4"]


def test_a_second_rollback_goes_further_back_not_forth() -> None:
    a = history("f", (None, "1", "deploy"), ("1", "2", "deploy"), ("2", "3", "deploy"),
                ("3", "2", "rollback"))
    assert a.rollback_target("2") == "1"
    assert a.way_back("2") == ("2", "1")
    assert a.way_back("3") == ("3", "2", "1")


def test_a_move_that_failed_after_its_entry_is_not_taken_for_a_served_version() -> None:
    # the entry of 3 -> 4 was written, the move then failed: the alias is still on 3
    a = history("f", ("1", "2", "deploy"), ("2", "3", "deploy"), ("3", "4", "deploy"))
    assert a.rollback_target("3") == "2"
    # an alias moved outside lmi-delivery: the history shows nothing before it
    assert a.rollback_target("7") is None


def test_canary_steps_and_restores_are_not_rollback_steps() -> None:
    a = History("f", "live", (Entry("1", "2"), Entry("2", "2", {"3": 0.1}), Entry("2", "2"),
                              Entry("2", "2", {"3": 0.1}), Entry("2", "3")))
    assert a.way_back("3") == ("3", "2", "1")


def test_rollback_without_history_refuses_and_names_to() -> None:
    lam = FakeLambda({"svc-dev-a": {"1": "Active", "2": "Active"}}, {"svc-dev-a": "2"})
    with pytest.raises(GateRefused, match=r"--to VERSION") as refused:
        plan_rollback(lam, config("a"), DEV, histories={})  # type: ignore[arg-type]  # fake
    assert refused.value.exit_code == 3
    assert lam.calls == []


@pytest.mark.parametrize("to", ["$LATEST", "live", "0", "01", "3a", "", "arn:aws:lambda:x"])
def test_to_accepts_version_numbers_only(to: str) -> None:
    lam = FakeLambda({"svc-dev-a": {"1": "Active"}}, {"svc-dev-a": "1"})
    with pytest.raises(UsageError, match="is not a version number") as invalid:
        plan_rollback(lam, config("a"), DEV, to=to)  # type: ignore[arg-type]  # fake
    assert invalid.value.exit_code == 2


def test_rollback_to_the_current_version_refuses() -> None:
    lam = FakeLambda({"svc-dev-a": {"1": "Active", "2": "Active"}}, {"svc-dev-a": "2"})
    with pytest.raises(GateRefused, match="it is on version 2 already"):
        plan_rollback(lam, config("a"), DEV, to="2")  # type: ignore[arg-type]  # fake


def test_rollback_to_a_version_that_no_longer_exists_refuses() -> None:
    lam = FakeLambda({"svc-dev-a": {"2": "Active"}}, {"svc-dev-a": "2"})
    a = history("svc-dev-a", ("1", "2", "deploy"))
    with pytest.raises(GateRefused, match=r"back to version 1 .*it no longer exists"):
        plan_rollback(lam, config("a"), DEV, histories={"svc-dev-a": a})  # type: ignore[arg-type]  # fake
