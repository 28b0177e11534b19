"""What is deployed of an environment's delivery plane, read with read-only calls.

One read per resource of the :class:`~lmi_delivery.bootstrap.model.Plane`: IAM (``GetRole``,
``ListRolePolicies``, ``GetRolePolicy``, ``ListAttachedRolePolicies``,
``GetOpenIDConnectProvider``), CodeBuild (``BatchGetProjects``), S3 (``GetBucketEncryption``,
``GetBucketVersioning``, ``GetPublicAccessBlock``, ``GetBucketPolicy``,
``GetBucketLifecycleConfiguration``) and KMS (``DescribeKey``, to tell which key a bucket names).
A resource that does not exist reads as ``None``; a configuration a bucket lacks (no policy, no
lifecycle) reads as empty. Any other AWS error stops the read: a doctor that cannot see a
resource must not report it as fine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lmi_delivery.aws.errors import error_code, is_aws_error, translate
from lmi_delivery.bootstrap.model import Plane

T = TypeVar("T")

_MISSING_ROLE = {"NoSuchEntity"}
_MISSING_BUCKET = {"NoSuchBucket", "404", "NotFound"}
#: Codes S3 answers when a bucket has no such configuration (it is then empty, not unknown).
_ABSENT = {"ServerSideEncryptionConfigurationNotFoundError", "NoSuchBucketPolicy",
           "NoSuchLifecycleConfiguration", "NoSuchPublicAccessBlockConfiguration"}


@dataclass(frozen=True)
class DeployedRole:
    arn: str
    trust: Mapping[str, Any] | None
    inline: Mapping[str, Any]
    """Inline policy name → document."""
    attached: tuple[str, ...]
    """ARNs of managed policies attached to the role."""


@dataclass(frozen=True)
class DeployedBucket:
    encryption: tuple[Mapping[str, Any], ...]
    """The default-encryption rules (empty: none)."""
    versioning: str
    """``Enabled``, ``Suspended`` or ``""`` (never enabled)."""
    public_access_block: Mapping[str, bool]
    policy: str | None
    lifecycle: tuple[Mapping[str, Any], ...]
    kms_key_ids: Mapping[str, str] = field(default_factory=dict)
    """Each KMS key the encryption names → the id of the key it resolves to."""


@dataclass(frozen=True)
class Deployed:
    oidc_provider: Mapping[str, Any] | None
    roles: Mapping[str, DeployedRole | None]
    """By role name."""
    projects: Mapping[str, Mapping[str, Any] | None]
    """By project name: ``BatchGetProjects``' project."""
    buckets: Mapping[str, DeployedBucket | None]
    """By bucket name."""
    plane_key_id: str | None
    """The id of the key the plane encrypts with (its alias or ARN resolved); None: no such
    key."""


def _or_none(call: Callable[[], T], missing: set[str], operation: str) -> T | None:
    try:
        return call()
    except Exception as exc:
        if is_aws_error(exc) and error_code(exc) in missing:
            return None
        if is_aws_error(exc):
            raise translate(exc, operation) from exc
        raise


def read_oidc_provider(iam: Any, arn: str) -> Mapping[str, Any] | None:
    return _or_none(lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn),
                    _MISSING_ROLE, f"GetOpenIDConnectProvider {arn}")


def read_role(iam: Any, name: str) -> DeployedRole | None:
    role = _or_none(lambda: iam.get_role(RoleName=name)["Role"], _MISSING_ROLE,
                    f"GetRole {name}")
    if role is None:
        return None
    names = [n for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
             for n in page["PolicyNames"]]
    inline = {n: iam.get_role_policy(RoleName=name, PolicyName=n)["PolicyDocument"]
              for n in names}
    attached = tuple(p["PolicyArn"] for page in
                     iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
                     for p in page["AttachedPolicies"])
    return DeployedRole(str(role["Arn"]), role.get("AssumeRolePolicyDocument"), inline,
                        attached)


def read_projects(codebuild: Any, names: list[str]) -> dict[str, Mapping[str, Any] | None]:
    try:
        answer = codebuild.batch_get_projects(names=names)
    except Exception as exc:
        if is_aws_error(exc):
            raise translate(exc, "BatchGetProjects") from exc
        raise
    found: dict[str, Mapping[str, Any] | None] = dict.fromkeys(names)
    for project in answer.get("projects", []):
        found[str(project["name"])] = project
    return found


def _config(call: Callable[[], T], empty: T, operation: str) -> T:
    value = _or_none(call, _ABSENT, operation)
    return empty if value is None else value


def read_bucket(s3: Any, kms: Any, name: str) -> DeployedBucket | None:
    if _or_none(lambda: s3.head_bucket(Bucket=name), _MISSING_BUCKET,
                f"HeadBucket {name}") is None:
        return None
    none: list[Mapping[str, Any]] = []
    rules = tuple(_config(
        lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
        ["Rules"], none, f"GetBucketEncryption {name}"))
    versioning = str(s3.get_bucket_versioning(Bucket=name).get("Status", ""))
    unset: dict[str, bool] = {}
    block = _config(lambda: s3.get_public_access_block(Bucket=name)
                    ["PublicAccessBlockConfiguration"], unset, f"GetPublicAccessBlock {name}")
    policy = _or_none(lambda: s3.get_bucket_policy(Bucket=name)["Policy"], _ABSENT,
                      f"GetBucketPolicy {name}")
    lifecycle = tuple(_config(lambda: s3.get_bucket_lifecycle_configuration(Bucket=name)
                              ["Rules"], none, f"GetBucketLifecycleConfiguration {name}"))
    keys = {key: resolved for rule in rules
            if (key := (rule.get("ApplyServerSideEncryptionByDefault") or {})
                .get("KMSMasterKeyID"))
            and (resolved := key_id(kms, str(key))) is not None}
    return DeployedBucket(rules, versioning, dict(block), policy, lifecycle, keys)


def key_id(kms: Any, key: str) -> str | None:
    """The id of the KMS key ``key`` (an id, ARN, alias name or alias ARN) names."""
    described = _or_none(lambda: kms.describe_key(KeyId=key), {"NotFoundException"},
                         f"DescribeKey {key}")
    return None if described is None else str(described["KeyMetadata"]["KeyId"])


def read_plane(plane: Plane, clients: Callable[[str], Any]) -> Deployed:
    """Everything of ``plane`` as deployed; ``clients(service)`` builds each client."""
    iam, s3, kms = clients("iam"), clients("s3"), clients("kms")
    return Deployed(
        oidc_provider=read_oidc_provider(iam, plane.oidc_provider_arn),
        roles={role.name: read_role(iam, role.name) for role in plane.roles},
        projects=read_projects(clients("codebuild"), [p.name for p in plane.projects]),
        buckets={b.name: read_bucket(s3, kms, b.name) for b in plane.buckets},
        plane_key_id=key_id(kms, plane.kms.arn or plane.kms.alias),
    )
