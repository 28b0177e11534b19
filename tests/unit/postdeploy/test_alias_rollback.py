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
from lmi_delivery.errors import OperationFailed
from lmi_delivery.postdeploy.alias import (
    ConcurrentChange,
    execute_alias,
    newest_active,
    plan_alias,
)
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


def test_rollback_prefers_the_record_while_the_alias_is_where_the_deploy_left_it() -> None:
    lam = FakeLambda({"svc-dev-a": {"1": "Active", "2": "Active", "3": "Active"},
                      "svc-dev-b": {"1": "Active", "2": "Active", "3": "Active"}},
                     {"svc-dev-a": "3", "svc-dev-b": "3"})
    record = {"functions": [{"function": "svc-dev-a", "alias_from": "1", "alias_to": "3"},
                            {"function": "svc-dev-b", "alias_from": "1", "alias_to": "2"}]}
    plan = plan_rollback(lam, config("a", "b"), DEV, record=record)  # type: ignore[arg-type]  # fake
    assert [m.step.to_version for m in plan.alias.moves] == ["1", "2"]
    assert "deploy record" in plan.reasons["svc-dev-a"]
    assert "moved since the recorded deploy" in plan.reasons["svc-dev-b"]
    to = plan_rollback(lam, config("a"), DEV, to="2")  # type: ignore[arg-type]  # fake
    assert [m.step.to_version for m in to.alias.moves] == ["2"]


def test_rollback_without_an_older_version_refuses() -> None:
    lam = FakeLambda({"svc-dev-a": {"1": "Active"}}, {"svc-dev-a": "1"})
    with pytest.raises(OperationFailed, match="no older Active version"):
        plan_rollback(lam, config("a"), DEV)  # type: ignore[arg-type]  # fake
