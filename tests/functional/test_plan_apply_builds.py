"""The plan build and the apply build, with the real Terraform 1.12.2 and the sandbox's S3.

The happy path goes through the shipped buildspecs in the sandbox's CodeBuild: a git repository
made from ``examples/quickstart``, planned at a commit in one build and applied in another; the
Terraform state (in the sandbox's S3) must show the change. The refusals call
``lmi-delivery terraform plan|apply`` as a subprocess in a checkout of the commit, which is what
the buildspecs run, only faster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lmi_delivery.errors import EXIT_FAILED, EXIT_REFUSED
from lmi_delivery.sandbox.server import Sandbox
from lmi_delivery.terraform import embedded

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
BUCKET = "quickstart-delivery-artifacts"
STATE_KEY = "state/quickstart/{env}/terraform.tfstate"
ROLE = "arn:aws:iam::123456789012:role/codebuild"
ENVIRONMENT = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
               "computeType": "BUILD_GENERAL1_SMALL"}
GIT = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com",
       "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=dev"]


def plan_key(env: str, commit: str, name: str = "plan.tfplan") -> str:
    return f"plans/quickstart/{env}/{commit}/{name}"


class Repo:
    """A git repository holding the quickstart and our buildspecs, as a user's would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(
            ".terraform*", "*.tfstate*", ".lmi-delivery", "*.tfplan"))
        shutil.copytree(REPO / "buildspecs", root / "buildspecs")
        self.git("init", "-q")
        self.head = self.commit("the quickstart")

    def git(self, *args: str) -> str:
        result = subprocess.run([*GIT, *args], cwd=self.root, capture_output=True, text=True,
                                check=True, env={**_clean_env(), "HOME": str(self.root)})
        return result.stdout.strip()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.head = self.git("rev-parse", "HEAD")
        return self.head

    def release(self, env: str, label: str) -> str:
        """Commit a new router release for ``env``; return the commit."""
        tfvars = self.root / "terraform" / "env" / f"{env}.tfvars"
        tfvars.write_text(f'environment    = "{env}"\nrouter_release = "{label}"\n')
        return self.commit(f"release {label} to {env}")

    def checkout(self, commit: str, where: Path) -> Path:
        self.git("worktree", "add", "-q", "--detach", str(where), commit)
        return where


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "CODEBUILD_", "LMI_", "GIT_", "TF_"))}


@pytest.fixture(scope="module")
def shim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bin")
    embedded.write_shim(directory)
    return directory


@pytest.fixture
def s3(sandbox: Sandbox) -> Any:
    client = sandbox.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


