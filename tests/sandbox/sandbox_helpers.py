"""Test helpers that build LMI resources through the AWS API, as a user would."""

from __future__ import annotations

import itertools
from typing import Any

from lmi_delivery.sandbox import seeding

_CHANGES = itertools.count()
# The sandbox's own trust policy and deployment package: any valid ones do.
TRUST = seeding.TRUST
zip_bytes = seeding.tiny_zip


def role(iam: Any, name: str = "fn-role") -> str:
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])


def provider(lam: Any, iam: Any, name: str = "shared", **extra: Any) -> str:
    made = lam.create_capacity_provider(
        CapacityProviderName=name,
        VpcConfig={"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]},
        PermissionsConfig={"CapacityProviderOperatorRoleArn": role(iam, "operator")},
        **extra,
    )
    return str(made["CapacityProvider"]["CapacityProviderArn"])


def lmi_config(provider_arn: str) -> dict[str, Any]:
    return {"LambdaManagedInstancesCapacityProviderConfig": {
        "CapacityProviderArn": provider_arn, "PerExecutionEnvironmentMaxConcurrency": 10,
        "ExecutionEnvironmentMemoryGiBPerVCpu": 2.0}}


def function(lam: Any, iam: Any, name: str, provider_arn: str | None = None,
             **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"MemorySize": 2048, "Runtime": "python3.13", **extra}
    if provider_arn:
        params["CapacityProviderConfig"] = lmi_config(provider_arn)
    made: dict[str, Any] = lam.create_function(
        FunctionName=name, Role=role(iam), Handler="app.handler",
        Code={"ZipFile": zip_bytes()}, **params)
    return made


def publish_new(lam: Any, name: str, **extra: Any) -> dict[str, Any]:
    """Change the function, then publish: AWS publishes only when something changed."""
    lam.update_function_configuration(FunctionName=name, Description=f"change {next(_CHANGES)}")
    published: dict[str, Any] = lam.publish_version(FunctionName=name, **extra)
    return published
