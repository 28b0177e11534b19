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
from selfdist_helpers import as_overrides, this_wheel, wheel_variables

from lmi_delivery.errors import EXIT_REFUSED
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


def plan_key(env: str, commit: str, sha: str, ext: str = "tfplan",
             prefix: str = "plans") -> str:
    return f"{prefix}/quickstart/{env}/{commit}/{sha}.{ext}"


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

PLAN_PROJECT = "quickstart-{env}-tf-plan"
REVIEW_PROJECT = "quickstart-{env}-tf-review"
APPLY_PROJECT = "quickstart-{env}-tf-apply"


def _project(codebuild: Any, name: str, source: Path, buildspec: str,
             variables: dict[str, str]) -> str:
    codebuild.create_project(
        name=name, source={"type": "NO_SOURCE", "location": str(source), "buildspec": buildspec},
        artifacts={"type": "NO_ARTIFACTS"}, serviceRole=ROLE,
        environment={**ENVIRONMENT, "environmentVariables": as_overrides(variables)})
    return name


def _variables(**values: str) -> list[dict[str, str]]:
    return [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in values.items()]


def _build(codebuild: Any, project: str, commit: str, env: str = "dev", event: str = "push",
           **extra: str) -> dict[str, Any]:
    mode = "deploy" if event == "push" else "review"
    build_id = codebuild.start_build(
        projectName=project, sourceVersion=commit,
        environmentVariablesOverride=_variables(
            LMI_DELIVERY_ENV=env, LMI_DELIVERY_COMMIT=commit, LMI_DELIVERY_EVENT=event,
            LMI_DELIVERY_MODE=mode, **extra),
    )["build"]["id"]
    deadline = time.monotonic() + 90
    while True:
        build: dict[str, Any] = codebuild.batch_get_builds(ids=[build_id])["builds"][0]
        if build["buildComplete"]:
            return build
        assert time.monotonic() < deadline, f"build still {build['currentPhase']}"
        time.sleep(0.05)


def _exported(build: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v["value"] for v in build.get("exportedEnvironmentVariables", [])
            if "value" in v}


def _log(sandbox: Sandbox, build: dict[str, Any]) -> str:
    events = sandbox.client("logs").get_log_events(
        logGroupName=build["logs"]["groupName"], logStreamName=build["logs"]["streamName"],
        startFromHead=True)["events"]
    return "".join(event["message"] for event in events)


@pytest.fixture
def projects(sandbox: Sandbox, repo: Repo, s3: Any) -> Any:
    """The projects, each handing its builds this lmi-delivery's wheel, as the orchestrator
    hands it to every build it starts."""
    codebuild = sandbox.client("codebuild")
    wheel = wheel_variables(s3, BUCKET)
    for env in ("dev", "prod"):
        for name, spec in ((PLAN_PROJECT, "plan"), (REVIEW_PROJECT, "plan"),
                           (APPLY_PROJECT, "apply")):
            _project(codebuild, name.format(env=env), repo.root, f"buildspecs/{spec}.yml", wheel)
    return codebuild


def _plan(codebuild: Any, sandbox: Sandbox, commit: str, env: str = "dev") -> tuple[str, str]:
    """A deploy plan build of ``commit``: its id and exported sha256."""
    planned = _build(codebuild, PLAN_PROJECT.format(env=env), commit, env)
    assert planned["buildStatus"] == "SUCCEEDED", _log(sandbox, planned)
    return planned["id"], _exported(planned)["LMI_PLAN_SHA256"]


