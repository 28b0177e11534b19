"""Each role's trust policy is exactly the one it must be: one principal, one subject."""

from __future__ import annotations

import json

import pytest

from lmi_delivery.bootstrap import Plane

OIDC = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


def trust(plane: Plane, key: str) -> list[dict[str, object]]:
    statements: list[dict[str, object]] = json.loads(plane.role(key).trust.canonical())[
        "Statement"]
    return statements


def github_statement(subject: str | list[str]) -> list[dict[str, object]]:
    return [{
        "Sid": "GitHubOidc", "Effect": "Allow", "Principal": {"Federated": OIDC},
        "Action": ["sts:AssumeRoleWithWebIdentity"],
        "Condition": {"StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": subject}}}]


def test_the_review_role_trusts_only_pull_requests_and_the_default_branch(dev: Plane) -> None:
    # Pull requests plan for review; drift.yml runs on a schedule, so on the default branch.
    assert trust(dev, "review") == github_statement(
        ["repo:acme/shop:pull_request", "repo:acme/shop:ref:refs/heads/trunk"])


def test_the_plan_role_trusts_only_pushes_to_the_environment_s_branch(
        dev: Plane, prod: Plane) -> None:
    assert trust(dev, "plan") == github_statement("repo:acme/shop:ref:refs/heads/dev")
    assert trust(prod, "plan") == github_statement("repo:acme/shop:ref:refs/heads/main")


def test_the_deploy_role_trusts_only_jobs_of_its_environment(dev: Plane, prod: Plane) -> None:
    assert trust(dev, "deploy") == github_statement("repo:acme/shop:environment:dev")
    assert trust(prod, "deploy") == github_statement("repo:acme/shop:environment:prod")


def test_the_prune_role_trusts_only_the_default_branch(dev: Plane) -> None:
    # github.default_branch is "trunk" in the config, not the environment's branch.
    assert trust(dev, "prune") == github_statement("repo:acme/shop:ref:refs/heads/trunk")


@pytest.mark.parametrize(("key", "project"), [
    ("review-build", "shop-dev-tf-review"), ("plan-build", "shop-dev-tf-plan"),
    ("apply-build", "shop-dev-tf-apply"), ("post-deploy-build", "shop-dev-post-deploy")])
def test_each_service_role_trusts_codebuild_for_its_own_project(
        dev: Plane, key: str, project: str) -> None:
    assert trust(dev, key) == [{
        "Sid": "CodeBuildProject", "Effect": "Allow",
        "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": ["sts:AssumeRole"],
        "Condition": {
            "StringEquals": {"aws:SourceAccount": "123456789012"},
            "ArnLike": {"aws:SourceArn":
                        f"arn:aws:codebuild:eu-west-1:123456789012:project/{project}"}}}]
    assert dev.role(key).kind == "service"


def test_every_role_is_either_assumed_from_github_or_by_codebuild(dev: Plane) -> None:
    assert sorted(r.key for r in dev.roles) == sorted([
        "review", "plan", "deploy", "prune", "review-build", "plan-build", "apply-build",
        "post-deploy-build"])
    assert {r.key for r in dev.roles if r.kind == "github"} == {"review", "plan", "deploy",
                                                                "prune"}
