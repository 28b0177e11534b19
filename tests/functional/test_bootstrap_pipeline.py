"""The quickstart's pipeline on a freshly bootstrapped sandbox account with IAM enforced, with
only the roles `bootstrap --apply` generated: GitHub's jobs assume them through OIDC, builds run
as their projects' service roles."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from bootstrapped import QUICKSTART, REPOSITORY, Bootstrapped, bootstrap
from moto.sts.models import sts_backends

from lmi_delivery.execute.executor import Execution
from lmi_delivery.execute.sandbox_run import snapshot
from lmi_delivery.execute.services import (
    apply_only,
    bind_to_plan_build,
    execute_plans,
    make_services,
)
from lmi_delivery.plan.events import ContextFlags
from lmi_delivery.plan.policy import MUTATING_STAGES
from lmi_delivery.plan.prepare import PlanRequest, make_plan
from lmi_delivery.postdeploy.prune.run import PruneRequest, run_prune
from lmi_delivery.sandbox import Sandbox, SandboxOptions

FUNCTION = "quickstart-dev-router"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("repository") / "quickstart"


@pytest.fixture(scope="module")
def sandbox_server(source: Path) -> Iterator[Sandbox]:
    # The projects' source is the GitHub repository; here a snapshot of the example stands in.
    options = SandboxOptions(iam=True, repositories={
        f"https://github.com/{REPOSITORY}.git": str(source)})
    with Sandbox(options) as running:
        yield running


def environ(world: Bootstrapped, role: str) -> dict[str, str]:
    """A GitHub job's environment after configure-aws-credentials assumed ``role``."""
    creds = world.github(role)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    return {**base, "AWS_ENDPOINT_URL": world.sandbox.endpoint_url, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": creds["aws_session_token"]}


def deliver(world: Bootstrapped, role: str, flags: ContextFlags, *,
            plan_only: bool = False, plan_build: str | None = None) -> Execution:
    """One GitHub job with ``role``: all its stages, only the review stages (``command:
    plan``), or the approved job's apply of ``plan_build`` (``command: apply``)."""
    env = environ(world, role)
    config = world.config
    plan = make_plan(PlanRequest(str(QUICKSTART), "dev", flags), env, config=config)
    # The job's role reads what the plan shows (where the aliases point), read-only.
    assert not plan.offline, plan.notes
    assert "read current aliases from AWS (read-only) and the capacity headroom" in plan.notes
    if plan_only:
        plan = replace(plan, stages=tuple(
            replace(s, status="skipped", reason="plan only", steps=())
            if s.name in MUTATING_STAGES else s for s in plan.stages))
    services = make_services(config, config.environment("dev"), env, 0.2, io.StringIO())
    if plan_build is not None:
        bound = bind_to_plan_build(services.codebuild, plan_build, commit=flags.sha,
                                   expected_sha256=None)
        plan, services = apply_only(plan, bound), replace(services, plan_build=bound)
    [execution] = execute_plans([plan], services)
    return execution


def test_review_deploy_and_prune_with_only_the_generated_roles(sandbox: Sandbox,
                                                               source: Path) -> None:
    began = time.monotonic()
    world = bootstrap(sandbox)
    applied = time.monotonic() - began
    # What Terraform made before the pipeline ran (the provider-free quickstart cannot).
    sandbox.seed_from_config(world.config, ["dev"])
    commit = snapshot(world.config.root, source, dict(os.environ), ["dev"])

    review = deliver(world, "review", ContextFlags(event="pull_request", ref="dev",
                                                   base_ref="dev", sha=commit))
    assert review.error is None, review.error
    assert review.report.outcome == "succeeded"
    assert [b.project for r in review.report.results.values() for b in r.builds] == [
        "quickstart-dev-tf-review"]
    assert {s.name: s.status for s in review.report.plan.stages}["apply"] == "skipped"

    # deploy.yml: the plan job (the plan role: pushes to dev), then the approved job (the
    # deploy role: jobs of the GitHub environment dev) applies exactly that plan build.
    push = ContextFlags(event="push", ref="dev", sha=commit)
    planned = deliver(world, "plan", push, plan_only=True)
    assert planned.error is None, planned.error
    [plan_build] = [b for r in planned.report.results.values() for b in r.builds]
    assert plan_build.project == "quickstart-dev-tf-plan"
    deploy = deliver(world, "deploy", push, plan_build=plan_build.id)
    assert deploy.error is None, deploy.error
    assert deploy.report.outcome == "succeeded"
    builds = [b.project for r in deploy.report.results.values() for b in r.builds]
    assert builds == ["quickstart-dev-tf-apply", "quickstart-dev-post-deploy"]
    lam = sandbox.client("lambda")
    live = lam.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"]
    assert live == "1"

    for _ in range(4):  # later deploys' versions, so that the prune has some to delete
        lam.publish_version(FunctionName=FUNCTION)
    pruned = run_prune(PruneRequest(str(QUICKSTART), "dev"), environ(world, "prune"))
    assert not pruned.errors
    left = [v["Version"] for v in lam.list_versions_by_function(FunctionName=FUNCTION)[
        "Versions"]]
    assert "1" in left  # live keeps its version
    assert len(left) < 6
    # Every call of the pipeline was made as one of the generated roles: GitHub's jobs assumed
    # theirs, and each build ran as its project's service role.
    sessions = {r.role_arn.rsplit("/", 1)[-1] for r in sts_backends[sandbox.account_id][
        "aws"].assumed_roles}
    assert sessions == {f"quickstart-dev-{suffix}" for suffix in (
        "gh-review", "gh-plan", "gh-deploy", "gh-prune", "cb-review", "cb-plan", "cb-apply",
        "cb-post-deploy")}
    print(f"bootstrap --apply {applied:.2f} s; review, deploy and prune "
          f"{time.monotonic() - began - applied:.1f} s with IAM enforced")
