"""``bootstrap --github``: the GitHub side applied through the real REST client, by the real
CLI, against the fake GitHub API (its environments, branch policies, teams and variables
answer as GitHub's do); and the same side the ``gh api`` script sets."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fake_github
import pytest

from lmi_delivery.bootstrap import build_plane
from lmi_delivery.bootstrap.github import render_github, variables
from lmi_delivery.config import load

REPO, TOKEN, READ_ONLY = "acme/shop", "ghp_bootstrapFakeAdminToken0123456789", "ghs_readOnly42"
TEAM = {"id": 4242, "slug": "approvers", "name": "Approvers"}
CONFIG = """\
version: 1
service: shop
region: eu-west-1
github: {repository: acme/shop}
terraform:
  working_directory: terraform
codebuild:
  artifacts: s3://shop-artifacts/plans
environments:
  dev: {branch: dev, apply: auto, account_id: "123456789012"}
  prod: {branch: main, apply: approval, account_id: "123456789012", require_distinct_approver: true}
capacity_providers:
  shared: {}
functions:
  router:
    capacity_provider: shared
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "main.tf").write_text("")
    (tmp_path / "lmi-delivery.yml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


@pytest.fixture
def fake() -> Iterator[fake_github.FakeGithub]:
    with fake_github.serve(REPO, TOKEN) as served:
        served.read_only_token = READ_ONLY
        served.teams["acme/approvers"] = dict(TEAM)
        yield served


def run(repo: Path, fake: fake_github.FakeGithub, *args: str,
        token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["GITHUB_API_URL"] = fake.url
    if token is not None:
        env["GITHUB_TOKEN"] = token
    done = subprocess.run([sys.executable, "-m", "lmi_delivery", "bootstrap", *args], cwd=repo,
                          env=env, capture_output=True, text=True, check=False, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    return done


def planned(repo: Path, env: str) -> tuple[dict[str, str], dict[str, str]]:
    config = load(repo / "lmi-delivery.yml")
    return variables(build_plane(config, config.environment(env), repository=REPO,
                                 account="123456789012"))


def state(fake: fake_github.FakeGithub) -> dict[str, Any]:
    return copy.deepcopy({"environments": fake.environments, "teams": fake.teams,
                          "branch_policies": fake.branch_policies,
                          "variables": fake.variables, "env_variables": fake.env_variables})


def values(found: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: str(v["value"]) for name, v in found.items()}


def test_dev_and_prod_are_set_as_planned(repo: Path, fake: fake_github.FakeGithub) -> None:
    dev = run(repo, fake, "--env", "dev", "--github")
    assert dev.returncode == 0, dev.stderr
    assert dev.stdout.splitlines() == [
        "environment dev: created",
        "deployment branch dev of environment dev: created",
        "variable LMI_DEPLOY_ROLE_ARN of environment dev: set",
        "variable AWS_REGION: set",
        "variable LMI_REVIEW_ROLE_ARN_DEV: set",
        "variable LMI_PLAN_ROLE_ARN_DEV: set",
        "variable LMI_PRUNE_ROLE_ARN_DEV: set"]
    shown = fake._environment(fake.environments["dev"])
    # apply: auto: no reviewers; only the branch policies may deploy.
    assert shown["protection_rules"] == [{"type": "branch_policy"}]
    assert shown["deployment_branch_policy"] == {"protected_branches": False,
                                                 "custom_branch_policies": True}
    assert [(p["name"], p["type"]) for p in fake.branch_policies["dev"]] == [("dev", "branch")]
    assert values(fake.env_variables["dev"]) == {
        "LMI_DEPLOY_ROLE_ARN": "arn:aws:iam::123456789012:role/shop-dev-gh-deploy"}
    dev_env, dev_repo = planned(repo, "dev")
    assert values(fake.env_variables["dev"]) == dev_env
    assert values(fake.variables) == dev_repo

    prod = run(repo, fake, "--env", "prod", "--github", "--reviewer-team", "approvers")
    assert prod.returncode == 0, prod.stderr
    assert prod.stdout.splitlines()[:2] == [
        "environment prod: created", "deployment branch main of environment prod: created"]
    shown = fake._environment(fake.environments["prod"])
    assert shown["protection_rules"] == [
        {"type": "required_reviewers", "prevent_self_review": True,
         "reviewers": [{"type": "Team", "reviewer": TEAM}]},
        {"type": "branch_policy"}]
    assert [(p["name"], p["type"]) for p in fake.branch_policies["prod"]] == [("main", "branch")]
    prod_env, prod_repo = planned(repo, "prod")
    assert values(fake.env_variables["prod"]) == prod_env == {
        "LMI_DEPLOY_ROLE_ARN": "arn:aws:iam::123456789012:role/shop-prod-gh-deploy"}
    assert values(fake.variables) == {**dev_repo, **prod_repo}
    assert {"LMI_PLAN_ROLE_ARN_DEV", "LMI_PLAN_ROLE_ARN_PROD"} <= set(fake.variables)


def test_a_second_run_changes_nothing_and_a_changed_value_is_put_back(
        repo: Path, fake: fake_github.FakeGithub) -> None:
    args = ("--env", "prod", "--github", "--reviewer-team", "approvers")
    assert run(repo, fake, *args).returncode == 0
    before, since = state(fake), len(fake.requests)
    again = run(repo, fake, *args)
    assert again.returncode == 0, again.stderr
    assert state(fake) == before
    assert again.stdout.splitlines()[:2] == [
        "environment prod: updated", "deployment branch main of environment prod: already there"]
    writes = fake.writes(since)
    assert not [w for w in writes if w[0] == "POST"], writes
    assert {method for method, _ in writes} == {"PUT", "PATCH"}

    fake.variables["AWS_REGION"]["value"] = "us-east-1"
    del fake.variables["LMI_PRUNE_ROLE_ARN_PROD"]
    assert run(repo, fake, *args).returncode == 0
    assert state(fake) == before


def test_the_rest_calls_are_the_scripts(repo: Path, fake: fake_github.FakeGithub) -> None:
    """The REST apply writes exactly where the ``gh api`` script writes."""
    assert run(repo, fake, "--env", "prod", "--github", "--reviewer-team",
               "approvers").returncode == 0
    config = load(repo / "lmi-delivery.yml")
    script = render_github(build_plane(config, config.environment("prod"), repository=REPO,
                                       account="123456789012"))
    script = script.replace("$REPO", REPO).replace("$ENVIRONMENT", "prod")
    commands = {(m.group(1) or "GET", "/" + m.group(2))
                for m in re.finditer(r'gh api (?:--method (\w+) )?"([^"]+)"', script)}
    commands = {(method, path.replace("$LMI_REVIEWER_TEAM", "approvers"))
                for method, path in commands}
    made = {(r.method, r.path) for r in fake.requests}
    assert made == commands | {("GET", "/repos/acme/shop/environments/prod")}


@pytest.mark.parametrize(("args", "token", "message"), [
    (("--env", "dev", "--github"), None, "GITHUB_TOKEN"),
    (("--env", "dev", "--github"), "", "GITHUB_TOKEN"),
    (("--env", "dev", "--github", "--apply"), TOKEN, "--github applies the GitHub side"),
    (("--env", "dev", "--github", "--out", "."), TOKEN, "does not go with --apply, --out"),
    (("--env", "dev", "--github", "--github-commands"), TOKEN, "--github-commands"),
    (("--env", "prod", "--github"), TOKEN,
     "environment prod has apply: approval: name the team of approvers with --reviewer-team"),
    (("--env", "dev", "--github", "--reviewer-team", "approvers"), TOKEN,
     "--reviewer-team approvers: environment dev has apply: auto"),
    (("--env", "dev", "--reviewer-team", "approvers"), TOKEN, "--reviewer-team needs --github"),
    (("--env", "qa", "--github"), TOKEN, "unknown environment 'qa'"),
], ids=["no-token", "empty-token", "with-apply", "with-out", "with-github-commands",
        "approval-without-team", "auto-with-team", "team-without-github", "unknown-env"])
def test_bad_input_exits_2_before_any_call(repo: Path, fake: fake_github.FakeGithub,
                                           args: tuple[str, ...], token: str | None,
                                           message: str) -> None:
    done = run(repo, fake, *args, token=token)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert done.stdout == ""
    assert fake.requests == []


def test_refusals_exit_1_naming_the_call(repo: Path, fake: fake_github.FakeGithub) -> None:
    bad = run(repo, fake, "--env", "dev", "--github", token="ghp_wrong")
    assert bad.returncode == 1
    assert ("error: bootstrap --github: reading environment dev: GitHub API GET "
            "/repos/acme/shop/environments/dev: HTTP 401: Bad credentials") in bad.stderr
    assert "ghp_wrong" not in bad.stderr

    missing = run(repo, fake, "--env", "prod", "--github", "--reviewer-team", "nobody")
    assert missing.returncode == 1
    assert ("looking up team nobody of acme: GitHub API GET /orgs/acme/teams/nobody: "
            "HTTP 404") in missing.stderr

    read_only = run(repo, fake, "--env", "dev", "--github", token=READ_ONLY)
    assert read_only.returncode == 1
    assert ("setting environment dev: GitHub API PUT /repos/acme/shop/environments/dev: "
            "HTTP 403: Resource not accessible by integration (the token needs admin rights "
            "on acme/shop") in read_only.stderr
    assert READ_ONLY not in read_only.stderr
    assert fake.writes() == [("PUT", "/repos/acme/shop/environments/dev")]
    assert state(fake)["environments"] == {}
