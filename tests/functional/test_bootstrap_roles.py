"""With IAM enforced, the roles `bootstrap --apply` generates refuse what they must refuse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bootstrapped import Bootstrapped, bootstrap
from botocore.exceptions import ClientError

from lmi_delivery.bootstrap.scope import scope
from lmi_delivery.sandbox import Sandbox, SandboxOptions

BUCKET = "quickstart-delivery-artifacts"


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(iam=True)) as running:
        yield running


@pytest.fixture
def world(sandbox: Sandbox) -> Bootstrapped:
    done = bootstrap(sandbox)
    # What Terraform would have made of both environments: their providers and functions.
    sandbox.seed_from_config(done.config, ["dev", "prod"])
    return done


def denied(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def prefixes(world: Bootstrapped) -> tuple[str, str]:
    s = scope(world.config, world.config.environment("dev"), repository="acme/quickstart")
    return s.deploy_prefix, s.review_prefix


def test_the_review_role_cannot_start_the_plan_or_apply_project(world: Bootstrapped) -> None:
    codebuild = world.client("codebuild", world.github("review"))
    for project in ("quickstart-dev-tf-plan", "quickstart-dev-tf-apply"):
        with pytest.raises(ClientError) as refused:
            codebuild.start_build(projectName=project)
        assert denied(refused) == "AccessDeniedException"
    # It may watch the review project's builds.
    found = codebuild.batch_get_builds(ids=["quickstart-dev-tf-review:0"])
    assert found["buildsNotFound"] == ["quickstart-dev-tf-review:0"]


def test_the_plan_role_cannot_start_the_apply_or_post_deploy_project(
        world: Bootstrapped) -> None:
    codebuild = world.client("codebuild", world.github("plan"))
    for project in ("quickstart-dev-tf-apply", "quickstart-dev-post-deploy",
                    "quickstart-dev-tf-review"):
        with pytest.raises(ClientError) as refused:
            codebuild.start_build(projectName=project)
        assert denied(refused) == "AccessDeniedException"
    found = codebuild.batch_get_builds(ids=["quickstart-dev-tf-plan:0"])
    assert found["buildsNotFound"] == ["quickstart-dev-tf-plan:0"]


def test_the_review_build_cannot_take_or_delete_the_state_lock(world: Bootstrapped) -> None:
    lock = "state/quickstart/dev/terraform.tfstate.tflock"
    s3 = world.client("s3", world.build("review"))
    for call in (lambda: s3.put_object(Bucket=BUCKET, Key=lock, Body=b"{}", IfNoneMatch="*"),
                 lambda: s3.delete_object(Bucket=BUCKET, Key=lock)):
        with pytest.raises(ClientError) as refused:
            call()
        assert denied(refused) == "AccessDenied"
    # The plan build plans with the lock, so it may take it.
    world.client("s3", world.build("plan")).put_object(Bucket=BUCKET, Key=lock, Body=b"{}",
                                                       IfNoneMatch="*")


def test_the_review_role_cannot_read_deploy_plans(world: Bootstrapped) -> None:
    deploy, _ = prefixes(world)
    key = f"{deploy}/{'a' * 64}.tfplan"
    world.sandbox.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"plan", IfNoneMatch="*")
    s3 = world.client("s3", world.github("review"))
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=BUCKET, Key=key)
    assert denied(refused) == "AccessDenied"
    review = world.client("s3", world.build("review"))
    with pytest.raises(ClientError) as refused:
        review.get_object(Bucket=BUCKET, Key=key)
    assert denied(refused) == "AccessDenied"


@pytest.mark.parametrize("project", ["review", "plan"])
def test_plan_writing_builds_cannot_overwrite_a_stored_plan(world: Bootstrapped,
                                                            project: str) -> None:
    deploy, review = prefixes(world)
    key = f"{review if project == 'review' else deploy}/{'b' * 64}.tfplan"
    s3 = world.client("s3", world.build(project))
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"reviewed", IfNoneMatch="*")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"forged")
    assert denied(refused) == "AccessDenied"
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"forged", IfNoneMatch="*")
    assert denied(refused) == "PreconditionFailed"
    stored = world.sandbox.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored == b"reviewed"
    if project == "review":  # and a review build cannot write deploy plans at all
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=BUCKET, Key=f"{deploy}/{'c' * 64}.tfplan", Body=b"x",
                          IfNoneMatch="*")
        assert denied(refused) == "AccessDenied"


def test_the_post_deploy_role_cannot_touch_another_environments_function(
        world: Bootstrapped) -> None:
    lam = world.client("lambda", world.build("post_deploy"))
    assert lam.publish_version(FunctionName="quickstart-dev-router")["Version"] == "1"
    for call, args in ((lam.publish_version, {}),
                       (lam.get_function_configuration, {}),
                       (lam.put_function_scaling_config, {
                           "Qualifier": "$LATEST.PUBLISHED",
                           "FunctionScalingConfig": {"MinExecutionEnvironments": 1,
                                                     "MaxExecutionEnvironments": 2}}),
                       (lam.delete_function, {"Qualifier": "1"})):
        with pytest.raises(ClientError) as refused:
            call(FunctionName="quickstart-prod-router", **args)
        assert denied(refused) == "AccessDeniedException", call


def test_the_prune_role_cannot_publish(world: Bootstrapped) -> None:
    lam = world.client("lambda", world.github("prune"))
    assert lam.list_versions_by_function(FunctionName="quickstart-dev-router")["Versions"]
    with pytest.raises(ClientError) as refused:
        lam.publish_version(FunctionName="quickstart-dev-router")
    assert denied(refused) == "AccessDeniedException"
    with pytest.raises(ClientError) as refused:
        lam.delete_function(FunctionName="quickstart-prod-router", Qualifier="1")
    assert denied(refused) == "AccessDeniedException"
