"""The CodeBuild orchestration against the sandbox's real builds.

One poller for 20 concurrent builds (BatchGetBuilds calls counted through botocore's event
hooks), every log line once and in order, each end noticed within one poll interval; SIGINT
stops running builds (exit 130); a failing phase is exit 1 with its name and last lines.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lmi_delivery.cli.commands.codebuild import main
from lmi_delivery.codebuild import (
    BuildRequest,
    StartedBuild,
    TextReporter,
    Variable,
    cancel_on_signals,
    start_build,
    wait,
)
from lmi_delivery.errors import Interrupted
from lmi_delivery.sandbox.server import Sandbox

pytestmark = pytest.mark.slow

ROLE = "arn:aws:iam::123456789012:role/codebuild"
ENVIRONMENT = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
               "computeType": "BUILD_GENERAL1_SMALL"}
LOOP = """\
version: 0.2
phases:
  build:
    commands:
      - for i in $(seq 1 $LINES); do echo "$TAG line-$i"; sleep 0.1; done
"""
FAILING = """\
version: 0.2
phases:
  install:
    commands:
      - echo installing
  build:
    commands:
      - for i in $(seq 1 60); do echo "out-$i"; done
      - exit 3
"""
SLEEPING = """\
version: 0.2
phases:
  build:
    commands:
      - echo sleeping
      - sleep 60
"""


class Recorder(TextReporter):
    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.lines: dict[str, list[str]] = {}

    def log_line(self, build: StartedBuild, line: str) -> None:
        self.lines.setdefault(build.id, []).append(line)


@pytest.fixture
def clients(sandbox: Sandbox, tmp_path: Path) -> tuple[Any, Any]:
    codebuild, logs = sandbox.client("codebuild"), sandbox.client("logs")
    (tmp_path / "src").mkdir()
    for name, spec in (("loop", LOOP), ("failing", FAILING), ("sleeping", SLEEPING)):
        codebuild.create_project(name=name, source={"type": "NO_SOURCE", "buildspec": spec,
                                                    "location": str(tmp_path / "src")},
                                 artifacts={"type": "NO_ARTIFACTS"}, environment=ENVIRONMENT,
                                 serviceRole=ROLE)
    return codebuild, logs


def test_one_poller_for_20_builds(sandbox: Sandbox, clients: tuple[Any, Any]) -> None:
    codebuild, logs = clients
    batch_calls: list[float] = []
    codebuild.meta.events.register("before-call.codebuild.BatchGetBuilds",
                                   lambda **_: batch_calls.append(time.time()))
    counts = {}
    builds = []
    for k in range(20):
        lines = 30 + k  # 3 to 5 s of output, so most builds end while the poller runs
        build = start_build(codebuild, BuildRequest("loop", variables=(
            Variable("LINES", str(lines)), Variable("TAG", f"b{k}"))))
        counts[build.id] = (f"b{k}", lines)
        builds.append(build)
    reporter = Recorder()
    interval = 0.5
    started = time.time()
    results = wait(builds, codebuild_client=codebuild, logs_client=logs, reporter=reporter,
                   poll_interval=interval, clock=time.time)
    elapsed = time.time() - started
    assert all(r.succeeded for r in results)
    # one BatchGetBuilds per poll interval for all 20 builds, never one per build
    assert len(batch_calls) <= elapsed / interval + 1
    gaps = [b - a for a, b in itertools.pairwise(batch_calls)]
    assert min(gaps) >= interval * 0.9
    for result in results:
        tag, lines = counts[result.build.id]
        mine = [line for line in reporter.lines[result.build.id] if line.startswith(tag + " ")]
        assert mine == [f"{tag} line-{i}" for i in range(1, lines + 1)]
        assert reporter.lines[result.build.id][-1].endswith("Phase complete: FINALIZING "
                                                             "State: SUCCEEDED")
        assert result.end_time is not None
        assert result.noticed_at is not None
        # noticed within one poll interval (plus the BatchGetBuilds call's own time)
        ended = max(result.end_time, started)
        assert 0 <= result.noticed_at - ended <= interval + 0.35


def test_sigint_stops_both_running_builds(clients: tuple[Any, Any]) -> None:
    codebuild, logs = clients
    builds = [start_build(codebuild, BuildRequest("sleeping")) for _ in range(2)]
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    previous = signal.getsignal(signal.SIGINT)
    with cancel_on_signals() as cancel:
        timer.start()
        started = time.monotonic()
        with pytest.raises(Interrupted, match="SIGINT") as raised:
            wait(builds, codebuild_client=codebuild, logs_client=logs,
                 reporter=TextReporter(io.StringIO()), poll_interval=0.5, cancel=cancel)
        took = time.monotonic() - started
    assert signal.getsignal(signal.SIGINT) is previous
    assert raised.value.exit_code == 130
    assert took < 1.0 + 5.0
    answer = codebuild.batch_get_builds(ids=[b.id for b in builds])["builds"]
    assert [b["buildStatus"] for b in answer] == ["STOPPED", "STOPPED"]


def sandbox_environ(sandbox: Sandbox) -> dict[str, str]:
    return {**os.environ, "AWS_ENDPOINT_URL": sandbox.endpoint_url, "AWS_REGION": sandbox.region,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "GITHUB_ACTIONS": ""}


def test_cli_start_is_stopped_by_sigint_with_exit_130(sandbox: Sandbox,
                                                      clients: tuple[Any, Any]) -> None:
    codebuild, _ = clients
    process = subprocess.Popen(
        [sys.executable, "-m", "lmi_delivery.cli.commands.codebuild", "start", "sleeping",
         "--poll-interval", "0.5"], env=sandbox_environ(sandbox),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()  # the id is printed the moment the build starts
    build_id = re.search(r"started (\S+)", first)
    assert build_id, first
    while "sleeping" not in process.stdout.readline():
        pass
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = process.communicate(timeout=15)
    assert time.monotonic() - sent < 5.0
    assert process.returncode == 130, err
    status = codebuild.batch_get_builds(ids=[build_id.group(1)])["builds"][0]["buildStatus"]
    assert status == "STOPPED"


def test_a_failing_phase_is_exit_1_with_its_name_and_last_lines(
        sandbox: Sandbox, clients: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in sandbox_environ(sandbox).items():
        monkeypatch.setenv(key, value)
    assert main(["start", "failing", "--poll-interval", "0.2"]) == 1
    out, err = capsys.readouterr()
    assert "[failing:" in out
    assert "FAILED in phase BUILD: COMMAND_EXECUTION_ERROR" in err
    assert "    out-60" in err
    assert "    out-10" not in err  # only the last 50 lines


def test_detach_then_wait_picks_the_build_up(sandbox: Sandbox, clients: tuple[Any, Any],
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in sandbox_environ(sandbox).items():
        monkeypatch.setenv(key, value)
    assert main(["start", "loop", "--env", "LINES=3", "--env", "TAG=x", "--detach"]) == 0
    build_id = capsys.readouterr().out.strip()
    assert build_id.startswith("loop:")
    assert main(["wait", build_id, "--poll-interval", "0.2"]) == 0
    out = capsys.readouterr().out
    assert out.count("x line-") == 3
    assert f"[{StartedBuild.from_id(build_id).short}] SUCCEEDED" in out
