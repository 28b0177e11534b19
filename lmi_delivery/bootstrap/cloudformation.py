"""The plane as a CloudFormation template (JSON). IAM documents are embedded as the model's
canonical JSON strings, byte for byte what the Terraform rendering embeds."""

from __future__ import annotations

import json
from typing import Any

from lmi_delivery.bootstrap.arns import GITHUB_OIDC_HOST
from lmi_delivery.bootstrap.ids import logical_id
from lmi_delivery.bootstrap.model import Bucket, Plane, Project, Role
from lmi_delivery.bootstrap.trust import AUDIENCE

SHARED = "CreateShared"
#: Name of each role's inline policy.
POLICY_NAME = "lmi-delivery"


def render_cloudformation(plane: Plane) -> str:
    resources: dict[str, Any] = {
        "GitHubOidcProvider": {
            "Type": "AWS::IAM::OIDCProvider", "Condition": SHARED,
            "Properties": {"Url": f"https://{GITHUB_OIDC_HOST}", "ClientIdList": [AUDIENCE]}},
    }
    for role in plane.roles:
        resources[logical_id(role.key, "Role")] = _role(role)
    if plane.kms.created:
        assert plane.kms.policy is not None
        resources["ArtifactsKey"] = {
            "Type": "AWS::KMS::Key", "Condition": SHARED,
            "Properties": {"Description": f"lmi-delivery artifacts and state of {plane.service}",
                           "EnableKeyRotation": True, "KeyPolicy": plane.kms.policy.canonical()}}
        resources["ArtifactsKeyAlias"] = {
            "Type": "AWS::KMS::Alias", "Condition": SHARED,
            "Properties": {"AliasName": plane.kms.alias, "TargetKeyId": {"Ref": "ArtifactsKey"}}}
    key: Any = ({"Fn::GetAtt": ["ArtifactsKey", "Arn"]} if plane.kms.created
                else plane.kms.arn)
    for bucket in plane.buckets:
        name = logical_id(bucket.key, "Bucket")
        resources[name] = _bucket(bucket, key)
        resources[f"{name}Policy"] = {
            "Type": "AWS::S3::BucketPolicy", "Condition": SHARED,
            "Properties": {"Bucket": {"Ref": name}, "PolicyDocument": bucket.policy.canonical()}}
    for project in plane.projects:
        resources[logical_id(project.key, "Project")] = _project(project)
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (f"lmi-delivery delivery plane of {plane.service} environment "
                        f"{plane.environment} ({plane.repository})"),
        "Parameters": {"CreateSharedResources": {
            "Type": "String", "AllowedValues": ["true", "false"], "Default": "true",
            "Description": "false when another environment's stack in this account already "
                           "created the OIDC provider, the buckets and the key"}},
        "Conditions": {SHARED: {"Fn::Equals": [{"Ref": "CreateSharedResources"}, "true"]}},
        "Resources": resources,
        "Outputs": _outputs(plane),
    }
    return json.dumps(template, indent=2) + "\n"


def _role(role: Role) -> dict[str, Any]:
    return {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": role.name, "Description": role.description,
        "AssumeRolePolicyDocument": role.trust.canonical(),
        "Policies": [{"PolicyName": POLICY_NAME, "PolicyDocument": role.policy.canonical()}]}}


def _bucket(bucket: Bucket, key: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "BucketName": bucket.name,
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
            "BucketKeyEnabled": True}]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True},
        "VersioningConfiguration": {"Status": "Enabled"},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    }
    if bucket.lifecycle:
        properties["LifecycleConfiguration"] = {"Rules": [
            *({"Id": r.rule_id, "Status": "Enabled",
               "TagFilters": [{"Key": r.tag_key, "Value": r.tag_value}],
               "ExpirationInDays": r.days,
               "NoncurrentVersionExpiration": {"NoncurrentDays": r.days}}
              for r in bucket.lifecycle),
            {"Id": "abort-incomplete-uploads", "Status": "Enabled",
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}
    return {"Type": "AWS::S3::Bucket", "Condition": SHARED, "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain", "Properties": properties}


def _project(project: Project) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Name": project.name,
        "ServiceRole": {"Fn::GetAtt": [logical_id(project.role, "Role"), "Arn"]},
        "Source": {"Type": "GITHUB", "Location": project.source_url,
                   "BuildSpec": project.buildspec},
        "Artifacts": {"Type": "NO_ARTIFACTS"},
        "Environment": {"Type": "LINUX_CONTAINER", "ComputeType": project.compute_type,
                        "Image": project.image},
        "TimeoutInMinutes": project.timeout_minutes,
        "QueuedTimeoutInMinutes": project.queued_timeout_minutes,
        "LogsConfig": {"CloudWatchLogs": {"Status": "ENABLED",
                                          "GroupName": f"/aws/codebuild/{project.name}"}},
    }
    if project.concurrent_build_limit is not None:
        properties["ConcurrentBuildLimit"] = project.concurrent_build_limit
    return {"Type": "AWS::CodeBuild::Project", "Properties": properties}


def _outputs(plane: Plane) -> dict[str, Any]:
    outputs: dict[str, Any] = {
        logical_id(role.key, "RoleArn"): {
            "Description": role.description,
            "Value": {"Fn::GetAtt": [logical_id(role.key, "Role"), "Arn"]}}
        for role in plane.roles}
    outputs["BackendConfig"] = {
        "Description": "terraform.backend_config lines for lmi-delivery.yml, one per ';'",
        "Value": "; ".join(plane.backend_config)}
    return outputs
