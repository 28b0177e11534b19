"""LMI013 through an injected Lambda client: every page read, refusals and offline warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from gates_helpers import PLANS, load_fixture, make_repo

from lmi_delivery.config import load
from lmi_delivery.config.model import ValidationGate
from lmi_delivery.gates import lmi_checks
from lmi_delivery.gates.evaluate import validation_report
from lmi_delivery.gates.lmi_providers import BoundVersion, ListingFailed, lambda_lister

BOUND = PLANS / "lmi" / "positive" / "provider-deleted-bound.json"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}:{}"


class FakeLambda:
    """``ListFunctionVersionsByCapacityProvider`` over a list, 50 a page, or an error."""

    def __init__(self, versions: list[tuple[str, int]], error: str | None = None) -> None:
        self.versions = versions
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def list_function_versions_by_capacity_provider(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}},
                              "ListFunctionVersionsByCapacityProvider")
        start = int(params.get("Marker") or 0)
        page = self.versions[start:start + params["MaxItems"]]
        answer: dict[str, Any] = {"FunctionVersions": [
            {"FunctionArn": ARN.format(f, v), "State": "Active"} for f, v in page]}
        if start + len(page) < len(self.versions):
            answer["NextMarker"] = str(start + len(page))
        return answer


def test_every_page_is_read() -> None:
    client = FakeLambda([("router", v) for v in range(1, 121)])
    found = lambda_lister(client)("agent-core-dev-old")
    assert len(found) == 120
    assert found[0] == BoundVersion("router", "1", "Active")
    assert [c.get("Marker") for c in client.calls] == [None, "50", "100"]
    assert {c["MaxItems"] for c in client.calls} == {50}
    assert {c["CapacityProviderName"] for c in client.calls} == {"agent-core-dev-old"}


def test_a_provider_already_gone_has_nothing_bound_and_a_refusal_is_a_listing_failure() -> None:
    assert lambda_lister(FakeLambda([], "ResourceNotFoundException"))("gone") == []
    with pytest.raises(ListingFailed, match="AccessDeniedException"):
        lambda_lister(FakeLambda([], "AccessDeniedException"))("old")


def _check(client: FakeLambda) -> list[Any]:
    plan, _ = load_fixture(BOUND)
    return lmi_checks.check(plan, ValidationGate(), bound=lambda_lister(client),
                            retire_command="lmi-delivery prune --env dev "
                            "--retire-capacity-provider {name}")


def test_the_refusal_names_the_versions_and_the_command() -> None:
    found = _check(FakeLambda([("agent-core-dev-clm-router", v) for v in range(1, 14)]))
    assert [f.rule_id for f in found] == ["LMI013"]
    message = found[0].message
    assert "13 function version(s) are still bound to it (agent-core-dev-clm-router:1, " in message
    assert "agent-core-dev-clm-router:10 and 3 more)" in message
    assert message.endswith("Run `lmi-delivery prune --env dev --retire-capacity-provider "
                            "agent-core-dev-old`, then plan again")
    assert found[0].blocks("low")


def test_a_listing_aws_refuses_warns_without_blocking() -> None:
    found = _check(FakeLambda([], "AccessDeniedException"))
    assert [(f.rule_id, f.advisory) for f in found] == [("LMI013", True)]
    assert "could not be listed (ListFunctionVersionsByCapacityProvider failed: " \
           "AccessDeniedException)" in found[0].message
    assert not found[0].blocks("low")


def test_the_validation_report_uses_the_injected_client(tmp_path: Path) -> None:
    config = load(make_repo(tmp_path))
    plan, _ = load_fixture(BOUND)
    offline = validation_report(config, plan, environment="dev")
    assert offline.passed
    assert [f.advisory for f in offline.findings] == [True]
    client = FakeLambda([("agent-core-dev-clm-router", 1)])
    online = validation_report(config, plan, environment="dev", lambda_client=client)
    assert not online.passed
    assert "--env dev --retire-capacity-provider agent-core-dev-old" in \
        online.findings[0].message
