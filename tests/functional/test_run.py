"""`lmi-delivery run`: the whole pipeline through the sandbox's CodeBuild and real Terraform."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from selfdist_helpers import this_wheel, wheel_variables

from lmi_delivery.codebuild import Cancellation, ConsoleLinks, StartedBuild, TextReporter
from lmi_delivery.config import load
from lmi_delivery.errors import Interrupted
from lmi_delivery.execute.executor import RunServices, execute_all
from lmi_delivery.execute.sandbox_run import create_projects, snapshot
from lmi_delivery.plan.events import ContextFlags
from lmi_delivery.plan.prepare import PlanRequest, make_plan
from lmi_delivery.plan.steps import EnvVar
from lmi_delivery.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
SCHEMA = json.loads((files("lmi_delivery") / "schemas" / "report.schema.json").read_text("utf-8"))


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    return subprocess.run([sys.executable, "-m", "lmi_delivery", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300, check=False)


def test_readme_command_runs_every_stage_in_the_sandbox(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    began = time.monotonic()
    result = cli("run", "--sandbox", "--config", str(QUICKSTART / "lmi-delivery.yml"),
                 "--env", "dev", "--event", "push", "--report", str(report_file))
    seconds = time.monotonic() - began
    print(f"run --sandbox on the quickstart: {seconds:.1f} s wall time")
    # The README promises the first command well under two minutes from a fresh clone (the
    # pip install of the package takes most of it); the run, its builds installing the wheel of
    # this checkout, takes seconds.
    assert seconds < 60
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(report_file.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert report["kind"] == "run"
    assert report["outcome"] == "succeeded"
    outcomes = {s["name"]: s["result"]["outcome"] for s in report["stages"]}
    assert outcomes == dict.fromkeys(
        ["security", "validate", "plan", "apply", "post-deploy"], "succeeded")
    builds = [b for s in report["stages"] for b in s["result"]["builds"]]
    assert [b["project"] for b in builds] == [
        "quickstart-dev-tf-plan", "quickstart-dev-tf-apply", "quickstart-dev-post-deploy"]
    # Every build installed the wheel of the lmi-delivery that ran the pipeline, nothing else.
    wheel = this_wheel()
    installed = {s["name"]: s["result"]["exported"].get("LMI_DELIVERY_INSTALLED_SHA256")
                 for s in report["stages"] if s["result"]["builds"]}
    assert installed == dict.fromkeys(["validate", "apply", "post-deploy"], wheel.sha256)
    plan = next(s for s in report["stages"] if s["name"] == "validate")["result"]["exported"]
    assert plan["LMI_PLAN_SUMMARY"].startswith("Plan: 1 to add")
    # The builds' logs streamed to stderr, prefixed by build, as they arrived.
    assert "[quickstart-dev-tf-apply:" in result.stderr
    assert "alias quickstart-dev-router:live" in result.stderr
    assert "run succeeded" in result.stdout


def test_an_approval_environment_is_refused_before_apply_while_dev_deploys() -> None:
    result = cli("run", "--sandbox", "--config", str(QUICKSTART / "lmi-delivery.yml"),
                 "--env", "dev", "--env", "prod", "--format", "json")
    assert result.returncode == 3, result.stderr[-3000:]
    dev, prod = json.loads(result.stdout)
    for report in (dev, prod):
        jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert dev["outcome"] == "succeeded"
    apply = next(s for s in prod["stages"] if s["name"] == "apply")["result"]
    assert apply["outcome"] == "refused"
    assert "requires an approved deployment" in apply["detail"]
    assert apply["builds"] == [], "nothing was applied"
    assert next(s for s in prod["stages"] if s["name"] == "post-deploy")["result"][
        "outcome"] == "not-run"
    assert "refused: environment prod requires an approved deployment" in result.stderr


def test_a_failing_build_phase_is_exit_1_with_the_phase_and_its_last_lines(
        tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(QUICKSTART, repo)
    with (repo / "terraform" / "main.tf").open("a") as tf:
        tf.write('\noutput "broken" {\n  value = terraform_data.does_not_exist.output\n}\n')
    result = cli("run", "--sandbox", "--config", str(repo / "lmi-delivery.yml"), "--env", "dev")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "FAILED in phase BUILD" in result.stderr
    assert "does_not_exist" in result.stderr  # Terraform's error, from the build's last lines
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["validate", "failed"] for line in lines)
    assert any(line.split()[:2] == ["apply", "not-run"] for line in lines)


class CancelOnSecondStart(TextReporter):
    """Cancels the run, as a SIGINT would, once two builds are running."""

    def __init__(self, cancel: Cancellation) -> None:
        super().__init__(io.StringIO())
        self.cancel = cancel
        self.started: list[StartedBuild] = []
        self.cancelled_at = 0.0

    def build_started(self, build: StartedBuild) -> None:
        super().build_started(build)
        self.started.append(build)
        if len(self.started) == 2:
            self.cancelled_at = time.monotonic()
            self.cancel.cancel(signal.SIGINT)


def test_cancelling_a_run_stops_both_running_builds(sandbox: Sandbox, tmp_path: Path) -> None:
    config = load(QUICKSTART / "lmi-delivery.yml")
    envs = [config.environment("dev"), config.environment("prod")]
    sandbox.seed_from_config(config, ["dev", "prod"])
    commit = snapshot(config.root, tmp_path / "source", dict(os.environ))
    codebuild = sandbox.client("codebuild")
    for env in envs:
        create_projects(codebuild, config, env, tmp_path / "source", sandbox.account_id)
    environ = {"AWS_ENDPOINT_URL": sandbox.endpoint_url, "AWS_ACCESS_KEY_ID": "x",
               "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
    # What the orchestrator starts every build with: the wheel of this lmi-delivery.
    wheel = wheel_variables(sandbox.client("s3"), "quickstart-delivery-artifacts")
    plans = [make_plan(PlanRequest(str(config.path), env.name,
                                   ContextFlags(event="push", ref=env.branch, sha=commit)),
                       environ, config=config) for env in envs]
    cancel = Cancellation()
    reporter = CancelOnSecondStart(cancel)
    services = RunServices(codebuild=codebuild, logs=sandbox.client("logs"), reporter=reporter,
                           links=ConsoleLinks("us-east-1", sandbox.endpoint_url),
                           approve=lambda step: None, check_setup=list, poll_interval=0.5,
                           cancel=cancel,
                           build_env=lambda: tuple(EnvVar(k, v) for k, v in wheel.items()))
    executions = execute_all(plans, services)
    returned = time.monotonic() - reporter.cancelled_at
    assert len(reporter.started) == 2
    builds = codebuild.batch_get_builds(ids=[b.id for b in reporter.started])["builds"]
    assert [b["buildStatus"] for b in builds] == ["STOPPED", "STOPPED"]
    assert returned < 5.0
    for execution in executions:
        assert isinstance(execution.error, Interrupted)
        assert execution.error.exit_code == 130
        assert execution.report.results["apply"].outcome == "not-run"


def test_sigint_to_the_run_command_exits_130_and_stops_its_build() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lmi_delivery", "run", "--sandbox", "--config",
         str(QUICKSTART / "lmi-delivery.yml"), "--env", "dev", "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("[quickstart-dev-tf-plan:") and "started" in line:
            break
    else:  # pragma: no cover - the run ended before its first build started
        pytest.fail("".join(seen))
    proc.send_signal(signal.SIGINT)
    began = time.monotonic()
    out, err = proc.communicate(timeout=30)
    stopped_in = time.monotonic() - began
    assert proc.returncode == 130, err[-2000:]
    assert stopped_in < 10.0
    report: dict[str, Any] = json.loads(out)
    validate = next(s for s in report["stages"] if s["name"] == "validate")["result"]
    assert validate["outcome"] == "failed"
    assert "interrupted by SIGINT" in validate["detail"]


class CancelOnFirstStart(TextReporter):
    """Cancels the run, as a SIGINT or a workflow cancel would, once a build runs."""

    def __init__(self, cancel: Cancellation) -> None:
        super().__init__(io.StringIO())
        self.cancel = cancel
        self.started: list[StartedBuild] = []

    def build_started(self, build: StartedBuild) -> None:
        super().build_started(build)
        self.started.append(build)
        self.cancel.cancel(signal.SIGINT)


@pytest.mark.parametrize("stop_apply", [False, True], ids=["left-to-finish", "stopped"])
def test_a_cancel_never_tears_a_running_apply_build(sandbox: Sandbox, tmp_path: Path,
                                                    stop_apply: bool) -> None:
    from lmi_delivery.execute.executor import PlanBuild
    from lmi_delivery.execute.services import apply_only

    config = load(QUICKSTART / "lmi-delivery.yml")
    env = config.environment("dev")
    commit = snapshot(config.root, tmp_path / "source", dict(os.environ), [env.branch])
    codebuild = sandbox.client("codebuild")
    create_projects(codebuild, config, env, tmp_path / "source", sandbox.account_id)
    environ = {"AWS_ENDPOINT_URL": sandbox.endpoint_url, "AWS_ACCESS_KEY_ID": "x",
               "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
    bound = PlanBuild("quickstart-dev-tf-plan:0", "a" * 64)
    plan = apply_only(make_plan(PlanRequest(str(config.path), env.name, ContextFlags(
        event="push", ref=env.branch, sha=commit)), environ, config=config), bound)
    cancel = Cancellation()
    reporter = CancelOnFirstStart(cancel)
    # The apply build stands in for a long terraform apply.
    slow = "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 3\n"
    services = RunServices(codebuild=codebuild, logs=sandbox.client("logs"), reporter=reporter,
                           links=ConsoleLinks("us-east-1", sandbox.endpoint_url),
                           approve=lambda step: None, check_setup=list, poll_interval=0.5,
                           cancel=cancel, plan_build=bound, stop_apply_on_cancel=stop_apply,
                           buildspec_override=lambda step: slow)
    [execution] = execute_all([plan], services)
    assert isinstance(execution.error, Interrupted)
    [build] = reporter.started
    assert build.project == "quickstart-dev-tf-apply"
    status = codebuild.batch_get_builds(ids=[build.id])["builds"][0]["buildStatus"]
    if stop_apply:
        assert status == "STOPPED"
        return
    assert status == "IN_PROGRESS"  # left to finish, not torn
    assert f"lmi-delivery codebuild wait {build.id}" in str(execution.error)
    deadline = time.monotonic() + 30
    while status == "IN_PROGRESS" and time.monotonic() < deadline:
        time.sleep(0.2)
        status = codebuild.batch_get_builds(ids=[build.id])["builds"][0]["buildStatus"]
    assert status == "SUCCEEDED"
