"""`bootstrap --apply` against the sandbox with IAM enforced: the stack and what it made."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmi_delivery.bootstrap import build_plane
from lmi_delivery.bootstrap.buildspecs import buildspec
from lmi_delivery.config import load
from lmi_delivery.sandbox import Sandbox, SandboxOptions

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "lmi-delivery.yml"
ACCOUNT = "123456789012"
STACK = "quickstart-dev-delivery"


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(iam=True)) as running:
        yield running


def bootstrap(sandbox: Sandbox, *args: str, config: Path = QUICKSTART,
              ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    env.update(AWS_ENDPOINT_URL=sandbox.endpoint_url, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    return subprocess.run(
        [sys.executable, "-m", "lmi_delivery", "bootstrap", "--config", str(config),
         "--env", "dev", "--repository", "acme/quickstart", *args],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False)


def test_apply_deploys_the_plane_then_finds_nothing_to_change(sandbox: Sandbox) -> None:
    began = time.monotonic()
    done = bootstrap(sandbox, "--apply")
    print(f"bootstrap --apply (create): {time.monotonic() - began:.2f} s")
    assert done.returncode == 0, done.stderr
    assert f"stack {STACK} created" in done.stdout
    assert f"DeployRoleArn: arn:aws:iam::{ACCOUNT}:role/quickstart-dev-gh-deploy" in done.stdout
    assert "CREATE_COMPLETE" in done.stderr
    config = load(QUICKSTART)
    plane = build_plane(config, config.environment("dev"), repository="acme/quickstart",
                        account=ACCOUNT)
    # The stack made real sandbox resources: roles with the plane's documents byte for byte,
    # the sandbox's own CodeBuild projects with the packaged buildspecs inline, the OIDC
    # provider, the bucket with its policy, lifecycle and public access block.
    iam = sandbox.client("iam")
    for role in plane.roles:
        document = iam.get_role_policy(RoleName=role.name, PolicyName="lmi-delivery")
        assert json.dumps(document["PolicyDocument"], sort_keys=True,
                          separators=(",", ":")) == role.policy.canonical()
    projects = sandbox.client("codebuild").batch_get_projects(
        names=[p.name for p in plane.projects])["projects"]
    assert {p["name"]: p["source"]["buildspec"] for p in projects} == {
        p.name: buildspec(p.key) for p in plane.projects}
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()[
        "OpenIDConnectProviderList"]] == [plane.oidc_provider_arn]
    s3 = sandbox.client("s3")
    bucket = plane.artifacts.name
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == \
        plane.artifacts.policy.to_dict()
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {r["ID"] for r in rules} >= {"expire-deploy-plans", "expire-review-plans"}
    assert s3.get_public_access_block(Bucket=bucket)[
        "PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    again = bootstrap(sandbox, "--apply")
    assert again.returncode == 0, again.stderr
    assert f"stack {STACK} unchanged" in again.stdout


def test_a_changed_config_updates_the_stack(sandbox: Sandbox, tmp_path: Path) -> None:
    assert bootstrap(sandbox, "--apply").returncode == 0
    repo = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART.parent, repo)
    config = repo / "lmi-delivery.yml"
    text = config.read_text().replace("codebuild:\n", "codebuild:\n  timeout_minutes: 30\n")
    config.write_text(text)
    done = bootstrap(sandbox, "--apply", config=config)
    assert done.returncode == 0, done.stderr
    assert f"stack {STACK} updated" in done.stdout
    assert "UPDATE_COMPLETE" in done.stderr
    project = sandbox.client("codebuild").batch_get_projects(names=["quickstart-dev-tf-apply"])
    assert project["projects"][0]["timeoutInMinutes"] == 30


def test_a_failed_stack_names_the_resource_and_why(sandbox: Sandbox) -> None:
    sandbox.client("iam").create_role(RoleName="quickstart-dev-cb-plan",
                                      AssumeRolePolicyDocument="{}")
    done = bootstrap(sandbox, "--apply")
    assert done.returncode == 1, done.stderr
    assert (f"stack {STACK} ended ROLLBACK_COMPLETE: PlanBuildRole (AWS::IAM::Role) "
            "CREATE_FAILED: EntityAlreadyExists: Role with name quickstart-dev-cb-plan "
            "already exists") in done.stderr
    assert "Traceback" not in done.stderr
    # CloudFormation can only delete a stack a failed create left: applying again is refused.
    again = bootstrap(sandbox, "--apply")
    assert again.returncode == 3, again.stderr
    assert f"stack {STACK} is ROLLBACK_COMPLETE" in again.stderr


def test_credentials_of_another_account_are_refused(sandbox: Sandbox) -> None:
    done = bootstrap(sandbox, "--apply", "--account-id", "111122223333")
    assert done.returncode == 3, done.stderr
    assert "the credentials are of account 123456789012" in done.stderr
    assert sandbox.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_apply_deploys_the_cloudformation_template_only(sandbox: Sandbox) -> None:
    done = bootstrap(sandbox, "--apply", "--format", "terraform")
    assert done.returncode == 2
    assert "--apply deploys the CloudFormation template" in done.stderr
    done = bootstrap(sandbox, "--stack-name", "x")
    assert done.returncode == 2
    assert "need --apply" in done.stderr
    done = bootstrap(sandbox, "--apply", "--github-commands")
    assert done.returncode == 2
    assert "--apply deploys the stack and writes no files" in done.stderr
    assert sandbox.client("cloudformation").list_stacks()["StackSummaries"] == []


def many_functions(tmp_path: Path) -> Path:
    """The quickstart with 40 more functions: a template over the inline limit."""
    repo = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART.parent, repo)
    config = repo / "lmi-delivery.yml"
    many = "".join(f"  worker{i}:\n    capacity_provider: shared\n" for i in range(40))
    config.write_text(config.read_text().replace("functions:\n", f"functions:\n{many}", 1))
    return config


def test_a_first_create_over_the_inline_limit_makes_the_buckets_first(sandbox: Sandbox,
                                                                      tmp_path: Path) -> None:
    config = many_functions(tmp_path)
    done = bootstrap(sandbox, "--apply", config=config)
    assert done.returncode == 0, done.stderr
    assert f"stack {STACK} created" in done.stdout
    assert "creating the buckets first, then the rest" in done.stderr
    assert "template staged at s3://quickstart-delivery-artifacts/lmi-delivery/bootstrap/" \
        in done.stderr
    # The whole plane is there: every role, and the projects.
    plane = build_plane(load(config), load(config).environment("dev"),
                        repository="acme/quickstart", account=ACCOUNT)
    iam = sandbox.client("iam")
    for role in plane.roles:
        assert iam.get_role(RoleName=role.name)["Role"]["RoleName"] == role.name
    assert len(sandbox.client("codebuild").batch_get_projects(
        names=[p.name for p in plane.projects])["projects"]) == 4
    again = bootstrap(sandbox, "--apply", config=config)
    assert again.returncode == 0, again.stderr
    assert f"stack {STACK} unchanged" in again.stdout


def test_a_template_over_the_inline_limit_is_staged_in_the_bucket_given(
        sandbox: Sandbox, tmp_path: Path) -> None:
    config = many_functions(tmp_path)
    # Without the shared resources the stack makes no bucket: nowhere to stage, nothing made.
    refused = bootstrap(sandbox, "--apply", "--no-shared-resources", config=config)
    assert refused.returncode == 1, refused.stderr
    assert "over CloudFormation's 51200 for an inline template" in refused.stderr
    assert "--template-bucket" in refused.stderr
    assert sandbox.client("cloudformation").list_stacks()["StackSummaries"] == []

    sandbox.client("s3").create_bucket(Bucket="acme-cfn-staging")
    done = bootstrap(sandbox, "--apply", "--template-bucket", "acme-cfn-staging", config=config)
    assert done.returncode == 0, done.stderr
    assert f"stack {STACK} created" in done.stdout
    assert "template staged at s3://acme-cfn-staging/lmi-delivery/bootstrap/" in done.stderr
    [staged] = sandbox.client("s3").list_objects_v2(Bucket="acme-cfn-staging")["Contents"]
    assert staged["Size"] > 51_200


def test_an_existing_stack_is_never_cut_down_to_its_storage(sandbox: Sandbox,
                                                            tmp_path: Path) -> None:
    assert bootstrap(sandbox, "--apply").returncode == 0
    s3 = sandbox.client("s3")
    bucket = "quickstart-delivery-artifacts"
    for item in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=bucket)  # nowhere left to stage a large template in
    done = bootstrap(sandbox, "--apply", config=many_functions(tmp_path))
    assert done.returncode == 1, done.stderr
    assert "--template-bucket" in done.stderr
    assert "creating the buckets first" not in done.stderr
    sandbox.client("iam").get_role(RoleName="quickstart-dev-gh-deploy")  # still there
