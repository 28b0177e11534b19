"""summarize(): counts, per type and address, LMI resources, outputs, from plan JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lmi_delivery.errors import InputError
from lmi_delivery.terraform.summary import summarize

PLANS = Path(__file__).parent / "plans"


def _plan(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text())
    return data


def test_counts_exclude_no_ops_and_reads() -> None:
    summary = summarize(_plan("mixed"))
    assert (summary.add, summary.change, summary.destroy, summary.replace) == (1, 2, 1, 2)
    assert summary.counts.forget == 1
    assert summary.counts.imports == 1
    assert summary.text() == (
        "Plan: 1 to import, 1 to add, 2 to change, 1 to destroy, 2 to replace, 1 to forget."
        " 3 outputs changed."
    )


def test_every_address_with_its_action() -> None:
    assert summarize(_plan("mixed")).by_address() == {
        "aws_iam_role.legacy": "delete",
        "aws_iam_role.operator": "replace",
        "aws_lambda_capacity_provider.shared": "create",
        "aws_lambda_function.classic": "update",
        "aws_lambda_function.router": "update",
        'aws_lambda_function.worker["a"]': "replace",
        "aws_s3_bucket.logs": "import",
        "aws_s3_bucket.old": "forget",
    }


def test_counts_per_resource_type() -> None:
    by_type = summarize(_plan("mixed")).by_type
    assert set(by_type) == {"aws_iam_role", "aws_lambda_capacity_provider",
                            "aws_lambda_function", "aws_s3_bucket"}
    assert by_type["aws_lambda_function"].to_dict() == {
        "add": 0, "change": 2, "destroy": 0, "replace": 1, "forget": 0, "import": 0}
    assert by_type["aws_iam_role"].to_dict()["replace"] == 1
    assert by_type["aws_iam_role"].to_dict()["destroy"] == 1


def test_lmi_resources_are_called_out() -> None:
    lmi = {r.address: r.lmi for r in summarize(_plan("mixed")).lmi}
    # classic has an empty capacity_provider_config: a standard function, not LMI
    assert lmi == {
        "aws_lambda_capacity_provider.shared": "capacity_provider",
        "aws_lambda_function.router": "function",
        'aws_lambda_function.worker["a"]': "function",
    }


def test_output_changes_without_values() -> None:
    summary = summarize(_plan("mixed"))
    assert summary.outputs == {"router_arn": "update", "secret": "create", "gone": "delete"}
    assert "s3cr3t" not in json.dumps(summary.to_dict())


def test_replace_reason_is_kept() -> None:
    summary = summarize(_plan("create_replace"))
    assert summary.text() == "Plan: 1 to add, 0 to change, 0 to destroy, 1 to replace."
    replaced = [r for r in summary.resources if r.action == "replace"]
    assert [r.reason for r in replaced] == ["replace_by_request"]


def test_no_changes() -> None:
    summary = summarize(_plan("no_changes"))
    assert not summary.has_changes
    assert summary.resources == ()
    assert summary.text() == "No changes."
    assert summary.to_dict()["counts"] == {
        "add": 0, "change": 0, "destroy": 0, "replace": 0, "forget": 0, "import": 0}


def test_to_dict_is_json_ready() -> None:
    data = summarize(_plan("mixed")).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["has_changes"] is True
    assert data["counts"]["replace"] == 2
    assert data["lmi"][0] == {"address": "aws_lambda_capacity_provider.shared",
                              "type": "aws_lambda_capacity_provider", "action": "create",
                              "lmi": "capacity_provider"}
    assert list(data["by_type"]) == sorted(data["by_type"])


def test_only_output_changes_count_as_changes() -> None:
    plan = _plan("no_changes")
    plan["output_changes"]["router_release"]["actions"] = ["update"]
    summary = summarize(plan)
    assert summary.has_changes
    assert summary.text() == "Plan: 0 to add, 0 to change, 0 to destroy, 0 to replace. " \
        "1 output changed."


def test_unsupported_format_version_is_refused() -> None:
    with pytest.raises(InputError, match=r"format_version '2\.0'"):
        summarize({"format_version": "2.0"})


def test_unknown_actions_are_refused() -> None:
    plan = _plan("create_replace")
    plan["resource_changes"][0]["change"]["actions"] = ["teleport"]
    with pytest.raises(InputError, match=r"\['teleport'\] for terraform_data.a"):
        summarize(plan)