def test_plan_build_then_apply_build_change_the_state(
        sandbox: Sandbox, s3: Any, repo: Repo, projects: Any) -> None:
    commit = repo.release("dev", "2026.12.0")
    planned = _build(projects, PLAN_PROJECT.format(env="dev"), commit)
    assert planned["buildStatus"] == "SUCCEEDED", _log(sandbox, planned)
    exported = _exported(planned)
    sha = exported["LMI_PLAN_SHA256"]
    metadata = json.loads(s3.get_object(Bucket=BUCKET, Key=plan_key("dev", commit, sha, "json"))
                          ["Body"].read())
    wheel = this_wheel()
    assert exported == {
        "LMI_VERDICT": "succeeded",
        "LMI_DELIVERY_INSTALLED_VERSION": wheel.version,
        "LMI_DELIVERY_INSTALLED_SHA256": wheel.sha256,
        "LMI_PLAN_KIND": "deploy",
        "LMI_PLAN_URL": f"s3://{BUCKET}/{plan_key('dev', commit, sha)}",
        "LMI_PLAN_METADATA_URL": f"s3://{BUCKET}/{plan_key('dev', commit, sha, 'json')}",
        "LMI_PLAN_SHA256": sha,
        "LMI_PLAN_SUMMARY": "Plan: 1 to add, 0 to change, 0 to destroy, 0 to replace. "
                            "1 output changed.",
        "LMI_PLAN_HAS_CHANGES": "true",
    }
    assert (metadata["commit"], metadata["build_id"], metadata["kind"]) == (
        commit, planned["id"], "deploy")
    assert state(s3) is None  # planning changes nothing

    bound = {"LMI_PLAN_BUILD_ID": planned["id"], "LMI_PLAN_SHA256": sha}
    applied = _build(projects, APPLY_PROJECT.format(env="dev"), commit, **bound)
    assert applied["buildStatus"] == "SUCCEEDED", _log(sandbox, applied)
    assert release_in(state(s3)) == "2026.12.0"
    assert _exported(applied)["LMI_APPLIED_PLAN_SHA256"] == sha
    assert "Apply complete! Resources: 1 added" in _log(sandbox, applied)
    [record_key] = [o["Key"] for o in s3.list_objects_v2(
        Bucket=BUCKET, Prefix="plans/quickstart/dev/applied/")["Contents"]]
    record = json.loads(s3.get_object(Bucket=BUCKET, Key=record_key)["Body"].read())
    assert (record["plan_sha256"], record["plan_build_id"], record["apply_build_id"]) == (
        sha, planned["id"], applied["id"])

    again = _build(projects, APPLY_PROJECT.format(env="dev"), commit, **bound)
    assert again["buildStatus"] == "FAILED"
    # The verdict travels in CodeBuild's record, not in the log.
    assert _exported(again)["LMI_VERDICT"] == "refused"
    assert "was already applied at" in _exported(again)["LMI_VERDICT_DETAIL"]


# -- attacks on the apply, through the CLI the apply buildspec calls ----------------------------


@pytest.fixture
def attack(sandbox: Sandbox, s3: Any, repo: Repo, projects: Any, cli: Any,
           tmp_path: Path) -> Any:
    """``attack(commit, build_id, sha, **env)``: the apply build's command in a clone of the
    repository (a git source: history and an origin), as an attacker's inputs would reach it."""

    def apply(commit: str, build_id: str, sha: str, *args: str,
              **extra: str) -> subprocess.CompletedProcess[str]:
        where = tmp_path / f"apply-{commit[:8]}-{time.monotonic_ns()}"
        repo.git("clone", "-q", str(repo.root), str(where))
        subprocess.run(["git", "-C", str(where), "checkout", "-q", "--detach", commit],
                       check=True, capture_output=True)
        variables = {"LMI_PLAN_BUILD_ID": build_id, "LMI_PLAN_SHA256": sha,
                     "LMI_DELIVERY_EVENT": "push", "LMI_DELIVERY_MODE": "deploy",
                     "CODEBUILD_BUILD_ID": f"quickstart-dev-tf-apply:{where.name}", **extra}
        return cli(where, "apply", "--env", "dev", "--commit", commit, *args, extra=variables)

    return apply


