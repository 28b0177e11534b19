"""Post-deploy against the sandbox: publish → alias → scale → warm → prune, then rollback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from config_files import load_text

from lmi_delivery.aws.clients import AwsSettings, ClientFactory
from lmi_delivery.cli import main as cli
from lmi_delivery.config.model import Config
from lmi_delivery.postdeploy.alias import ConcurrentChange, execute_alias, plan_alias
from lmi_delivery.postdeploy.publish import WaitSettings
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.postdeploy.scale import ScaleWait
from lmi_delivery.postdeploy.sequence import LIVE, PostDeployClients, RunOptions, run_post_deploy
from lmi_delivery.sandbox import Sandbox, SandboxOptions

DELAY = 0.5
FUNCTIONS = ("router", "worker", "indexer")
NAMES = tuple(f"shop-dev-{f}" for f in FUNCTIONS)
CONFIG = """\
version: 1
service: shop
region: us-east-1
terraform:
  working_directory: terraform
codebuild:
  artifacts: s3://shop-artifacts/plans
environments:
  dev: {branch: dev, apply: auto}
capacity_providers:
  shared: {}
functions:
""" + "".join(f"""\
  {f}:
    capacity_provider: shared
    alias: live
    scaling: {{min: 2, max: 6}}
    warm: {{concurrency: 3, schedule: "rate(5 minutes)"}}
""" for f in FUNCTIONS) + """\
post_deploy:
  prune: {keep: 2}
