"""LMD013 to LMD016 (``doctor --aws``): the deployed delivery plane against its rendering.

Each difference between what ``lmi-delivery bootstrap`` renders (:class:`Plane`) and what the
account holds (:class:`Deployed`) is one finding, at the resource's ARN: a resource missing
(LMD013), an IAM document that means something else (LMD014: a role's trust or permissions, an
extra inline or attached policy, a bucket policy), a CodeBuild project changed (LMD015: its
buildspec, role, source, timeouts, concurrency), a bucket's protection changed (LMD016:
encryption, versioning, public access, lifecycle).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lmi_delivery.bootstrap.arns import GITHUB_OIDC_HOST, Arns
from lmi_delivery.bootstrap.cloudformation import POLICY_NAME
from lmi_delivery.bootstrap.model import Bucket, Plane, Project, Role
from lmi_delivery.bootstrap.trust import AUDIENCE
from lmi_delivery.doctor.deployed import Deployed, DeployedBucket, DeployedRole
from lmi_delivery.doctor.documents import differences
from lmi_delivery.doctor.rules import finding
from lmi_delivery.errors import Location
from lmi_delivery.findings import Finding

_PUBLIC_ACCESS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                  "RestrictPublicBuckets")


def check(plane: Plane, deployed: Deployed) -> list[Finding]:
    arns = Arns(plane.account, plane.region)
    found: list[Finding] = list(_oidc(plane, deployed))
    for role in plane.roles:
        found += _role(arns, role, deployed.roles.get(role.name))
    for project in plane.projects:
        found += _project(arns, plane, project, deployed.projects.get(project.name))
    for bucket in plane.buckets:
        found += _bucket(arns, bucket, deployed.buckets.get(bucket.name), deployed.plane_key_id)
    return found


def _at(arn: str) -> Location:
    return Location(arn)


def _oidc(plane: Plane, deployed: Deployed) -> Iterator[Finding]:
    where = _at(plane.oidc_provider_arn)
    provider = deployed.oidc_provider
    if provider is None:
        yield finding("LMD013", where, "GitHub's OIDC provider does not exist: no role can be "
                      "assumed from a workflow")
        return
    if AUDIENCE not in provider.get("ClientIDList", []):
        yield finding("LMD014", where, f"the OIDC provider's audiences "
                      f"{provider.get('ClientIDList', [])} lack {AUDIENCE}")
    url = str(provider.get("Url", "")).removeprefix("https://")
    if url != GITHUB_OIDC_HOST:
        yield finding("LMD014", where, f"the OIDC provider's URL is {url!r}, not "
                      f"{GITHUB_OIDC_HOST!r}")


def _role(arns: Arns, role: Role, deployed: DeployedRole | None) -> Iterator[Finding]:
    where = _at(arns.role(role.name))
    if deployed is None:
        yield finding("LMD013", where, f"role {role.name} ({role.key}) does not exist")
        return
    for delta in differences(deployed.trust, role.trust.to_dict()):
        yield finding("LMD014", where, f"role {role.name}: trust policy: {delta}")
    policy = deployed.inline.get(POLICY_NAME)
    if policy is None:
        yield finding("LMD014", where, f"role {role.name} has no inline policy {POLICY_NAME}")
    else:
        for delta in differences(policy, role.policy.to_dict()):
            yield finding("LMD014", where, f"role {role.name}: policy {POLICY_NAME}: {delta}")
    for name in sorted(set(deployed.inline) - {POLICY_NAME}):
        yield finding("LMD014", where, f"role {role.name} has an inline policy {name} the "
                      "rendering does not have")
    for arn in deployed.attached:
        yield finding("LMD014", where, f"role {role.name} has the managed policy {arn} "
                      "attached; the rendering attaches none")


def _project(arns: Arns, plane: Plane, project: Project,
             deployed: Mapping[str, Any] | None) -> Iterator[Finding]:
    where = _at(arns.project(project.name))
    if deployed is None:
        yield finding("LMD013", where, f"CodeBuild project {project.name} ({project.key}) does "
                      "not exist")
        return
    source = deployed.get("source") or {}
    if source.get("buildspec") != project.buildspec:
        yield finding("LMD015", where, f"project {project.name}: its buildspec is not "
                      f"lmi-delivery's {project.buildspec_file}")
    if source.get("location") != project.source_url:
        yield finding("LMD015", where, f"project {project.name}: source "
                      f"{source.get('location')!r}, not {project.source_url!r}")
    role = arns.role(plane.role(project.role).name)
    if deployed.get("serviceRole") != role:
        yield finding("LMD015", where, f"project {project.name}: service role "
                      f"{deployed.get('serviceRole')!r}, not {role!r}")
    expected = {"timeoutInMinutes": project.timeout_minutes,
                "queuedTimeoutInMinutes": project.queued_timeout_minutes,
                "concurrentBuildLimit": project.concurrent_build_limit}
    for key, want in expected.items():
        if deployed.get(key) != want:
            yield finding("LMD015", where, f"project {project.name}: {key} "
                          f"{deployed.get(key)!r}, not {want!r}")


def _bucket(arns: Arns, bucket: Bucket, deployed: DeployedBucket | None,
            key_id: str | None) -> Iterator[Finding]:
    where = _at(arns.bucket(bucket.name))
    if deployed is None:
        yield finding("LMD013", where, f"bucket {bucket.name} ({bucket.key}) does not exist")
        return
    yield from _encryption(where, bucket, deployed, key_id)
    if deployed.versioning != "Enabled":
        yield finding("LMD016", where, f"bucket {bucket.name}: versioning is "
                      f"{deployed.versioning or 'off'}, not Enabled")
    off = [k for k in _PUBLIC_ACCESS if deployed.public_access_block.get(k) is not True]
    if off:
        yield finding("LMD016", where, f"bucket {bucket.name}: public access not blocked "
                      f"({', '.join(off)} off)")
    if deployed.policy is None:
        yield finding("LMD014", where, f"bucket {bucket.name} has no bucket policy")
    else:
        for delta in differences(deployed.policy, bucket.policy.to_dict()):
            yield finding("LMD014", where, f"bucket {bucket.name}: bucket policy: {delta}")
    yield from _lifecycle(where, bucket, deployed)


def _encryption(where: Location, bucket: Bucket, deployed: DeployedBucket,
                key_id: str | None) -> Iterator[Finding]:
    defaults = [rule.get("ApplyServerSideEncryptionByDefault") or {}
                for rule in deployed.encryption]
    kms = [d for d in defaults if d.get("SSEAlgorithm") == "aws:kms"]
    if not kms:
        shown = ", ".join(str(d.get("SSEAlgorithm")) for d in defaults) or "none"
        yield finding("LMD016", where, f"bucket {bucket.name}: default encryption is {shown}, "
                      "not SSE-KMS")
        return
    named = [str(d.get("KMSMasterKeyID", "")) for d in kms]
    if key_id is None or all(deployed.kms_key_ids.get(n) != key_id for n in named):
        yield finding("LMD016", where, f"bucket {bucket.name}: encrypted with "
                      f"{', '.join(named) or 'the AWS managed key'}, not the plane's key")


def _lifecycle(where: Location, bucket: Bucket, deployed: DeployedBucket) -> Iterator[Finding]:
    for rule in bucket.lifecycle:
        match = next((r for r in deployed.lifecycle if r.get("ID") == rule.rule_id), None)
        days = None if match is None else (match.get("Expiration") or {}).get("Days")
        if match is None or match.get("Status") != "Enabled" or days != rule.days:
            state = ("missing" if match is None else
                     f"{match.get('Status')}, expiring after {days} days")
            yield finding("LMD016", where, f"bucket {bucket.name}: lifecycle rule "
                          f"{rule.rule_id} (expire {rule.tag_value} plans after {rule.days} "
                          f"days) is {state}")
