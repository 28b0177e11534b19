"""``lmi-delivery codebuild start|wait`` with injected fake clients."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest
from cb_fakes import FakeBuild, FakeClock, FakeCodeBuild, FakeLogs

from lmi_delivery.cli.commands.codebuild import main, make_group
from lmi_delivery.codebuild.model import ConsoleLinks
from lmi_delivery.codebuild.run import CodeBuildServices


@pytest.fixture
def codebuild() -> FakeCodeBuild:
    return FakeCodeBuild(FakeClock())


def run(codebuild: FakeCodeBuild, *argv: str) -> int:
    def factory(environ: Mapping[str, str]) -> CodeBuildServices:
        fake: Any = codebuild
        logs: Any = FakeLogs(codebuild)
        return CodeBuildServices(fake, logs, ConsoleLinks("eu-west-1"))

    return main(list(argv), group=make_group(factory))


def test_detach_prints_the_id_and_returns_without_polling(
        codebuild: FakeCodeBuild, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    started = time.monotonic()
    code = run(codebuild, "start", "app", "--source-version", "abc123", "--env", "A=1",
               "--secret-env", "T=ssm:/app/token", "--timeout", "45", "--detach")
    assert time.monotonic() - started < 1.0
    out, err = capsys.readouterr()
    build_id = next(iter(codebuild.builds))
    assert (code, out) == (0, f"{build_id}\n")
    assert f"started {build_id} log: https://eu-west-1.console.aws.amazon.com/" in err
    assert codebuild.batch_calls == []
    assert codebuild.started == [{
        "projectName": "app", "sourceVersion": "abc123", "timeoutInMinutesOverride": 45,
        "environmentVariablesOverride": [
            {"name": "A", "value": "1", "type": "PLAINTEXT"},
            {"name": "T", "value": "/app/token", "type": "PARAMETER_STORE"}]}]


def test_a_secret_value_on_the_command_line_is_refused_unprinted(
        codebuild: FakeCodeBuild, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(codebuild, "start", "app", "--secret-env", "T=hunter2-value") == 2
    assert codebuild.started == []
    out, err = capsys.readouterr()
    assert "hunter2" not in out + err
    assert "never sent as PLAINTEXT" in err


def test_wait_exit_codes(codebuild: FakeCodeBuild, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    now = codebuild.clock()
    ok, bad = "app:11111111-0000", "app:22222222-0000"
    codebuild.builds[ok] = FakeBuild(ok, end_at=now, lines=[(now, "fine")])
    codebuild.builds[bad] = FakeBuild(bad, end_at=now, status="FAULT", lines=[(now, "oops")],
                                      phases=[{"phaseType": "PROVISIONING",
                                               "phaseStatus": "FAULT",
                                               "contexts": [{"statusCode": "X",
                                                             "message": "no capacity"}]}])
    assert run(codebuild, "wait", ok, "--poll-interval", "0.1") == 0
    assert "[app:11111111] fine" in capsys.readouterr().out
    assert run(codebuild, "wait", ok, bad, ok) == 1
    err = capsys.readouterr().err
    assert "FAULT in phase PROVISIONING: X: no capacity" in err
    assert "    oops" in err
    assert len(codebuild.batch_calls[-1]) == 2  # duplicates asked once
    assert run(codebuild, "wait", "not-an-id") == 2


def test_github_reporter_in_actions(codebuild: FakeCodeBuild, tmp_path: Any,
                                    capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "out"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert run(codebuild, "start", "app", "--detach") == 0
    build_id = next(iter(codebuild.builds))
    assert output.read_text() == f"build-id={build_id}\nbuild-ids={build_id}\n"
    assert capsys.readouterr().out == f"{build_id}\n"