def _refused(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == EXIT_REFUSED, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_a_plan_rewritten_in_s3_is_refused(sandbox: Sandbox, s3: Any, repo: Repo,
                                           projects: Any, attack: Any) -> None:
    commit = repo.head
    build_id, sha = _plan(projects, sandbox, commit)
    key = plan_key("dev", commit, sha)
    # The attacker replaces the object (delete, then put) and its metadata...
    forged = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() + b"\0"
    s3.delete_object(Bucket=BUCKET, Key=key)
    s3.put_object(Bucket=BUCKET, Key=key, Body=forged)
    _refused(attack(commit, build_id, sha), "it changed after the plan build")
    # ...or stores a plan of their own under its own sha and claims it.
    other = "e" * 64
    s3.put_object(Bucket=BUCKET, Key=plan_key("dev", commit, other), Body=forged)
    _refused(attack(commit, build_id, other), f"it exported plan sha256 {sha}, not {other}")
    assert state(s3) is None


def test_a_plan_copied_from_another_environment_is_refused(
        sandbox: Sandbox, s3: Any, repo: Repo, projects: Any, attack: Any) -> None:
    commit = repo.head
    dev_build, dev_sha = _plan(projects, sandbox, commit)
    prod_build, prod_sha = _plan(projects, sandbox, commit, "prod")
    for ext in ("tfplan", "json"):  # prod's plan, at dev's key, its metadata relabelled
        body = s3.get_object(Bucket=BUCKET, Key=plan_key("prod", commit, prod_sha, ext))
        data = body["Body"].read()
        if ext == "json":
            data = data.replace(b'"environment": "prod"', b'"environment": "dev"')
        s3.delete_object(Bucket=BUCKET, Key=plan_key("dev", commit, dev_sha, ext))
        s3.put_object(Bucket=BUCKET, Key=plan_key("dev", commit, dev_sha, ext), Body=data)
    _refused(attack(commit, dev_build, dev_sha), "it changed after the plan build")
    _refused(attack(commit, prod_build, prod_sha),
             "it ran in project 'quickstart-prod-tf-plan', not this environment's plan project")
    assert state(s3) is None
    assert state(s3, "prod") is None


def test_a_review_plan_at_the_deploy_key_is_refused(
        sandbox: Sandbox, s3: Any, repo: Repo, projects: Any, attack: Any) -> None:
    commit = repo.head
    review = _build(projects, REVIEW_PROJECT.format(env="dev"), commit, event="pull_request")
    assert review["buildStatus"] == "SUCCEEDED", _log(sandbox, review)
    sha = _exported(review)["LMI_PLAN_SHA256"]
    assert _exported(review)["LMI_PLAN_KIND"] == "review"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="plans/").get("KeyCount")
    assert listed == 0, "a review build stores nothing where deploy plans live"
    for ext in ("tfplan", "json"):
        s3.copy_object(Bucket=BUCKET, Key=plan_key("dev", commit, sha, ext),
                       CopySource={"Bucket": BUCKET,
                                   "Key": plan_key("dev", commit, sha, ext, "reviews")})
    _refused(attack(commit, review["id"], sha), "ran in project 'quickstart-dev-tf-review'",
             "not for a deploy")
    assert state(s3) is None


def test_an_apply_for_a_pull_request_head_is_refused(
        sandbox: Sandbox, s3: Any, repo: Repo, projects: Any, attack: Any) -> None:
    commit = repo.head
    build_id, sha = _plan(projects, sandbox, commit)
    _refused(attack(commit, build_id, sha, LMI_DELIVERY_EVENT="pull_request",
                    LMI_DELIVERY_MODE="review"), "apply never runs for a pull_request event")
    head = repo.release("dev", "unmerged")  # a PR head that is not on the branch
    repo.git("branch", "-f", "feature", head)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    pr_build, pr_sha = _plan(projects, sandbox, head)
    _refused(attack(head, pr_build, pr_sha), f"{head} is not the head of dev")
    assert state(s3) is None


