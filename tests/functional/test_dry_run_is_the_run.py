"""The dry run is the run: what every build executes is exactly what `lmi-delivery plan` shows.

For each example in deploy, review and drift mode, the offline dry run is made first; then the
same event runs through the sandbox's CodeBuild with the shipped buildspecs, the wheel of this
lmi-delivery and the real Terraform. What each build *did* is read from two places the planner
cannot write: the command lines the one Terraform runner echoed right before running them, and
the sandbox's request journal of every AWS call (publishes, alias moves, scaling, warm-ups,
prunes). Both must equal the dry run's steps, build by build and in order.

The agent-platform's Terraform root needs the AWS provider, which a machine without the
Terraform registry cannot download: its configuration (functions, gates, scanners, fmt, var
files, backend key) runs here over a provider-free root of the same shape.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selfdist_helpers import wheel_variables

from lmi_delivery.codebuild import ConsoleLinks, TextReporter
from lmi_delivery.codebuild.model import SHORT_ID_LENGTH
from lmi_delivery.config import Config, load, naming
from lmi_delivery.execute.executor import RunServices, execute_all
from lmi_delivery.execute.sandbox_run import create_projects, snapshot
from lmi_delivery.plan.events import ContextFlags
from lmi_delivery.plan.prepare import PlanRequest, make_plan
from lmi_delivery.plan.steps import (
    AliasMove,
    DeliveryPlan,
    EnvVar,
    Prune,
    Publish,
    Scale,
    StartBuild,
    Step,
    TerraformCommand,
    Warm,
)
from lmi_delivery.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("quickstart", "agent-platform")
MODES = ("deploy", "review", "drift")
#: Lambda calls that change something: each comes from one post-deploy step.
MUTATING = {"PublishVersion": "publish", "CreateAlias": "alias", "UpdateAlias": "alias",
            "PutFunctionScalingConfig": "scale", "Invoke": "warm", "DeleteFunction": "prune"}
LINE = re.compile(r"^\[(?P<build>[^\]]+)\] (?P<text>.*)$")


def flags(mode: str, branch: str, commit: str) -> ContextFlags:
    if mode == "review":
        return ContextFlags(event="pull_request", ref="refs/pull/7/merge", base_ref=branch,
                            sha=commit)
    return ContextFlags(event="push" if mode == "deploy" else "schedule", ref=branch, sha=commit)


def steps_in(plan: DeliveryPlan, where: str) -> list[Step]:
    return [s for stage in plan.stages for s in stage.steps if s.where == where]


def build_lines(log: str) -> dict[str, list[str]]:
    """The streamed log lines of each build, by build id."""
    lines: dict[str, list[str]] = {}
    for raw in log.splitlines():
        if found := LINE.match(raw):
            lines.setdefault(found["build"], []).append(found["text"].strip())
    return lines


def prefixed(lines: list[str], prefix: str) -> list[str]:
    return [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]


def step_lines(lines: list[str]) -> list[str]:
    return [re.sub(r"^step \d+/\d+: ", "", line) for line in lines
            if re.match(r"^step \d+/\d+: ", line)]


def expected_calls(step: Step) -> Iterator[tuple[str, str]]:
    """The mutating (kind, function) calls one post-deploy step makes on a fresh deploy."""
    if isinstance(step, Publish):
        yield "publish", step.function
    elif isinstance(step, AliasMove):
        yield "alias", step.function
    elif isinstance(step, Scale):
        yield "scale", step.function
    elif isinstance(step, Warm):
        yield from [("warm", step.function)] * step.concurrency
    # a prune of a fresh deploy deletes nothing (one version per function, keep >= 1)


def published_once(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """An LMI publish is one or two PublishVersion calls (the numbered version, then
    ``$LATEST.PUBLISHED`` when it is stale): one publish step either way."""
    return [c for i, c in enumerate(calls) if c[0] != "publish" or calls[i - 1:i] != [c]]


def provider_free(root: Path) -> None:
    """Swap a root's .tf files for a provider-free stand-in that takes the same var files and
    keeps its state in the sandbox's S3, as the quickstart does."""
    for tf in root.glob("*.tf"):
        tf.unlink()
    (root / "main.tf").write_text("""\
terraform {
  required_version = "= 1.12.2"
  backend "s3" {
    use_lockfile                = true
    bucket                      = "agent-core-delivery-artifacts"
    region                      = "us-east-1"
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
  }
}

variable "environment" {
  type = string
}

resource "terraform_data" "release" {
  input = var.environment
}
""", encoding="utf-8")


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path) -> Any:
    def make(example: str) -> tuple[Config, str, dict[str, str], RunServices, io.StringIO]:
        root = tmp_path / "repo"
        shutil.copytree(REPO / "examples" / example, root)
        if example == "agent-platform":
            provider_free(root / "terraform")
        config = load(root / "lmi-delivery.yml")
        env = config.environment("dev")
        sandbox.seed_from_config(config, ["dev"])
        commit = snapshot(config.root, tmp_path / "source", dict(os.environ), [env.branch])
        codebuild = sandbox.client("codebuild")
        create_projects(codebuild, config, env, tmp_path / "source", sandbox.account_id)
        environ = {"AWS_ENDPOINT_URL": sandbox.endpoint_url, "AWS_ACCESS_KEY_ID": "x",
                   "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": config.region_for(env)}
        wheel = wheel_variables(sandbox.client("s3"),
                                naming.artifact_location(config).bucket)
        log = io.StringIO()
        services = RunServices(
            codebuild=codebuild, logs=sandbox.client("logs"), reporter=TextReporter(log),
            links=ConsoleLinks(config.region_for(env), sandbox.endpoint_url),
            approve=lambda step: None, check_setup=list, poll_interval=0.3,
            build_env=lambda: tuple(EnvVar(k, v) for k, v in wheel.items()))
        return config, commit, environ, services, log

    return make


