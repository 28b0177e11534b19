"""The record of what served, against the sandbox: every alias move is in its history, written
before the move (the request journal shows the S3 put ahead of the alias call), and rollback
goes only where the history shows the alias served."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from config_files import load_text

from lmi_delivery.cli import main as cli
from lmi_delivery.config.model import Config
from lmi_delivery.postdeploy.history import Entry, HistoryStore
from lmi_delivery.sandbox import Sandbox, SandboxOptions

NAME = "hist-dev-api"
KEY = "/hist-artifacts/plans/hist/dev/history/hist-dev-api/live.json"
SHA = "ab" * 32
CONFIG = """\
version: 1
service: hist
region: us-east-1
terraform:
  working_directory: terraform
codebuild:
  artifacts: s3://hist-artifacts/plans
environments:
  dev: {branch: dev, apply: auto}
capacity_providers:
  shared: {}
functions:
  api:
    capacity_provider: shared
    alias: live
post_deploy:
  steps: [publish, alias, prune]
  prune: {keep: 1}
"""


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(publish_delay_seconds=0.2)) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Config:
    loaded = load_text(tmp_path, CONFIG)
    sandbox.seed_from_config(loaded)
    for name, value in (("AWS_ENDPOINT_URL", sandbox.endpoint_url), ("AWS_REGION", "us-east-1"),
                        ("LMI_DELIVERY_COMMIT", "c0ffee1"), ("LMI_APPLIED_PLAN_SHA256", SHA),
                        ("LMI_DELIVERY_APPROVER", "octocat")):
        monkeypatch.setenv(name, value)
    return loaded


@pytest.fixture
def lam(sandbox: Sandbox) -> Any:
    return sandbox.client("lambda", max_attempts=3)


def cli_exit(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    return int(exited.value.code or 0)


def deploy(config: Config, lam: Any, change: str | None) -> int:
    """A Terraform apply that changes the code (unless ``change`` is None), then post-deploy."""
    if change is not None:
        lam.update_function_configuration(FunctionName=NAME, Description=change)
    return cli_exit("post-deploy", "--config", str(config.path), "--env", "dev",
                    "--poll-interval", "0.05")


def live(lam: Any) -> str:
    return str(lam.get_alias(FunctionName=NAME, Name="live")["FunctionVersion"])


def versions(lam: Any) -> set[str]:
    return {v["Version"] for v in lam.list_versions_by_function(FunctionName=NAME)["Versions"]}


def entries(config: Config, sandbox: Sandbox) -> list[Entry]:
    store = HistoryStore(sandbox.client("s3"), config, config.environment("dev"))
    return list(store.read(NAME, "live").entries)


def rollback(config: Config, *extra: str) -> int:
    return cli_exit("rollback", "--config", str(config.path), "--env", "dev", *extra)


def test_a_b_c_then_rollback_goes_to_b_and_keep_1_keeps_the_way_back(
        config: Config, sandbox: Sandbox, lam: Any) -> None:
    for n in (1, 2, 3, 4):
        assert deploy(config, lam, f"release {n}") == 0
    assert live(lam) == "4"
    # keep 1 counts besides the alias's 4 and its way back 3: 2 stays, 1 is pruned
    assert versions(lam) == {"$LATEST", "$LATEST.PUBLISHED", "2", "3", "4"}

    assert rollback(config, "--dry-run") == 0
    assert live(lam) == "4"
    assert rollback(config) == 0
    assert live(lam) == "3"
    assert rollback(config) == 0, "a second rollback goes one deploy further back"
    assert live(lam) == "2"

    moves = entries(config, sandbox)
    assert [(e.previous, e.version, e.action) for e in moves] == [
        (None, "1", "deploy"), ("1", "2", "deploy"), ("2", "3", "deploy"), ("3", "4", "deploy"),
        ("4", "3", "rollback"), ("3", "2", "rollback")]
    assert {(e.commit, e.plan_sha256, e.approver) for e in moves} == {("c0ffee1", SHA,
                                                                      "octocat")}


def test_a_post_deploy_that_moves_nothing_leaves_the_way_back(config: Config, sandbox: Sandbox,
                                                              lam: Any) -> None:
    assert deploy(config, lam, "release 1") == 0
    assert deploy(config, lam, "release 2") == 0
    assert deploy(config, lam, None) == 0  # nothing changed: nothing published, nothing moved
    assert live(lam) == "2"
    assert [(e.previous, e.version) for e in entries(config, sandbox)] == [(None, "1"),
                                                                          ("1", "2")]
    assert rollback(config) == 0
    assert live(lam) == "1"


def test_every_move_is_in_the_history_written_before_it(config: Config, sandbox: Sandbox,
                                                        lam: Any) -> None:
    sandbox.clear_requests()
    for n in (1, 2, 3):
        assert deploy(config, lam, f"release {n}") == 0
    assert rollback(config) == 0

    journal = sandbox.requests()
    moves = [i for i, e in enumerate(journal) if e.operation in ("CreateAlias", "UpdateAlias")
             and e.status < 300]
    puts = [i for i, e in enumerate(journal) if e.service == "s3" and e.params.get("Method")
            == "PUT" and e.params.get("Path") == KEY and e.status == 200]
    assert len(moves) == 4 == len(puts) == len(entries(config, sandbox))
    for put, move in zip(puts, moves, strict=True):
        assert put < move, "the entry is stored before the alias moves"
    for earlier, later in zip(moves, puts[1:], strict=False):
        assert earlier < later, "one entry per move"


def test_no_record_refuses_without_moving(config: Config, sandbox: Sandbox, lam: Any,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for n in (1, 2):  # versions published and an alias made outside lmi-delivery
        lam.update_function_configuration(FunctionName=NAME, Description=f"by hand {n}")
        lam.publish_version(FunctionName=NAME)
    lam.get_waiter("published_version_active").wait(FunctionName=NAME, Qualifier="2",
                                                    WaiterConfig={"Delay": 1})
    lam.create_alias(FunctionName=NAME, Name="live", FunctionVersion="2")
    sandbox.clear_requests()

    assert rollback(config) == 3
    assert rollback(config, "--dry-run") == 3
    err = capsys.readouterr().err
    assert "shows no version it served before" in err
    assert "--to VERSION" in err
    assert live(lam) == "2"
    assert not [e for e in sandbox.requests() if e.operation == "UpdateAlias"]

    assert rollback(config, "--to", "2") == 3, "the current version is no rollback"
    assert rollback(config, "--to", "7", "--dry-run") == 3, "a version that does not exist"
    assert "no longer exists" in capsys.readouterr().err
    assert rollback(config, "--to", "1") == 0
    assert live(lam) == "1"
    assert [(e.previous, e.version, e.action) for e in entries(config, sandbox)] == [
        ("2", "1", "rollback")]


@pytest.mark.parametrize("target", ["$LATEST", "live", "$LATEST.PUBLISHED", "1.0"])
def test_to_takes_version_numbers_only(config: Config, lam: Any, target: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy(config, lam, "release 1") == 0
    assert deploy(config, lam, "release 2") == 0
    assert rollback(config, "--to", target) == 2
    assert "is not a version number" in capsys.readouterr().err
    assert live(lam) == "2"


def test_an_unwritable_bucket_stops_the_move(config: Config, sandbox: Sandbox, lam: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy(config, lam, "release 1") == 0
    s3 = sandbox.client("s3")
    for item in s3.list_objects_v2(Bucket="hist-artifacts").get("Contents", []):
        s3.delete_object(Bucket="hist-artifacts", Key=item["Key"])
    s3.delete_bucket(Bucket="hist-artifacts")

    assert deploy(config, lam, "release 2") == 1
    err = capsys.readouterr().err
    assert "could not record the move of hist-dev-api:live 1 -> 2" in err
    assert "the alias was not moved" in err
    assert live(lam) == "1", "traffic stays where it was"


def test_concurrent_appends_lose_no_entry(config: Config, sandbox: Sandbox) -> None:
    env = config.environment("dev")
    stores = [HistoryStore(sandbox.client("s3"), config, env) for _ in range(6)]
    start = threading.Barrier(len(stores))

    def append(index: int) -> None:
        start.wait()
        for n in range(3):
            stores[index].append(NAME, "live", Entry(str(index + 1), str(10 * (index + 1) + n)))

    threads = [threading.Thread(target=append, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = sorted(int(e.version) for e in entries(config, sandbox))
    assert found == sorted(10 * (i + 1) + n for i in range(6) for n in range(3))


def test_a_forged_history_cannot_name_latest(config: Config, sandbox: Sandbox, lam: Any,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy(config, lam, "release 1") == 0
    assert deploy(config, lam, "release 2") == 0
    body = json.loads(sandbox.client("s3").get_object(Bucket="hist-artifacts",
                                                      Key=KEY[len("/hist-artifacts/"):])
                      ["Body"].read())
    body["entries"][-1]["previous"] = "$LATEST"
    sandbox.client("s3").put_object(Bucket="hist-artifacts", Key=KEY[len("/hist-artifacts/"):],
                                    Body=json.dumps(body).encode())
    assert rollback(config) == 3
    assert "is not a version" in capsys.readouterr().err
    assert live(lam) == "2"
