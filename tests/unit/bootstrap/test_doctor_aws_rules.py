"""doctor --aws's comparison: the plane as deployed against its rendering, difference by difference.

The deployed side is built here the way AWS answers (documents decoded by botocore for IAM, a
JSON string for a bucket policy, CodeBuild's project shape); the sandbox tests read it from the
sandbox itself.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from lmi_delivery.bootstrap import Plane
from lmi_delivery.bootstrap.arns import Arns
from lmi_delivery.doctor.deployed import Deployed, DeployedBucket, DeployedRole
from lmi_delivery.doctor.documents import differences, normalize
from lmi_delivery.doctor.rules_aws import check

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def as_deployed(plane: Plane) -> Deployed:
    """``plane`` exactly as a stack of its template leaves it."""
    arns = Arns(plane.account, plane.region)
    roles = {r.name: DeployedRole(arns.role(r.name), r.trust.to_dict(),
                                  {"lmi-delivery": r.policy.to_dict()}, ())
             for r in plane.roles}
    projects: dict[str, Any] = {p.name: {
        "name": p.name, "source": {"type": "GITHUB", "location": p.source_url,
                                   "buildspec": p.buildspec},
        "serviceRole": arns.role(plane.role(p.role).name),
        "timeoutInMinutes": p.timeout_minutes, "queuedTimeoutInMinutes": p.queued_timeout_minutes,
        "concurrentBuildLimit": p.concurrent_build_limit} for p in plane.projects}
    key = f"arn:aws:kms:{plane.region}:{plane.account}:key/{KEY_ID}"
    buckets = {b.name: DeployedBucket(
        encryption=({"ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}, "BucketKeyEnabled": True},),
        versioning="Enabled",
        public_access_block={k: True for k in ("BlockPublicAcls", "IgnorePublicAcls",
                                               "BlockPublicPolicy", "RestrictPublicBuckets")},
        policy=b.policy.canonical(),
        lifecycle=tuple({"ID": r.rule_id, "Status": "Enabled", "Expiration": {"Days": r.days},
                         "Filter": {"Tag": {"Key": r.tag_key, "Value": r.tag_value}}}
                        for r in b.lifecycle),
        kms_key_ids={key: KEY_ID}) for b in plane.buckets}
    return Deployed({"Url": "https://token.actions.githubusercontent.com",
                     "ClientIDList": ["sts.amazonaws.com"]}, roles, projects, buckets, KEY_ID)


def rules(found: list[Any]) -> list[tuple[str, str]]:
    return sorted((f.rule_id, str(f.location)) for f in found)


def test_the_plane_as_rendered_has_no_findings(dev: Plane) -> None:
    assert check(dev, as_deployed(dev)) == []


def test_a_document_reformatted_by_aws_still_means_the_same() -> None:
    rendered = {"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:x"]}]}
    deployed = {"Statement": {"Effect": "Allow", "Sid": "A", "Action": "s3:GetObject",
                              "Resource": "arn:x"}, "Version": "2012-10-17"}
    assert normalize(deployed) == normalize(rendered)
    assert differences(json.dumps(deployed), rendered) == []


def test_a_broadened_role_policy_is_one_finding_naming_the_added_action(dev: Plane) -> None:
    deployed = as_deployed(dev)
    role = dev.role("review")
    policy = role.policy.to_dict()
    statements: list[dict[str, Any]] = list(policy["Statement"])  # type: ignore[call-overload]
    statements[0] = {**statements[0], "Action": [*statements[0]["Action"], "codebuild:*"]}
    broadened = dataclasses.replace(deployed.roles[role.name],  # type: ignore[type-var]
                                    inline={"lmi-delivery": {**policy, "Statement": statements}})
    found = check(dev, dataclasses.replace(deployed, roles={**deployed.roles,
                                                            role.name: broadened}))
    assert rules(found) == [("LMD014", Arns(dev.account, dev.region).role(role.name))]
    assert "+codebuild:*" in found[0].message


def test_extra_and_attached_policies_are_findings(dev: Plane) -> None:
    deployed = as_deployed(dev)
    name = dev.role("deploy").name
    role = deployed.roles[name]
    assert role is not None
    widened = dataclasses.replace(role, inline={**role.inline, "hotfix": {"Statement": []}},
                                  attached=("arn:aws:iam::aws:policy/AdministratorAccess",))
    found = check(dev, dataclasses.replace(deployed, roles={**deployed.roles, name: widened}))
    assert [f.rule_id for f in found] == ["LMD014", "LMD014"]
    assert any("hotfix" in f.message for f in found)
    assert any("AdministratorAccess" in f.message for f in found)


def test_a_trust_policy_opened_to_every_branch_is_a_finding(dev: Plane) -> None:
    deployed = as_deployed(dev)
    role = dev.role("prune")
    trust = json.loads(role.trust.canonical().replace("ref:refs/heads/trunk", "*"))
    loose = dataclasses.replace(deployed.roles[role.name], trust=trust)  # type: ignore[type-var]
    found = check(dev, dataclasses.replace(deployed, roles={**deployed.roles, role.name: loose}))
    assert [f.rule_id for f in found] == ["LMD014"]
    assert "trust policy" in found[0].message


def test_a_changed_buildspec_and_concurrency_are_project_findings(dev: Plane) -> None:
    deployed = as_deployed(dev)
    apply = next(p for p in dev.projects if p.key == "apply")
    changed = {**deployed.projects[apply.name],  # type: ignore[dict-item]
               "source": {"type": "GITHUB", "location": apply.source_url,
                          "buildspec": "version: 0.2\nphases: {build: {commands: [env]}}\n"},
               "concurrentBuildLimit": None}
    found = check(dev, dataclasses.replace(deployed, projects={**deployed.projects,
                                                               apply.name: changed}))
    where = Arns(dev.account, dev.region).project(apply.name)
    assert rules(found) == [("LMD015", where), ("LMD015", where)]
    assert any("buildspec" in f.message for f in found)
    assert any("concurrentBuildLimit None, not 1" in f.message for f in found)


def test_bucket_protection_removed_is_a_finding_each(dev: Plane) -> None:
    deployed = as_deployed(dev)
    bucket = dev.artifacts.name
    before = deployed.buckets[bucket]
    assert before is not None
    cases = {
        "default encryption is AES256": dataclasses.replace(before, encryption=(
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}},)),
        "versioning is Suspended": dataclasses.replace(before, versioning="Suspended"),
        "public access not blocked (BlockPublicPolicy off)": dataclasses.replace(
            before, public_access_block={**before.public_access_block,
                                         "BlockPublicPolicy": False}),
        "lifecycle rule expire-deploy-plans": dataclasses.replace(
            before, lifecycle=before.lifecycle[1:]),
        "not the plane's key": dataclasses.replace(before, kms_key_ids={}),
        "has no bucket policy": dataclasses.replace(before, policy=None),
    }
    for words, drifted in cases.items():
        found = check(dev, dataclasses.replace(deployed, buckets={**deployed.buckets,
                                                                  bucket: drifted}))
        assert len(found) == 1, (words, [f.message for f in found])
        assert words in found[0].message
        assert str(found[0].location) == f"arn:aws:s3:::{bucket}"


def test_every_missing_resource_is_reported_at_its_arn(dev: Plane) -> None:
    nothing = Deployed(None, dict.fromkeys(deployed_names(dev)), {p.name: None for p in
                                                                  dev.projects},
                       {b.name: None for b in dev.buckets}, None)
    found = check(dev, nothing)
    assert {f.rule_id for f in found} == {"LMD013"}
    assert len(found) == 1 + len(dev.roles) + len(dev.projects) + len(dev.buckets)


def deployed_names(plane: Plane) -> list[str]:
    return [r.name for r in plane.roles]