@pytest.fixture
def cli(sandbox: Sandbox, shim_dir: Path, tmp_path: Path) -> Any:
    """``cli(checkout, "apply", "--env", "dev", "--commit", sha)`` -> CompletedProcess."""

    def run(cwd: Path, *args: str, extra: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        env = {**_clean_env(), "HOME": str(tmp_path), "AWS_ENDPOINT_URL": sandbox.endpoint_url,
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_REGION": "us-east-1", "CHECKPOINT_DISABLE": "1",
               "PATH": f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}", **(extra or {})}
        return subprocess.run([sys.executable, "-m", "lmi_delivery", "terraform", *args],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                              check=False)

    return run


def state(s3: Any, env: str = "dev") -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=BUCKET, Key=STATE_KEY.format(env=env))["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    document: dict[str, Any] = json.loads(body)
    return document


def release_in(document: dict[str, Any] | None) -> str | None:
    if document is None:
        return None
    output = document.get("outputs", {}).get("router_release")
    return None if output is None else str(output["value"]["release"])


# -- through the buildspecs, in the sandbox's CodeBuild -----------------------------------------


def _project(codebuild: Any, name: str, source: Path, buildspec: str) -> str:
    codebuild.create_project(
        name=name, source={"type": "NO_SOURCE", "location": str(source), "buildspec": buildspec},
        artifacts={"type": "NO_ARTIFACTS"}, environment=ENVIRONMENT, serviceRole=ROLE)
    return name


def _build(codebuild: Any, project: str, commit: str, env: str = "dev") -> dict[str, Any]:
    build_id = codebuild.start_build(
        projectName=project, sourceVersion=commit,
        environmentVariablesOverride=[
            {"name": "LMI_DELIVERY_ENV", "value": env, "type": "PLAINTEXT"},
            {"name": "LMI_DELIVERY_COMMIT", "value": commit, "type": "PLAINTEXT"}],
    )["build"]["id"]
    deadline = time.monotonic() + 60
    while True:
        build: dict[str, Any] = codebuild.batch_get_builds(ids=[build_id])["builds"][0]
        if build["buildComplete"]:
            return build
        assert time.monotonic() < deadline, f"build still {build['currentPhase']}"
        time.sleep(0.05)


def _log(sandbox: Sandbox, build: dict[str, Any]) -> str:
    events = sandbox.client("logs").get_log_events(
        logGroupName=build["logs"]["groupName"], logStreamName=build["logs"]["streamName"],
        startFromHead=True)["events"]
    return "".join(event["message"] for event in events)


def test_plan_build_then_apply_build_change_the_state(
        sandbox: Sandbox, s3: Any, repo: Repo) -> None:
    codebuild = sandbox.client("codebuild")
    plan = _project(codebuild, "quickstart-dev-tf-plan", repo.root, "buildspecs/plan.yml")
    apply = _project(codebuild, "quickstart-dev-tf-apply", repo.root, "buildspecs/apply.yml")
    commit = repo.release("dev", "2026.12.0")

    planned = _build(codebuild, plan, commit)
    assert planned["buildStatus"] == "SUCCEEDED", _log(sandbox, planned)
    exported = {v["name"]: v["value"] for v in planned["exportedEnvironmentVariables"]}
    metadata = json.loads(s3.get_object(Bucket=BUCKET, Key=plan_key("dev", commit, "plan.json"))
                          ["Body"].read())
    assert exported == {
        "LMI_PLAN_URL": f"s3://{BUCKET}/{plan_key('dev', commit)}",
        "LMI_PLAN_METADATA_URL": f"s3://{BUCKET}/{plan_key('dev', commit, 'plan.json')}",
        "LMI_PLAN_SHA256": metadata["plan_sha256"],
        "LMI_PLAN_SUMMARY": "Plan: 1 to add, 0 to change, 0 to destroy, 0 to replace. "
                            "1 output changed.",
        "LMI_PLAN_HAS_CHANGES": "true",
    }
    assert metadata["commit"] == commit
    assert metadata["build_id"] == planned["id"]
    assert state(s3) is None  # planning changes nothing

    applied = _build(codebuild, apply, commit)
    assert applied["buildStatus"] == "SUCCEEDED", _log(sandbox, applied)
    assert release_in(state(s3)) == "2026.12.0"
    exported = {v["name"]: v["value"] for v in applied["exportedEnvironmentVariables"]}
    assert exported["LMI_APPLIED_PLAN_SHA256"] == metadata["plan_sha256"]
    assert "Apply complete! Resources: 1 added" in _log(sandbox, applied)
    marker = json.loads(s3.get_object(Bucket=BUCKET, Key=plan_key("dev", commit, "applied.json"))
                        ["Body"].read())
    assert marker["plan_sha256"] == metadata["plan_sha256"]
    assert marker["build_id"] == applied["id"]

    again = _build(codebuild, apply, commit)  # the same plan is applied once
    assert again["buildStatus"] == "FAILED"
    assert "was already applied at" in _log(sandbox, again)
    assert "exit status 3" in _log(sandbox, again)


# -- refusals, through the CLI the buildspecs call ----------------------------------------------


def test_a_tampered_plan_is_refused(s3: Any, repo: Repo, cli: Any, tmp_path: Path) -> None:
    commit = repo.head
    checkout = repo.checkout(commit, tmp_path / "co")
    planned = cli(checkout, "plan", "--env", "dev", "--commit", commit)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.startswith(f"quickstart dev at {commit}: Plan: 1 to add")
    key = plan_key("dev", commit)
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=key, Body=body + b"\0")

    refused = cli(checkout, "apply", "--env", "dev", "--commit", commit)
    assert refused.returncode == EXIT_REFUSED, refused.stderr
    assert "does not match the metadata's" in refused.stderr
    assert "it changed after the plan build" in refused.stderr
    assert state(s3) is None


