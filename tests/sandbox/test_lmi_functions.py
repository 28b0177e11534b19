"""LMI functions: CapacityProviderConfig on functions and versions, $LATEST.PUBLISHED."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import function, lmi_config, provider, publish_new, role, zip_bytes

FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:router"


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    return aws_clients("lambda")


@pytest.fixture
def iam(aws_clients: Any) -> Any:
    return aws_clients("iam")


@pytest.fixture
def provider_arn(lam: Any, iam: Any) -> str:
    return provider(lam, iam, "shared")


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_capacity_provider_config_is_returned_everywhere(lam: Any, iam: Any,
                                                         provider_arn: str) -> None:
    expected = lmi_config(provider_arn)
    created = function(lam, iam, "router", provider_arn)
    assert created["CapacityProviderConfig"] == expected
    assert lam.get_function(FunctionName="router")["Configuration"][
        "CapacityProviderConfig"] == expected
    assert lam.get_function_configuration(FunctionName="router")[
        "CapacityProviderConfig"] == expected
    listed = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert listed["router"]["CapacityProviderConfig"] == expected
    version = publish_new(lam, "router")
    assert version["Version"] == "1"
    assert version["CapacityProviderConfig"] == expected
    assert lam.get_function_configuration(FunctionName="router", Qualifier="1")[
        "CapacityProviderConfig"] == expected
    versions = lam.list_versions_by_function(FunctionName="router")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    assert all(v["CapacityProviderConfig"] == expected for v in versions)


def test_standard_functions_have_no_capacity_provider_config(lam: Any, iam: Any) -> None:
    created = function(lam, iam, "plain", MemorySize=128)
    assert "CapacityProviderConfig" not in created
    assert lam.get_function_configuration(FunctionName="plain")["State"] == "Active"


@pytest.mark.parametrize("extra", [
    {"MemorySize": 1024},
    {"Runtime": "python3.12"},
    {"VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}},
    {"FileSystemConfigs": [{"Arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:"
                                   "access-point/fsap-1", "LocalMountPath": "/mnt/efs"}]},
])
def test_lmi_function_settings_are_checked(lam: Any, iam: Any, provider_arn: str,
                                           extra: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as error:
        function(lam, iam, "router", provider_arn, **extra)
    assert code(error) == "InvalidParameterValueException"


@pytest.mark.parametrize(("key", "value"), [  # botocore itself checks the minimums
    ("PerExecutionEnvironmentMaxConcurrency", 1601),
    ("ExecutionEnvironmentMemoryGiBPerVCpu", 9.0),
])
def test_lmi_config_bounds_are_checked(lam: Any, iam: Any, provider_arn: str, key: str,
                                       value: float) -> None:
    # AWS-FACTS.md: concurrency 1-1600 per environment, 2-8 GiB of memory per vCPU.
    config = lmi_config(provider_arn)
    config["LambdaManagedInstancesCapacityProviderConfig"][key] = value
    with pytest.raises(ClientError) as error:
        lam.create_function(FunctionName="router", Role=role(iam), Handler="app.handler",
                            Runtime="python3.13", MemorySize=2048,
                            Code={"ZipFile": zip_bytes()}, CapacityProviderConfig=config)
    assert code(error) == "InvalidParameterValueException"


def test_unknown_capacity_provider_is_refused(lam: Any, iam: Any) -> None:
    with pytest.raises(ClientError) as error:
        function(lam, iam, "router",
                 "arn:aws:lambda:us-east-1:123456789012:capacity-provider:nowhere")
    assert code(error) == "InvalidParameterValueException"


def test_standard_function_cannot_move_onto_a_provider(lam: Any, iam: Any,
                                                       provider_arn: str) -> None:
    function(lam, iam, "plain")
    with pytest.raises(ClientError) as error:
        lam.update_function_configuration(FunctionName="plain",
                                          CapacityProviderConfig=lmi_config(provider_arn))
    assert code(error) == "InvalidParameterValueException"


def test_publish_to_latest_published(lam: Any, iam: Any, provider_arn: str) -> None:
    function(lam, iam, "router", provider_arn)
    published = lam.publish_version(FunctionName="router", PublishTo="LATEST_PUBLISHED")
    assert published["Version"] == "$LATEST.PUBLISHED"
    assert published["FunctionArn"] == f"{FN_ARN}:$LATEST.PUBLISHED"
    assert published["CapacityProviderConfig"] == lmi_config(provider_arn)
    got = lam.get_function_configuration(FunctionName="router", Qualifier="$LATEST.PUBLISHED")
    assert got["Version"] == "$LATEST.PUBLISHED"
    assert got["State"] == "Active"
    again = lam.publish_version(FunctionName="router", PublishTo="LATEST_PUBLISHED")
    assert again["Version"] == "$LATEST.PUBLISHED"
    versions = [v["Version"] for v in
                lam.list_versions_by_function(FunctionName="router")["Versions"]]
    assert versions.count("$LATEST.PUBLISHED") == 1
    unqualified = lam.invoke(FunctionName="router", Payload=b"{}")
    assert unqualified["ExecutedVersion"] == "$LATEST.PUBLISHED"


def test_unqualified_invoke_of_lmi_function_needs_a_published_version(
        lam: Any, iam: Any, provider_arn: str) -> None:
    function(lam, iam, "router", provider_arn)
    with pytest.raises(ClientError) as error:
        lam.invoke(FunctionName="router", Payload=b"{}")
    assert code(error) == "NoPublishedVersionException"


def test_version_numbers_are_never_reused(lam: Any, iam: Any, provider_arn: str) -> None:
    function(lam, iam, "router", provider_arn)
    assert [publish_new(lam, "router")["Version"] for _ in range(3)] == ["1", "2", "3"]
    lam.delete_function(FunctionName="router", Qualifier="3")
    lam.delete_function(FunctionName="router", Qualifier="1")
    assert publish_new(lam, "router")["Version"] == "4"


def test_unchanged_function_publishes_no_new_version(lam: Any, iam: Any) -> None:
    function(lam, iam, "plain")
    first = lam.publish_version(FunctionName="plain")
    second = lam.publish_version(FunctionName="plain")
    assert first["Version"] == second["Version"] == "1"


def test_list_versions_pages_at_50(lam: Any, iam: Any) -> None:
    function(lam, iam, "plain")
    for _ in range(52):
        publish_new(lam, "plain")
    first = lam.list_versions_by_function(FunctionName="plain")
    assert len(first["Versions"]) == 50
    rest = lam.list_versions_by_function(FunctionName="plain", Marker=first["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["50", "51", "52"]
    with pytest.raises(ClientError) as error:
        lam.list_versions_by_function(FunctionName="missing")
    assert code(error) == "ResourceNotFoundException"
