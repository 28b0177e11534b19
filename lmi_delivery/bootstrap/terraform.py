"""The plane as a Terraform configuration (one file, AWS provider 6). IAM documents are the
model's canonical JSON strings, byte for byte what the CloudFormation template embeds."""

from __future__ import annotations

from lmi_delivery.bootstrap.arns import GITHUB_OIDC_HOST
from lmi_delivery.bootstrap.cloudformation import POLICY_NAME
from lmi_delivery.bootstrap.hcl import Block, Heredoc, Raw, render
from lmi_delivery.bootstrap.ids import tf_name
from lmi_delivery.bootstrap.model import Bucket, Plane, Project, Role
from lmi_delivery.bootstrap.trust import AUDIENCE

SHARED = "var.create_shared_resources ? 1 : 0"
BUILDSPEC_MARKER = "LMI_DELIVERY_BUILDSPEC"


def render_terraform(plane: Plane) -> str:
    blocks = [_settings(plane), _variable(), *_oidc()]
    for role in plane.roles:
        blocks += _role(role)
    blocks += _kms(plane)
    for bucket in plane.buckets:
        blocks += _bucket(plane, bucket)
    blocks += [_project(p) for p in plane.projects]
    blocks += _outputs(plane)
    header = (f"# lmi-delivery delivery plane of {plane.service} environment "
              f"{plane.environment} ({plane.repository}).\n"
              "# Rendered by `lmi-delivery bootstrap`: edit lmi-delivery.yml and render again.\n"
              "\n")
    return header + render(blocks)


def _settings(plane: Plane) -> Block:
    terraform = Block(("terraform",))
    terraform.attr("required_version", ">= 1.12.0")
    terraform.block("required_providers").attr(
        "aws", Raw('{\n      source  = "hashicorp/aws"\n      version = ">= 6.0"\n    }'))
    return terraform


def _variable() -> Block:
    variable = Block(("variable", "create_shared_resources"))
    variable.attr("description", "false when another environment's configuration in this "
                                 "account already created the OIDC provider, the buckets and "
                                 "the key")
    variable.attr("type", Raw("bool"))
    variable.attr("default", True)
    return variable


def _oidc() -> list[Block]:
    provider = Block(("resource", "aws_iam_openid_connect_provider", "github"))
    provider.attr("count", Raw(SHARED))
    provider.attr("url", f"https://{GITHUB_OIDC_HOST}")
    provider.attr("client_id_list", [AUDIENCE])
    return [provider]


def _role(role: Role) -> list[Block]:
    name = tf_name(role.key)
    resource = Block(("resource", "aws_iam_role", name))
    resource.attr("name", role.name)
    resource.attr("description", role.description)
    resource.attr("assume_role_policy", role.trust.canonical())
    policy = Block(("resource", "aws_iam_role_policy", name))
    policy.attr("name", POLICY_NAME)
    policy.attr("role", Raw(f"aws_iam_role.{name}.id"))
    policy.attr("policy", role.policy.canonical())
    return [resource, policy]


def _key_arn(plane: Plane) -> Raw | str:
    if plane.kms.created:
        return Raw("aws_kms_key.artifacts[0].arn")
    assert plane.kms.arn is not None
    return plane.kms.arn


def _kms(plane: Plane) -> list[Block]:
    if not plane.kms.created:
        return []
    assert plane.kms.policy is not None
    key = Block(("resource", "aws_kms_key", "artifacts"))
    key.attr("count", Raw(SHARED))
    key.attr("description", f"lmi-delivery artifacts and state of {plane.service}")
    key.attr("enable_key_rotation", True)
    key.attr("policy", plane.kms.policy.canonical())
    alias = Block(("resource", "aws_kms_alias", "artifacts"))
    alias.attr("count", Raw(SHARED))
    alias.attr("name", plane.kms.alias)
    alias.attr("target_key_id", Raw("aws_kms_key.artifacts[0].key_id"))
    return [key, alias]