def test_a_plan_for_another_commit_or_environment_is_refused(
        s3: Any, repo: Repo, cli: Any, tmp_path: Path) -> None:
    first = repo.head
    second = repo.release("dev", "2026.12.1")
    checkout = repo.checkout(first, tmp_path / "first")
    assert cli(checkout, "plan", "--env", "dev", "--commit", first).returncode == 0
    # One checkout per environment, as one build per environment has.
    prod = repo.checkout(first, tmp_path / "first-prod")
    assert cli(prod, "plan", "--env", "prod", "--commit", first).returncode == 0
    for name in ("plan.tfplan", "plan.json"):  # first's dev plan, put where second's would be
        s3.copy_object(Bucket=BUCKET, Key=plan_key("dev", second, name),
                       CopySource={"Bucket": BUCKET, "Key": plan_key("dev", first, name)})
        s3.copy_object(Bucket=BUCKET, Key=plan_key("dev", first, name),
                       CopySource={"Bucket": BUCKET, "Key": plan_key("prod", first, name)})

    other_commit = cli(repo.checkout(second, tmp_path / "second"), "apply", "--env", "dev",
                       "--commit", second)
    assert other_commit.returncode == EXIT_REFUSED, other_commit.stderr
    assert f"commit: the plan is for '{first}', this build is for '{second}'" in (
        other_commit.stderr)

    other_env = cli(checkout, "apply", "--env", "dev", "--commit", first)
    assert other_env.returncode == EXIT_REFUSED, other_env.stderr
    assert "environment: the plan is for 'prod', this build is for 'dev'" in other_env.stderr
    assert state(s3) is None
    assert state(s3, "prod") is None


def test_a_plan_made_stale_by_another_apply_is_refused(
        s3: Any, repo: Repo, cli: Any, tmp_path: Path) -> None:
    first = repo.head
    second = repo.release("dev", "2026.12.1")
    old = repo.checkout(first, tmp_path / "first")
    new = repo.checkout(second, tmp_path / "second")
    assert cli(old, "plan", "--env", "dev", "--commit", first).returncode == 0
    assert cli(new, "plan", "--env", "dev", "--commit", second).returncode == 0
    applied = cli(new, "apply", "--env", "dev", "--commit", second)
    assert applied.returncode == 0, applied.stderr
    before = state(s3)
    assert release_in(before) == "2026.12.1"

    stale = cli(old, "apply", "--env", "dev", "--commit", first)
    assert stale.returncode == EXIT_REFUSED, stale.stderr
    assert f"Terraform refused the plan for dev at {first} as stale" in stale.stderr
    assert state(s3) == before


def test_no_plan_or_a_conflicting_checkout_is_refused(
        s3: Any, repo: Repo, cli: Any) -> None:
    missing = cli(repo.root, "apply", "--env", "dev", "--commit", repo.head)
    assert missing.returncode == EXIT_REFUSED
    assert (f"no reviewed plan for dev at {repo.head}: the plan build for this commit has not "
            "run or its artifact expired") in missing.stderr

    other = "0" * 40
    conflicting = cli(repo.root, "plan", "--env", "dev", "--commit", repo.head,
                      extra={"CODEBUILD_RESOLVED_SOURCE_VERSION": other})
    assert conflicting.returncode == EXIT_REFUSED
    assert "conflicting commits" in conflicting.stderr
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_failed_apply_can_be_run_again_and_finds_its_plan(
        s3: Any, repo: Repo, cli: Any) -> None:
    commit = repo.head
    assert cli(repo.root, "plan", "--env", "dev", "--commit", commit).returncode == 0
    failed = cli(repo.root, "apply", "--env", "dev", "--commit", commit,
                 "--terraform", str(repo.root / "no-such-terraform"))
    assert failed.returncode == EXIT_FAILED, failed.stderr
    assert state(s3) is None

    again = cli(repo.root, "apply", "--env", "dev", "--commit", commit,
                extra={"CODEBUILD_RESOLVED_SOURCE_VERSION": commit})
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"applied the reviewed plan for quickstart dev at {commit}")
    assert release_in(state(s3)) == "2026.11.1"

