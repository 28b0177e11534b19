"""The renderings: cfn-lint and `terraform fmt` accept them, and both embed the model's IAM
documents byte for byte."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bootstrap_helpers import plane

from lmi_delivery.bootstrap import Plane, render
from lmi_delivery.bootstrap.cloudformation import render_cloudformation
from lmi_delivery.bootstrap.terraform import render_terraform

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = (ROOT / "examples" / "quickstart" / "lmi-delivery.yml").read_text(encoding="utf-8")
#: The IAM documents of a Terraform rendering: ``NAME = "…"`` on one line.
TF_DOCUMENT = re.compile(
    r'^resource "(\w+)" "(\w+)" \{$|^  (assume_role_policy|policy)\s+= ("(?:[^"\\]|\\.)*")$',
    re.MULTILINE)


def cfn_documents(template: str) -> dict[str, str]:
    found = {}
    for name, resource in json.loads(template)["Resources"].items():
        props = resource["Properties"]
        for key in ("AssumeRolePolicyDocument", "PolicyDocument", "KeyPolicy"):
            if key in props:
                found[f"{name}.{key}"] = props[key]
        for policy in props.get("Policies", []):
            found[f"{name}.{policy['PolicyName']}"] = policy["PolicyDocument"]
    return found


def tf_documents(text: str) -> dict[str, str]:
    found, resource = {}, ""
    for match in TF_DOCUMENT.finditer(text):
        if match.group(1):
            resource = f"{match.group(1)}.{match.group(2)}"
            continue
        literal = match.group(4).replace("$${", "${").replace("%%{", "%{")
        found[f"{resource}.{match.group(3)}"] = json.loads(literal)
    return found


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_template_passes_cfn_lint(tmp_path: Path, env: str) -> None:
    from cfnlint.api import ManualArgs, lint

    for text in (render_cloudformation(plane(tmp_path / "full", env)),
                 render_cloudformation(plane(tmp_path / "quickstart", env, QUICKSTART))):
        matches = lint(text, config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
        assert [str(m) for m in matches] == []


def test_cfn_lint_is_not_a_rubber_stamp(dev: Plane) -> None:
    from cfnlint.api import ManualArgs, lint

    broken = json.loads(render_cloudformation(dev))
    broken["Resources"]["ApplyProject"]["Properties"]["ConcurrentBuildLimit"] = "one"
    del broken["Resources"]["ReviewRole"]["Properties"]["AssumeRolePolicyDocument"]
    rules = {m.rule.id for m in lint(json.dumps(broken), config=ManualArgs(
        regions=["eu-west-1"]))}
    assert {"E3012", "E3003"} <= rules


@pytest.mark.slow
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_terraform_rendering_is_formatted(tmp_path: Path, env: str) -> None:
    for name, text in (("full", render_terraform(plane(tmp_path / "full", env))),
                       ("quickstart", render_terraform(
                           plane(tmp_path / "quickstart", env, QUICKSTART)))):
        out = tmp_path / f"tf-{name}"
        out.mkdir()
        (out / "main.tf").write_text(text, encoding="utf-8")
        # `terraform validate` is not run: it needs the AWS provider's schema, and the provider
        # cannot be downloaded here ("Missing required provider" without `terraform init`).
        done = subprocess.run(
            [sys.executable, "-m", "lmi_delivery.terraform.embedded", "fmt", "-check",
             "-diff", "-no-color", str(out)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        # ... and fmt -check does fail on a misaligned rendering.
        (out / "main.tf").write_text(text.replace("  name   =", "  name =", 1))
        undone = subprocess.run(
            [sys.executable, "-m", "lmi_delivery.terraform.embedded", "fmt", "-check",
             str(out)], capture_output=True, text=True, check=False)
        assert undone.returncode == 3


def test_both_formats_embed_the_same_iam_documents(dev: Plane) -> None:
    cfn = cfn_documents(render_cloudformation(dev))
    tf = tf_documents(render_terraform(dev))
    canonical = set(dev.documents().values())
    assert sorted(cfn.values()) == sorted(tf.values())
    assert set(cfn.values()) == canonical
    assert len(cfn) == len(tf) == len(dev.documents())
    # Paired resource by resource: the trust and policy of each role, each bucket, the key.
    pairs = {"ReviewRole.AssumeRolePolicyDocument": "aws_iam_role.review.assume_role_policy",
             "ReviewRole.lmi-delivery": "aws_iam_role_policy.review.policy",
             "ApplyBuildRole.lmi-delivery": "aws_iam_role_policy.apply_build.policy",
             "ArtifactsBucketPolicy.PolicyDocument": "aws_s3_bucket_policy.artifacts.policy",
             "ArtifactsKey.KeyPolicy": "aws_kms_key.artifacts.policy"}
    for cfn_name, tf_name in pairs.items():
        assert cfn[cfn_name] == tf[tf_name]


def test_the_projects_run_the_packaged_buildspecs_inline(dev: Plane) -> None:
    template = json.loads(render_cloudformation(dev))["Resources"]
    packaged = {name: (ROOT / "lmi_delivery" / "buildspecs" / name).read_text()
                for name in ("plan.yml", "apply.yml", "post-deploy.yml")}
    expected = {"ReviewProject": "plan.yml", "PlanProject": "plan.yml",
                "ApplyProject": "apply.yml", "PostDeployProject": "post-deploy.yml"}
    for project, file in expected.items():
        props = template[project]["Properties"]
        inline = props["Source"]["BuildSpec"]
        # The packaged buildspec, its comment lines left out: the same YAML, smaller.
        assert yaml.safe_load(inline) == yaml.safe_load(packaged[file])
        assert "#" not in "".join(line.lstrip()[:1] for line in inline.splitlines())
        assert len(inline) < 0.85 * len(packaged[file])
        assert props["TimeoutInMinutes"] == 45
        assert props["QueuedTimeoutInMinutes"] == 120
        assert ("ConcurrentBuildLimit" in props) == (project == "ApplyProject")
    assert template["ApplyProject"]["Properties"]["ConcurrentBuildLimit"] == 1
    tf = render_terraform(dev)
    assert tf.count("buildspec = <<LMI_DELIVERY_BUILDSPEC\n") == 4
    assert "concurrent_build_limit = 1" in tf


def test_the_buckets_are_encrypted_versioned_private_and_expire_plans(dev: Plane) -> None:
    resources = json.loads(render_cloudformation(dev))["Resources"]
    for name in ("ArtifactsBucket", "StateBucket"):
        props = resources[name]["Properties"]
        encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert encryption["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["ArtifactsKey", "Arn"]}}
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    rules = resources["ArtifactsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [(r.get("TagFilters"), r.get("ExpirationInDays")) for r in rules[:2]] == [
        ([{"Key": "lmi-delivery-plan", "Value": "deploy"}], 14),
        ([{"Key": "lmi-delivery-plan", "Value": "review"}], 14)]


def test_a_given_key_is_used_and_no_key_is_created(tmp_path: Path) -> None:
    from bootstrap_helpers import FULL

    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    text = FULL.replace("  timeout_minutes: 45\n", f"  timeout_minutes: 45\n"
                        f"  artifacts_kms_key: {key}\n")
    given = plane(tmp_path, "dev", text)
    resources = json.loads(render_cloudformation(given))["Resources"]
    assert "ArtifactsKey" not in resources
    encryption = resources["ArtifactsBucket"]["Properties"]["BucketEncryption"]
    assert encryption["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == key
    assert resources_of(given, "plan-build", "kms:GenerateDataKey") == {key}
    assert "aws_kms_key" not in render_terraform(given)


def resources_of(plane_: Plane, role: str, action: str) -> set[str]:
    return {r for s in plane_.role(role).policy.statements if action in s.actions
            for r in s.resources}


def test_state_beside_the_plans_makes_one_bucket(tmp_path: Path) -> None:
    quick = plane(tmp_path, "dev", QUICKSTART)
    assert quick.state is None
    assert [b.name for b in quick.buckets] == ["quickstart-delivery-artifacts"]
    assert quick.backend_config == (
        "bucket=quickstart-delivery-artifacts", "key=state/{service}/{env}/terraform.tfstate",
        "region={region}", "encrypt=true", "use_lockfile=true")


def test_the_rendering_files(dev: Plane) -> None:
    assert sorted(render(dev, "terraform", github_commands=True).files) == [
        "backend-dev.txt", "delivery-dev.tf", "github-dev.sh"]
    assert render(dev, "cloudformation").main == "delivery-dev.template.json"
