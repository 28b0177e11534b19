"""A walk over every statement of the model: no wildcard action, no unscoped write, and each
role holds what its job needs and nothing of another's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmi_delivery.bootstrap import Plane
from lmi_delivery.bootstrap.model import Statement
from lmi_delivery.bootstrap.permissions import UNSCOPED_ACTIONS

ROOT = Path(__file__).resolve().parents[3]
#: Read-only verbs: an action starting with one of these changes nothing.
READ_VERBS = ("Get", "List", "Describe", "BatchGet", "Head")


def every_statement(plane: Plane) -> Iterator[tuple[str, Statement]]:
    for role in plane.roles:
        for s in (*role.trust.statements, *role.policy.statements):
            yield f"role {role.key}", s
    for bucket in plane.buckets:
        for s in bucket.policy.statements:
            yield f"bucket {bucket.key}", s
    if plane.kms.policy is not None:
        for s in plane.kms.policy.statements:
            yield "kms key", s


def is_write(action: str) -> bool:
    return not action.split(":", 1)[1].startswith(READ_VERBS)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_no_statement_allows_every_action_or_writes_on_every_resource(
        dev: Plane, prod: Plane, env: str) -> None:
    plane = dev if env == "dev" else prod
    walked = 0
    for where, s in every_statement(plane):
        walked += 1
        assert "*" not in s.actions, (where, s.sid)
        if s.effect == "Deny":
            continue  # denials narrow what others grant
        if where == "kms key":
            # A key policy's Resource is always "*" (the key itself); this one only hands the
            # key to the account's IAM policies, AWS's default key policy.
            assert s.principal == {"AWS": "arn:aws:iam::123456789012:root"}
            continue
        assert not any(a.endswith(":*") for a in s.actions), (where, s.sid)
        if "*" in s.resources:
            assert set(s.actions) <= set(UNSCOPED_ACTIONS), (where, s.sid)
            assert not any(is_write(a) for a in s.actions), (where, s.sid)
        for resource in s.resources:
            assert resource == "*" or resource.startswith("arn:aws:"), (where, resource)
    assert walked > 40


def test_the_unscoped_actions_are_listed_in_the_readme_with_their_reason() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for action in UNSCOPED_ACTIONS:
        assert f"`{action}`" in readme


def actions(plane: Plane, key: str) -> set[str]:
    return {a for s in plane.role(key).policy.statements if s.effect == "Allow"
            for a in s.actions}


def resources(plane: Plane, key: str, action: str) -> set[str]:
    return {r for s in plane.role(key).policy.statements if s.effect == "Allow"
            and action in s.actions for r in s.resources}


def test_github_roles_read_what_planning_reads_and_write_no_function(dev: Plane) -> None:
    fns = {f"arn:aws:lambda:eu-west-1:123456789012:function:shop-dev-{f}{q}"
           for f in ("router", "worker") for q in ("", ":*")}
    for key in ("review", "plan", "deploy"):
        assert not {a for a in actions(dev, key) if a.startswith("lambda:") and is_write(a)}
        for action in ("lambda:GetAlias", "lambda:GetFunctionScalingConfig",
                       "lambda:GetFunctionConfiguration"):
            assert resources(dev, key, action) == fns, (key, action)
        assert resources(dev, key, "lambda:GetCapacityProvider") == {
            "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:shop-dev-shared"}


def test_the_review_role_may_start_only_the_review_project(dev: Plane) -> None:
    assert resources(dev, "review", "codebuild:StartBuild") == {
        "arn:aws:codebuild:eu-west-1:123456789012:project/shop-dev-tf-review"}
    assert {r for r in resources(dev, "review", "logs:GetLogEvents")} == {
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/codebuild/shop-dev-tf-review",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/codebuild/shop-dev-tf-review"
        ":log-stream:*"}


def test_the_plan_role_may_start_only_the_plan_project_and_reads_no_plan(dev: Plane) -> None:
    assert resources(dev, "plan", "codebuild:StartBuild") == {
        "arn:aws:codebuild:eu-west-1:123456789012:project/shop-dev-tf-plan"}
    assert resources(dev, "plan", "s3:GetObject") <= {
        "arn:aws:s3:::shop-artifacts/plans/shop/dev/*.review.json",
        "arn:aws:s3:::shop-artifacts/lmi-delivery/*"}  # its own wheel
    assert not {a for a in actions(dev, "plan") if a.startswith("s3:Delete")}


def test_drift_reads_are_read_only_and_scoped_to_the_environment(dev: Plane) -> None:
    assert not {a for a in actions(dev, "review") if is_write(a)
                and not a.startswith(("codebuild:", "s3:PutObject", "kms:"))}
    assert resources(dev, "review", "events:DescribeRule") == {
        "arn:aws:events:eu-west-1:123456789012:rule/shop-dev-router-warm"}
    assert resources(dev, "review", "lambda:ListFunctionVersionsByCapacityProvider") == {
        "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:shop-dev-shared"}


def test_the_deploy_role_starts_its_environment_s_three_projects(prod: Plane) -> None:
    assert resources(prod, "deploy", "codebuild:StartBuild") == {
        f"arn:aws:codebuild:eu-west-1:123456789012:project/shop-prod-{p}"
        for p in ("tf-plan", "tf-apply", "post-deploy")}
    assert {"codebuild:StopBuild", "codebuild:BatchGetBuilds"} <= actions(prod, "deploy")


def test_the_prune_role_makes_exactly_the_pruner_s_calls(dev: Plane) -> None:
    assert actions(dev, "prune") == {
        "lambda:GetCapacityProvider", "lambda:ListFunctionVersionsByCapacityProvider",
        "lambda:ListVersionsByFunction", "lambda:ListAliases",
        "lambda:GetFunctionScalingConfig", "lambda:DeleteFunction", "lambda:ListFunctions",
        "lambda:ListEventSourceMappings",
        # the alias histories name the rollback targets the prune keeps
        "s3:ListBucket", "s3:GetObject", "kms:Decrypt"}
    assert "lambda:PublishVersion" not in actions(dev, "prune")
    assert resources(dev, "prune", "s3:GetObject") == {
        "arn:aws:s3:::shop-artifacts/plans/shop/dev/history/*"}
    assert resources(dev, "prune", "lambda:DeleteFunction") == {
        f"arn:aws:lambda:eu-west-1:123456789012:function:shop-dev-{f}{q}"
        for f in ("router", "worker") for q in ("", ":*")}


def test_build_roles_touch_only_their_environment_s_functions(dev: Plane) -> None:
    for key in ("post-deploy-build", "apply-build", "plan-build", "review-build", "prune"):
        for s in dev.role(key).policy.statements:
            for r in s.resources:
                if ":function:" in r:
                    assert ":function:shop-dev-" in r, (key, r)


def test_the_review_build_gets_no_deploy_secret_and_writes_only_review_plans(
        dev: Plane) -> None:
    review = dev.role("review-build").policy.statements
    writes = {r for s in review if s.effect == "Allow" for a in s.actions if is_write(a)
              and a.startswith("s3:") for r in s.resources}
    # Review plans run with -lock=false: a pull request's build cannot take, hold or delete
    # the state lock the applies wait on.
    assert writes == {"arn:aws:s3:::shop-artifacts/reviews/shop/dev/*"}
    assert "arn:aws:s3:::shop-tfstate/tf/shop/dev.tfstate.tflock" in resources(
        dev, "plan-build", "s3:PutObject")
    assert "ssm:GetParameters" not in actions(dev, "review-build")
    assert resources(dev, "review-build", "secretsmanager:GetSecretValue") == {
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/review-??????"}
    assert resources(dev, "plan-build", "ssm:GetParameters") == {
        "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/dev/token"}
    assert not {a for a in actions(dev, "review-build") if a.startswith("lambda:") and
                is_write(a)}


def test_plan_stores_are_conditional_puts_and_never_the_records_beside_them(
        dev: Plane) -> None:
    for key in ("plan-build", "review-build"):
        for s in dev.role(key).policy.statements:
            if s.effect == "Allow" and "s3:PutObject" in s.actions and "tflock" not in str(
                    s.resources):
                assert s.conditions == {"Null": {"s3:if-none-match": "false"}}, (key, s.sid)
    denied = [s for s in dev.role("plan-build").policy.statements if s.effect == "Deny"]
    assert {r for s in denied for r in s.resources} == {
        f"arn:aws:s3:::shop-artifacts/plans/shop/dev/{p}/*"
        for p in ("applied", "locks", "post-deploy", "history")}


def test_only_the_apply_build_changes_what_terraform_manages(dev: Plane) -> None:
    assert {"lambda:CreateFunction", "lambda:UpdateCapacityProvider", "logs:CreateLogGroup",
            "iam:PassRole", "s3:PutObject"} <= actions(dev, "apply-build")
    assert resources(dev, "apply-build", "iam:PassRole") == {
        "arn:aws:iam::123456789012:role/shop-dev-exec",
        "arn:aws:iam::123456789012:role/shop-dev-operator"}
    for key in ("plan-build", "review-build"):
        assert not {a for a in actions(dev, key) if a.startswith(("lambda:", "logs:Delete",
                                                                  "iam:")) and is_write(a)}


def test_post_deploy_holds_the_calls_post_deploy_makes(dev: Plane) -> None:
    assert {"lambda:PublishVersion", "lambda:UpdateAlias", "lambda:PutFunctionScalingConfig",
            "lambda:InvokeFunction", "events:PutRule", "cloudwatch:DescribeAlarms",
            "s3:PutObject"} <= actions(dev, "post-deploy-build")
    assert resources(dev, "post-deploy-build", "events:PutRule") == {
        "arn:aws:events:eu-west-1:123456789012:rule/shop-dev-router-warm"}
    assert resources(dev, "post-deploy-build", "cloudwatch:DescribeAlarms") == {
        "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-router-errors"}
    assert resources(dev, "post-deploy-build", "s3:PutObject") == {
        "arn:aws:s3:::shop-artifacts/plans/shop/dev/post-deploy/last.json",
        "arn:aws:s3:::shop-artifacts/plans/shop/dev/history/*"}


def test_the_artifacts_bucket_refuses_overwrites_deletes_and_plain_http(dev: Plane) -> None:
    policy = json.loads(dev.artifacts.policy.canonical())["Statement"]
    by_sid = {s["Sid"]: s for s in policy}
    assert by_sid["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}
    plans = ["arn:aws:s3:::shop-artifacts/lmi-delivery/*",
             "arn:aws:s3:::shop-artifacts/plans/*.tfplan",
             "arn:aws:s3:::shop-artifacts/reviews/*"]
    assert by_sid["DenyPlanOverwrite"]["Resource"] == plans
    assert by_sid["DenyPlanOverwrite"]["Condition"] == {"Null": {"s3:if-none-match": "true"}}
    assert by_sid["DenyPlanDelete"]["Resource"] == plans
    assert [(r.tag_value, r.days) for r in dev.artifacts.lifecycle] == [
        ("deploy", 14), ("review", 14)]