def _bucket(plane: Plane, bucket: Bucket) -> list[Block]:
    name = bucket.key
    ref = Raw(f"aws_s3_bucket.{name}[0].id")

    def part(kind: str) -> Block:
        block = Block(("resource", kind, name))
        block.attr("count", Raw(SHARED))
        return block

    resource = part("aws_s3_bucket")
    resource.attr("bucket", bucket.name)
    resource.block("lifecycle").attr("prevent_destroy", True)
    versioning = part("aws_s3_bucket_versioning").attr("bucket", ref)
    versioning.block("versioning_configuration").attr("status", "Enabled")
    encryption = part("aws_s3_bucket_server_side_encryption_configuration").attr("bucket", ref)
    rule = encryption.block("rule")
    rule.block("apply_server_side_encryption_by_default").attr(
        "sse_algorithm", "aws:kms").attr("kms_master_key_id", _key_arn(plane))
    rule.attr("bucket_key_enabled", True)
    public = part("aws_s3_bucket_public_access_block").attr("bucket", ref)
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                 "restrict_public_buckets"):
        public.attr(flag, True)
    ownership = part("aws_s3_bucket_ownership_controls").attr("bucket", ref)
    ownership.block("rule").attr("object_ownership", "BucketOwnerEnforced")
    policy = part("aws_s3_bucket_policy").attr("bucket", ref)
    policy.attr("policy", bucket.policy.canonical())
    policy.attr("depends_on", Raw(f"[aws_s3_bucket_public_access_block.{name}]"))
    blocks = [resource, versioning, encryption, public, ownership, policy]
    if bucket.lifecycle:
        lifecycle = part("aws_s3_bucket_lifecycle_configuration").attr("bucket", ref)
        for item in bucket.lifecycle:
            rule = lifecycle.block("rule").attr("id", item.rule_id).attr("status", "Enabled")
            rule.block("filter").block("tag").attr("key", item.tag_key).attr(
                "value", item.tag_value)
            rule.block("expiration").attr("days", item.days)
            rule.block("noncurrent_version_expiration").attr("noncurrent_days", item.days)
        abort = lifecycle.block("rule").attr("id", "abort-incomplete-uploads").attr(
            "status", "Enabled")
        abort.block("filter")
        abort.block("abort_incomplete_multipart_upload").attr("days_after_initiation", 1)
        lifecycle.attr("depends_on", Raw(f"[aws_s3_bucket_versioning.{name}]"))
        blocks.append(lifecycle)
    return blocks


def _project(project: Project) -> Block:
    block = Block(("resource", "aws_codebuild_project", tf_name(project.key)))
    block.attr("name", project.name)
    block.attr("service_role", Raw(f"aws_iam_role.{tf_name(project.role)}.arn"))
    block.attr("build_timeout", project.timeout_minutes)
    block.attr("queued_timeout", project.queued_timeout_minutes)
    if project.concurrent_build_limit is not None:
        block.attr("concurrent_build_limit", project.concurrent_build_limit)
    source = block.block("source")
    source.attr("type", "GITHUB")
    source.attr("location", project.source_url)
    source.attr("buildspec", Heredoc(project.buildspec, BUILDSPEC_MARKER))
    block.block("artifacts").attr("type", "NO_ARTIFACTS")
    environment = block.block("environment")
    environment.attr("type", "LINUX_CONTAINER")
    environment.attr("compute_type", project.compute_type)
    environment.attr("image", project.image)
    logs = block.block("logs_config").block("cloudwatch_logs")
    logs.attr("status", "ENABLED")
    logs.attr("group_name", f"/aws/codebuild/{project.name}")
    return block


def _outputs(plane: Plane) -> list[Block]:
    blocks = []
    for role in plane.roles:
        output = Block(("output", f"{tf_name(role.key)}_role_arn"))
        output.attr("description", role.description)
        output.attr("value", Raw(f"aws_iam_role.{tf_name(role.key)}.arn"))
        blocks.append(output)
    backend = Block(("output", "backend_config"))
    backend.attr("description", "terraform.backend_config lines for lmi-delivery.yml")
    backend.attr("value", list(plane.backend_config))
    blocks.append(backend)
    return blocks