def test_an_older_commit_is_not_applied_again(
        sandbox: Sandbox, s3: Any, repo: Repo, projects: Any, attack: Any) -> None:
    first = repo.head
    old_build, old_sha = _plan(projects, sandbox, first)
    second = repo.release("dev", "2026.12.1")
    new_build, new_sha = _plan(projects, sandbox, second)
    applied = attack(second, new_build, new_sha)
    assert applied.returncode == 0, applied.stderr
    before = state(s3)
    repo.git("reset", "-q", "--hard", first)  # the branch goes back, as a re-run would see it
    replan_build, replan_sha = _plan(projects, sandbox, first)
    _refused(attack(first, replan_build, replan_sha),
             f"older than (or not a descendant of) the last applied commit {second}")
    assert state(s3) == before
    _refused(attack(first, old_build, old_sha), "older than")
    rolled = attack(first, replan_build, replan_sha, "--allow-older")
    assert rolled.returncode == 0, rolled.stderr
    assert release_in(state(s3)) == "2026.11.1"


def test_a_drift_run_stores_nothing_where_deploy_plans_live(
        sandbox: Sandbox, s3: Any, repo: Repo, projects: Any, attack: Any) -> None:
    commit = repo.head
    build_id, sha = _plan(projects, sandbox, commit)
    deploy_keys = sorted(o["Key"] for o in s3.list_objects_v2(
        Bucket=BUCKET, Prefix="plans/")["Contents"])
    drift = _build(projects, REVIEW_PROJECT.format(env="dev"), commit, event="schedule")
    assert drift["buildStatus"] == "SUCCEEDED", _log(sandbox, drift)
    assert sorted(o["Key"] for o in s3.list_objects_v2(
        Bucket=BUCKET, Prefix="plans/")["Contents"]) == deploy_keys
    applied = attack(commit, build_id, sha)
    assert applied.returncode == 0, applied.stderr
    assert release_in(state(s3)) == "2026.11.1"


def test_a_partial_store_is_refused_and_destroys_no_other_plan(
        sandbox: Sandbox, s3: Any, repo: Repo, projects: Any, attack: Any) -> None:
    commit = repo.head
    first_build, first_sha = _plan(projects, sandbox, commit)
    second_build, second_sha = _plan(projects, sandbox, commit)
    assert first_sha != second_sha  # Terraform plan files differ run to run
    s3.delete_object(Bucket=BUCKET, Key=plan_key("dev", commit, second_sha, "json"))
    _refused(attack(commit, second_build, second_sha), "is missing")
    assert state(s3) is None
    applied = attack(commit, first_build, first_sha)  # the other plan is intact
    assert applied.returncode == 0, applied.stderr


def test_two_concurrent_applies_run_one_at_a_time(
        sandbox: Sandbox, s3: Any, repo: Repo, projects: Any, attack: Any) -> None:
    commit = repo.head
    plans = [_plan(projects, sandbox, commit) for _ in range(2)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda p: attack(commit, *p), plans))
    codes = sorted(r.returncode for r in results)
    assert codes == [0, EXIT_REFUSED], [r.stderr for r in results]
    loser = next(r for r in results if r.returncode)
    assert "stale" in loser.stderr or "apply lock" in loser.stderr, loser.stderr
    document = state(s3)
    assert document is not None
    assert len(document["resources"]) == 1  # nothing orphaned


def test_no_plan_build_or_a_conflicting_checkout_is_refused(
        s3: Any, repo: Repo, cli: Any) -> None:
    missing = cli(repo.root, "apply", "--env", "dev", "--commit", repo.head,
                  extra={"LMI_DELIVERY_EVENT": "push"})
    assert missing.returncode == EXIT_REFUSED
    assert "no plan build to apply" in missing.stderr

    other = "0" * 40
    conflicting = cli(repo.root, "plan", "--env", "dev", "--commit", repo.head,
                      extra={"CODEBUILD_RESOLVED_SOURCE_VERSION": other})
    assert conflicting.returncode == EXIT_REFUSED
    assert "conflicting commits" in conflicting.stderr
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
