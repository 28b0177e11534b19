"""The artifacts bucket, the state bucket, their key and the ``backend_config`` to paste.

Both buckets: SSE-KMS by default, versioning, public access blocked, TLS only. The artifacts
bucket also refuses any put of a plan object that could overwrite one (only ``If-None-Match: *``
puts, the condition key ``s3:if-none-match``) and any delete of one; its lifecycle expires plans
(tagged by the plan build) after ``codebuild.plan_retention_days``.
"""

from __future__ import annotations

from lmi_delivery.bootstrap.arns import Arns
from lmi_delivery.bootstrap.model import Bucket, Document, KmsKey, LifecycleRule, Statement
from lmi_delivery.bootstrap.scope import Scope

#: Tag the plan build puts on plan objects: ``deploy`` or ``review``.
PLAN_KIND_TAG = "lmi-delivery-plan"


def _tls_only(arns: Arns, bucket: str) -> Statement:
    return Statement("DenyInsecureTransport", ("s3:*",),
                     (arns.bucket(bucket), arns.objects(bucket, "*")), effect="Deny",
                     principal="*", conditions={"Bool": {"aws:SecureTransport": "false"}})


def plan_objects(arns: Arns, s: Scope, config_prefix: str, review_root: str) -> tuple[str, ...]:
    """Every plan object of every environment: deploy plans, review plans, wheels."""
    deploy = f"{config_prefix}/*.tfplan" if config_prefix else "*.tfplan"
    return (arns.objects(s.bucket, deploy), arns.objects(s.bucket, f"{review_root}/*"),
            arns.objects(s.bucket, f"{s.wheel_prefix}/*"))


def artifacts_bucket(arns: Arns, s: Scope, *, config_prefix: str, review_root: str,
                     retention_days: int) -> Bucket:
    objects = plan_objects(arns, s, config_prefix, review_root)
    policy = Document((
        _tls_only(arns, s.bucket),
        Statement("DenyPlanOverwrite", ("s3:PutObject",), objects, effect="Deny",
                  principal="*", conditions={"Null": {"s3:if-none-match": "true"}}),
        Statement("DenyPlanDelete", ("s3:DeleteObject", "s3:DeleteObjectVersion"), objects,
                  effect="Deny", principal="*"),
    ))
    lifecycle = tuple(LifecycleRule(f"expire-{kind}-plans", PLAN_KIND_TAG, kind, retention_days)
                      for kind in ("deploy", "review"))
    return Bucket("artifacts", s.bucket, policy, lifecycle)


def state_bucket(arns: Arns, s: Scope) -> Bucket:
    return Bucket("state", s.state_bucket, Document((_tls_only(arns, s.state_bucket),)))


def kms_key(arns: Arns, s: Scope) -> KmsKey:
    """The given key, or one to create whose policy delegates to IAM (AWS's default policy)."""
    if s.kms_key_arn:
        return KmsKey(alias=s.kms_alias, arn=s.kms_key_arn)
    policy = Document((Statement(
        "EnableIamPolicies", ("kms:*",), ("*",),
        principal={"AWS": f"arn:{arns.partition}:iam::{arns.account}:root"}),))
    return KmsKey(alias=s.kms_alias, policy=policy)


def backend_config(s: Scope, key_template: str) -> tuple[str, ...]:
    """The ``terraform.backend_config`` lines of this state backend (S3 native lockfile, as
    Terraform 1.12's ``use_lockfile``), as templates every environment shares."""
    return (f"bucket={s.state_bucket}", f"key={key_template}", "region={region}",
            "encrypt=true", "use_lockfile=true")
