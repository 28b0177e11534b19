"""Resource types moto's CloudFormation lacks, so that the bootstrap template deploys.

``AWS::CodeBuild::Project`` (a project of the sandbox's own CodeBuild: builds of it run),
``AWS::IAM::OIDCProvider`` and ``AWS::S3::BucketPolicy`` create real sandbox resources;
``AWS::S3::Bucket`` is moto's, plus the ``LifecycleConfiguration``,
``PublicAccessBlockConfiguration`` and ``VersioningConfiguration`` moto's model ignores.
:func:`register` makes moto's parser see them (it caches its table of types on first use).
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import parsing
from moto.codebuild.models import codebuild_backends
from moto.core.common_models import CloudFormationModel
from moto.iam.models import iam_backends
from moto.s3.models import FakeBucket, s3_backends

from lmi_delivery.sandbox.codebuild import projects

Json = dict[str, Any]


def _camel(value: Any) -> Any:
    """CloudFormation's PascalCase properties as CodeBuild's API spells them."""
    if isinstance(value, dict):
        return {("buildspec" if k == "BuildSpec" else k[:1].lower() + k[1:]): _camel(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


class CodeBuildProject(CloudFormationModel):
    """A project as ``CreateProject`` makes it; its ``Ref`` is the name, ``Arn`` its ARN."""

    def __init__(self, name: str, arn: str, account: str, region: str) -> None:
        self.name, self.arn, self.account, self.region = name, arn, account, region

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodeBuild::Project"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Json, account_id: str,
            region_name: str, **kwargs: Any) -> CodeBuildProject:
        p = cloudformation_json["Properties"]
        name = p.get("Name", resource_name)
        backend = codebuild_backends[account_id][region_name]
        project = backend.create_project(
            project_name=name, description=p.get("Description"),
            project_source=_camel(p["Source"]), artifacts=_camel(p["Artifacts"]),
            environment=_camel(p["Environment"]), service_role=p["ServiceRole"],
            tags=_camel(p.get("Tags")), cache=_camel(p.get("Cache")),
            timeout=p.get("TimeoutInMinutes"), queued_timeout=p.get("QueuedTimeoutInMinutes"),
            source_version=p.get("SourceVersion"), logs_config=_camel(p.get("LogsConfig")),
            vpc_config=_camel(p.get("VpcConfig")))
        if "ConcurrentBuildLimit" in p:  # moto drops it; the sandbox's CodeBuild keeps it
            projects.set_limit(account_id, region_name, name, p["ConcurrentBuildLimit"])
        return cls(name, str(project["arn"]), account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: CodeBuildProject, new_resource_name: str,
            cloudformation_json: Json, account_id: str, region_name: str) -> CodeBuildProject:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                   account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Json, account_id: str,
            region_name: str) -> None:
        codebuild_backends[account_id][region_name].codebuild_projects.pop(resource_name, None)

    def delete(self, account_id: str, region_name: str) -> None:
        codebuild_backends[account_id][region_name].codebuild_projects.pop(self.name, None)


class OidcProvider(CloudFormationModel):
    """An IAM OpenID Connect provider; its ``Ref`` and ``Arn`` are its ARN."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::OIDCProvider"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Json, account_id: str,
            region_name: str, **kwargs: Any) -> OidcProvider:
        p = cloudformation_json["Properties"]
        provider = iam_backends[account_id]["aws"].create_open_id_connect_provider(
            p["Url"], p.get("ThumbprintList", []), p.get("ClientIdList", []),
            _camel(p.get("Tags", [])))
        return cls(provider.arn)

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Json, account_id: str,
            region_name: str) -> None:
        iam_backends[account_id]["aws"].delete_open_id_connect_provider(resource_name)


class BucketPolicy(CloudFormationModel):
    """A bucket's policy (``PolicyDocument`` an object or its JSON text)."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Json, account_id: str,
            region_name: str, **kwargs: Any) -> BucketPolicy:
        p = cloudformation_json["Properties"]
        document = p["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        s3_backends[account_id]["aws"].put_bucket_policy(p["Bucket"], text.encode())
        return cls(p["Bucket"])

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: BucketPolicy, new_resource_name: str,
            cloudformation_json: Json, account_id: str, region_name: str) -> BucketPolicy:
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                   account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Json, account_id: str,
            region_name: str) -> None:
        s3_backends[account_id]["aws"].delete_bucket_policy(resource_name)


class Bucket(CloudFormationModel):
    """moto's bucket, with its lifecycle rules, public access block and versioning applied."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "BucketName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::Bucket"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Json, account_id: str,
            region_name: str, **kwargs: Any) -> FakeBucket:
        bucket = FakeBucket.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _configure(bucket.name, cloudformation_json["Properties"], account_id)
        return bucket

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: FakeBucket, new_resource_name: str,
            cloudformation_json: Json, account_id: str, region_name: str) -> FakeBucket:
        bucket = FakeBucket.update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _configure(bucket.name, cloudformation_json["Properties"], account_id)
        return bucket

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Json, account_id: str,
            region_name: str) -> None:
        FakeBucket.delete_from_cloudformation_json(resource_name, cloudformation_json,
                                                   account_id, region_name)


def _configure(name: str, properties: Json, account: str) -> None:
    backend = s3_backends[account]["aws"]
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(name, {k: str(v).lower() for k, v in block.items()})
    rules = (properties.get("LifecycleConfiguration") or {}).get("Rules")
    if rules:
        backend.put_bucket_lifecycle(name, [_lifecycle_rule(r) for r in rules])
    status = (properties.get("VersioningConfiguration") or {}).get("Status")
    if status:
        backend.put_bucket_versioning(name, status)


def _lifecycle_rule(rule: Json) -> Json:
    """A CloudFormation lifecycle rule in the form of S3's XML API (as moto reads it)."""
    found: Json = {"ID": rule.get("Id"), "Status": rule.get("Status", "Enabled")}
    tags = rule.get("TagFilters") or []
    if len(tags) == 1:
        found["Filter"] = {"Tag": {"Key": tags[0]["Key"], "Value": tags[0]["Value"]}}
    elif tags:
        found["Filter"] = {"And": {"Tag": [{"Key": t["Key"], "Value": t["Value"]} for t in tags]}}
    else:
        found["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        found["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        found["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": str(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        found["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": str(
            rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    return found


def register() -> None:
    """Make moto's CloudFormation parser build these types (idempotent)."""
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()
    model_map = parsing.get_model_map()
    for kind in (CodeBuildProject, OidcProvider, BucketPolicy, Bucket):
        model_map[kind.cloudformation_type()] = kind
