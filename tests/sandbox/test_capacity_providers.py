"""Capacity providers through the Lambda API (2025-11-30), per AWS-FACTS.md and botocore."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import function, provider, publish_new


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    return aws_clients("lambda")


@pytest.fixture
def iam(aws_clients: Any) -> Any:
    return aws_clients("iam")


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_create_get_list_update_delete(lam: Any, iam: Any) -> None:
    arn = provider(lam, iam, "shared")
    assert arn == "arn:aws:lambda:us-east-1:123456789012:capacity-provider:shared"
    got = lam.get_capacity_provider(CapacityProviderName="shared")["CapacityProvider"]
    assert got["State"] == "Active"
    assert got["VpcConfig"]["SubnetIds"] == ["subnet-1", "subnet-2"]
    assert got["CapacityProviderScalingConfig"]["ScalingMode"] == "Auto"
    assert lam.get_capacity_provider(CapacityProviderName=arn)["CapacityProvider"] == got
    listed = lam.list_capacity_providers()["CapacityProviders"]
    assert [p["CapacityProviderArn"] for p in listed] == [arn]
    updated = lam.update_capacity_provider(
        CapacityProviderName="shared",
        CapacityProviderScalingConfig={"MaxVCpuCount": 64, "ScalingMode": "Auto"},
    )["CapacityProvider"]
    assert updated["CapacityProviderScalingConfig"]["MaxVCpuCount"] == 64
    deleted = lam.delete_capacity_provider(CapacityProviderName="shared")["CapacityProvider"]
    assert deleted["State"] == "Deleting"
    with pytest.raises(ClientError) as error:
        lam.get_capacity_provider(CapacityProviderName="shared")
    assert code(error) == "ResourceNotFoundException"


def test_duplicate_name_conflicts(lam: Any, iam: Any) -> None:
    provider(lam, iam, "shared")
    with pytest.raises(ClientError) as error:
        provider(lam, iam, "shared")
    assert code(error) == "ResourceConflictException"


@pytest.mark.parametrize("extra", [
    {"InstanceRequirements": {"Architectures": ["x86_64"], "AllowedInstanceTypes": ["m7i.large"],
                              "ExcludedInstanceTypes": ["c7i.large"]}},
    {"CapacityProviderScalingConfig": {"ScalingMode": "Auto", "ScalingPolicies": [
        {"PredefinedMetricType": "LambdaCapacityProviderAverageCPUUtilization",
         "TargetValue": 50.0}]}},
])
def test_invalid_definitions_are_refused(lam: Any, iam: Any, extra: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as error:
        provider(lam, iam, "bad", **extra)
    assert code(error) == "InvalidParameterValueException"


def test_manual_mode_takes_policies(lam: Any, iam: Any) -> None:
    provider(lam, iam, "manual", CapacityProviderScalingConfig={
        "ScalingMode": "Manual", "MaxVCpuCount": 12, "ScalingPolicies": [
            {"PredefinedMetricType": "LambdaCapacityProviderAverageCPUUtilization",
             "TargetValue": 50.0}]})


def test_list_pages_with_markers(lam: Any, iam: Any) -> None:
    for number in range(7):
        provider(lam, iam, f"p{number}")
    first = lam.list_capacity_providers(MaxItems=5)
    assert len(first["CapacityProviders"]) == 5
    second = lam.list_capacity_providers(MaxItems=5, Marker=first["NextMarker"])
    assert len(second["CapacityProviders"]) == 2
    assert "NextMarker" not in second
    pages = lam.get_paginator("list_capacity_providers").paginate(PaginationConfig={
        "PageSize": 3})
    assert sum(len(p["CapacityProviders"]) for p in pages) == 7


def test_delete_refused_while_versions_reference_it(lam: Any, iam: Any) -> None:
    arn = provider(lam, iam, "shared")
    function(lam, iam, "a", arn)
    function(lam, iam, "b", arn)
    publish_new(lam, "a")
    with pytest.raises(ClientError) as error:
        lam.delete_capacity_provider(CapacityProviderName="shared")
    assert code(error) == "ResourceConflictException"
    assert "currently in use by 2 functions" in str(error.value)
    lam.delete_function(FunctionName="b")
    lam.delete_function(FunctionName="a")
    lam.delete_capacity_provider(CapacityProviderName="shared")


def test_versions_listed_by_provider_and_limited_to_100(lam: Any, iam: Any) -> None:
    arn = provider(lam, iam, "shared")
    function(lam, iam, "a", arn)
    function(lam, iam, "b", arn)
    for _ in range(60):
        publish_new(lam, "a")
    for _ in range(40):
        publish_new(lam, "b")
    first = lam.list_function_versions_by_capacity_provider(CapacityProviderName="shared")
    assert first["CapacityProviderArn"] == arn
    assert len(first["FunctionVersions"]) == 50
    assert first["FunctionVersions"][0] == {
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:a:1", "State": "Active"}
    second = lam.list_function_versions_by_capacity_provider(
        CapacityProviderName="shared", Marker=first["NextMarker"])
    assert len(second["FunctionVersions"]) == 50
    assert "NextMarker" not in second
    with pytest.raises(ClientError) as error:
        publish_new(lam, "b")
    assert code(error) == "FunctionVersionsPerCapacityProviderLimitExceededException"
    lam.delete_function(FunctionName="a", Qualifier="1")
    assert publish_new(lam, "b")["Version"] == "41"
    with pytest.raises(ClientError) as error:
        lam.list_function_versions_by_capacity_provider(CapacityProviderName="missing")
    assert code(error) == "ResourceNotFoundException"


def test_old_versions_keep_the_provider_after_the_function_moves(lam: Any, iam: Any) -> None:
    # AWS-FACTS.md: an LMI function can move to another provider in place; its published
    # versions keep their association, and the old provider cannot be deleted while they exist.
    old = provider(lam, iam, "old")
    new = provider(lam, iam, "new")
    function(lam, iam, "router", old)
    publish_new(lam, "router")
    lam.update_function_configuration(FunctionName="router", CapacityProviderConfig={
        "LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": new}})
    assert publish_new(lam, "router")["CapacityProviderConfig"][
        "LambdaManagedInstancesCapacityProviderConfig"]["CapacityProviderArn"] == new
    listed = lam.list_function_versions_by_capacity_provider(CapacityProviderName="old")
    assert [v["FunctionArn"].rsplit(":", 1)[-1] for v in listed["FunctionVersions"]] == ["1"]
    with pytest.raises(ClientError) as error:
        lam.delete_capacity_provider(CapacityProviderName="old")
    assert "To delete this capacity provider, first remove its association" in str(error.value)
    lam.delete_function(FunctionName="router", Qualifier="1")
    lam.delete_capacity_provider(CapacityProviderName="old")