"""
FAST = RunOptions(wait=WaitSettings(delay=0.05, progress_every=0.2),
                  scale_wait=ScaleWait(delay=0.05, timeout=5))


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(publish_delay_seconds=DELAY)) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Config:
    loaded = load_text(tmp_path, CONFIG)
    sandbox.seed_from_config(loaded)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return loaded


@pytest.fixture
def lam(sandbox: Sandbox) -> Any:
    return sandbox.client("lambda")


def run_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    return int(exited.value.code or 0)


def terraform_apply(lam: Any, note: str) -> None:
    """What an apply of new code does to the functions: $LATEST changes."""
    for name in NAMES:
        lam.update_function_configuration(FunctionName=name, Description=note)


def previous_deploys(lam: Any) -> None:
    """Two earlier deploys: versions 1 and 2 on every function, alias live on 2."""
    for n in (1, 2):
        terraform_apply(lam, f"deploy {n}")
        for name in NAMES:
            lam.publish_version(FunctionName=name)
    time.sleep(DELAY + 0.1)
    for name in NAMES:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2")


def clients(config: Config, sandbox: Sandbox, calls: list[tuple[str, str, str]]) -> Any:
    factory = ClientFactory(AwsSettings(region="us-east-1", endpoint_url=sandbox.endpoint_url))
    lam = factory.client("lambda")

    def remember(params: Any, context: Any, **_: Any) -> None:
        context["recorded_params"] = dict(params)

    def record(model: Any, parsed: Any, context: Any, **_: Any) -> None:
        params = context.get("recorded_params") or {}
        qualifier = str(parsed.get("Version") or params.get("Qualifier") or "")
        calls.append((model.name, str(params.get("FunctionName", "")),
                      f"{qualifier}:{parsed.get('State', '')}"))

    lam.meta.events.register("provide-client-params.lambda", remember)
    lam.meta.events.register("after-call.lambda", record)
    return PostDeployClients(lambda_=lam, events=factory.client("events"),
                             s3=factory.client("s3"))


def test_full_post_deploy_then_rollback(config: Config, sandbox: Sandbox, lam: Any) -> None:
    previous_deploys(lam)
    terraform_apply(lam, "deploy 3")
    calls: list[tuple[str, str, str]] = []
    reporter = ProgressLog()

    report = run_post_deploy(config, config.environment("dev"), clients(config, sandbox, calls),
                             executor=LIVE, reporter=reporter, options=FAST)

    assert report.status == "succeeded"
    # Every new version was Active before the first alias moved.
    first_alias = next(i for i, c in enumerate(calls) if c[0] in ("UpdateAlias", "CreateAlias"))
    for name in NAMES:
        active = [i for i, c in enumerate(calls)
                  if c[0] == "GetFunctionConfiguration" and c[1] == name and c[2] == "3:Active"]
        assert active, name
        assert active[0] < first_alias, name
    kinds = reporter.kinds()
    assert max(i for i, k in enumerate(kinds) if k == "active") < kinds.index("alias")
    published = [c for c in calls if c[0] == "PublishVersion"]
    assert {c[1] for c in published} == set(NAMES)
    for name in NAMES:
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "3"
        applied = lam.get_function_scaling_config(FunctionName=name, Qualifier="3")
        assert applied["AppliedFunctionScalingConfig"] == {
            "MinExecutionEnvironments": 3, "MaxExecutionEnvironments": 6}, \
            "min 2 raised to the 3 environments version 2 runs by default"
        left = lam.get_function_scaling_config(FunctionName=name, Qualifier="2")
        assert left["AppliedFunctionScalingConfig"] == {
            "MinExecutionEnvironments": 1, "MaxExecutionEnvironments": 6}, "scaled down"
        warmups = [i for i in sandbox.invocations(name)
                   if json.loads(i.payload)["lmi-delivery"]["warmup"] is True]
        assert len(warmups) == 3
        assert {(i.qualifier, i.executed_version) for i in warmups} == {("3", "3")}, \
            "the new version is primed by number before traffic moves"
        versions = {v["Version"] for v in lam.list_versions_by_function(
            FunctionName=name)["Versions"]}
        # keep 2 counts besides the alias's 3 and the way back, 2 (the history of 2 -> 3)
        assert versions == {"$LATEST", "$LATEST.PUBLISHED", "1", "2", "3"}
        entry = report.functions[name]
        assert (entry.published_version, entry.alias_from, entry.alias_to) == ("3", "2", "3")
    assert report.prune is not None
    assert report.prune["deleted"] == 0
    events = sandbox.client("events")
    targets = events.list_targets_by_rule(Rule="shop-dev-router-warm")["Targets"]
    assert [t["Arn"].rsplit(":", 2)[-2:] for t in targets] == [["shop-dev-router", "live"]]
    rule = events.describe_rule(Name="shop-dev-router-warm")
    assert rule["ScheduleExpression"] == "rate(5 minutes)"

    # rollback reads the stored record (S3 last.json) and puts every alias back on 2
    code = run_cli("rollback", "--config", str(config.path), "--env", "dev", "--format", "json")
    assert code == 0
    for name in NAMES:
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"


def test_an_alias_moved_while_the_versions_start_stops_the_alias_step(
        config: Config, sandbox: Sandbox, lam: Any) -> None:
    """The aliases are read while the new versions start, not after: a deploy that moves one
    meanwhile is still caught (its RevisionId no longer matches), and nothing after it moves."""
    previous_deploys(lam)
    terraform_apply(lam, "deploy 3")
    moved: list[str] = []

    def someone_else(message: str) -> None:
        if message.startswith("waiting for") and not moved:  # the versions are starting
            time.sleep(0.2)  # the alias reads made meanwhile are done
            moved.append(NAMES[0])
            sandbox.client("lambda").update_alias(FunctionName=NAMES[0], Name="live",
                                                  FunctionVersion="1")

    with pytest.raises(ConcurrentChange) as error:
        run_post_deploy(config, config.environment("dev"),
                        PostDeployClients(lambda_=sandbox.client("lambda", max_attempts=3)),
                        executor=LIVE, reporter=ProgressLog(someone_else), options=FAST)

    assert moved == [NAMES[0]]
    assert "changed by someone else" in str(error.value)
    assert f"not moved: {NAMES[1]}:live, {NAMES[2]}:live" in str(error.value)
    assert [lam.get_alias(FunctionName=n, Name="live")["FunctionVersion"] for n in NAMES] == [
        "1", "2", "2"]


def test_failed_publish_stops_the_deploy_before_any_alias(
        config: Config, sandbox: Sandbox, lam: Any,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    previous_deploys(lam)
    terraform_apply(lam, "deploy 3")
    sandbox.fail_next_publish("shop-dev-worker", "InsufficientCapacity")

    code = run_cli("post-deploy", "--config", str(config.path), "--env", "dev",
                   "--poll-interval", "0.05", "--report", str(tmp_path / "report.json"))

    assert code == 1
    err = capsys.readouterr().err
    assert "InsufficientCapacity" in err
    assert "no alias was moved" in err
    for name in NAMES:
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    written = json.loads((tmp_path / "report.json").read_text())
    assert written["status"] == "failed"
    assert "InsufficientCapacity" in written["error"]


def test_concurrent_alias_change_is_detected(config: Config, lam: Any) -> None:
    previous_deploys(lam)
    env = config.environment("dev")
    plan = plan_alias(lam, config, env, versions=dict.fromkeys(NAMES, "1"))
    lam.update_alias(FunctionName=NAMES[0], Name="live", FunctionVersion="1")  # someone else

    with pytest.raises(ConcurrentChange) as error:
        execute_alias(lam, plan, reporter=ProgressLog())

    assert error.value.exit_code == 1
    assert "changed by someone else" in str(error.value)
    assert f"not moved: {NAMES[1]}:live, {NAMES[2]}:live" in str(error.value)
    assert [lam.get_alias(FunctionName=n, Name="live")["FunctionVersion"] for n in NAMES] == [
        "1", "2", "2"]


def test_dry_run_changes_nothing(config: Config, lam: Any, sandbox: Sandbox,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    previous_deploys(lam)
    terraform_apply(lam, "deploy 3")
    sandbox.clear_requests()

    code = run_cli("post-deploy", "--config", str(config.path), "--env", "dev", "--dry-run",
                   "--format", "json")

    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "planned"
    assert [(f["alias_from"], f["alias_to"]) for f in report["functions"]] == [("2", "new")] * 3
    called = {e.operation for e in sandbox.requests() if e.service != "s3"}
    assert called, "the dry run read AWS"
    assert all(str(op).startswith(("Get", "List", "Describe")) for op in called), called
    s3 = {e.params["Method"] for e in sandbox.requests("s3")}
    assert s3 <= {"GET", "HEAD"}, s3
    for name in NAMES:
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
        assert len(lam.list_versions_by_function(FunctionName=name)["Versions"]) == 3


def test_single_step_commands(config: Config, lam: Any, sandbox: Sandbox) -> None:
    terraform_apply(lam, "first")
    common = ("--config", str(config.path), "--env", "dev", "--poll-interval", "0.05")
    assert run_cli("publish", *common, "--function", "router") == 0
    assert run_cli("alias", *common, "--function", "router") == 0
    assert lam.get_alias(FunctionName=NAMES[0], Name="live")["FunctionVersion"] == "1"
    assert run_cli("scale", *common, "--function", "router") == 0
    assert run_cli("warm", *common, "--function", "router") == 0
    assert {i.executed_version for i in sandbox.invocations(NAMES[0])} == {"1"}
    # the history shows nothing served before 1: a refusal naming --to, exit 3
    assert run_cli("rollback", *common, "--function", "router") == 3