@pytest.mark.slow
@pytest.mark.parametrize(("example", "mode"), list(itertools.product(EXAMPLES, MODES)))
def test_every_build_executes_the_dry_run_s_steps(world: Any, sandbox: Sandbox, example: str,
                                                  mode: str) -> None:
    config, commit, environ, services, log = world(example)
    branch = config.environment("dev").branch
    request = PlanRequest(str(config.path), "dev", flags(mode, branch, commit), offline=True)
    dry_run = make_plan(request, environ, config=config)
    assert dry_run.mode == mode
    sandbox.clear_requests()

    [execution] = execute_all([dry_run], services)
    assert execution.error is None, log.getvalue()[-4000:]

    lines = build_lines(log.getvalue())
    builds = {b.project: b.id for r in execution.report.results.values() for b in r.builds}
    started = [s.project for s in steps_in(dry_run, "runner") if isinstance(s, StartBuild)]
    assert list(builds) == started, "the builds started are the dry run's, in order"
    for project, build_id in builds.items():
        shown = steps_in(dry_run, f"codebuild:{project}")
        ran = lines[f"{project}:{build_id.partition(':')[2][:SHORT_ID_LENGTH]}"]
        assert step_lines(ran) == [s.describe() for s in shown], project
        assert prefixed(ran, "$ ") == [" ".join(s.argv) for s in shown
                                       if isinstance(s, TerraformCommand)], project

    calls = [(MUTATING[e.operation], e.params.get("FunctionName", "")) for e in
             sandbox.requests("lambda") if e.operation in MUTATING and e.status < 300]
    post_deploy = [s for stage in dry_run.stages if stage.name == "post-deploy"
                   for s in stage.steps]
    assert published_once(calls) == [c for step in post_deploy for c in expected_calls(step)]
    if mode != "deploy":
        assert calls == [], "a review or drift run changes nothing on Lambda"
    prunes = [s for s in post_deploy if isinstance(s, Prune)]
    looked_up = {e.params.get("CapacityProviderName") for e in sandbox.requests("lambda")
                 if e.operation == "GetCapacityProvider"}
    for prune in prunes:
        assert set(prune.capacity_providers) <= looked_up, "the prune read its providers"
