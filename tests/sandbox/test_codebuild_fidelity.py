"""What CodeBuild does with a buildspec, and the sandbox must do the same (issue 11, items 7-8).

Each test names its evidence. The buildspec reference is the AWS CodeBuild user guide's "Build
specification reference for CodeBuild" (sections ``version``, ``run-as``, ``env``, ``phases``
with ``on-failure``, and "Build phase transitions").
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Any

import pytest
from codebuild_helpers import log_lines, make_project, output, phases, run, variables

from lmi_delivery.sandbox.server import Sandbox

pytestmark = pytest.mark.slow


@pytest.fixture
def codebuild(sandbox: Sandbox) -> Any:
    return sandbox.client("codebuild")


@pytest.fixture
def logs(sandbox: Sandbox) -> Any:
    return sandbox.client("logs")


# The buildspec reference, "version": "In version 0.1, CodeBuild runs each build command in a
# separate instance of the default shell ... version 0.2 addresses this issue." AWS's own ECS
# tutorial buildspec sets REPOSITORY_URI and IMAGE_TAG without export in pre_build and uses them
# in post_build; awslabs/ecs-refarch-continuous-deployment#6: 0.2 "maintains state between
# commands".
ECS_TUTORIAL_LIKE = """\
version: 0.2
env:
  shell: {shell}
  exported-variables: [IMAGE_TAG]
phases:
  pre_build:
    commands:
      - REPOSITORY_URI=123456789012.dkr.ecr.us-east-1.amazonaws.com/shop
      - COMMIT_HASH=$(echo "$CODEBUILD_RESOLVED_SOURCE_VERSION" | cut -c 1-7)
      - IMAGE_TAG=${{COMMIT_HASH:=latest}}
  build:
    commands:
      - echo "building $REPOSITORY_URI:$IMAGE_TAG"
  post_build:
    commands:
      - printf '[{{"name":"shop","imageUri":"%s"}}]' "$REPOSITORY_URI:$IMAGE_TAG" > "$OUT"
"""


@pytest.mark.parametrize("shell", ["bash", "/bin/sh"])
def test_plain_shell_variables_survive_from_one_command_to_the_next(
        codebuild: Any, logs: Any, tmp_path: Path, shell: str) -> None:
    out = tmp_path / "imagedefinitions.json"
    make_project(codebuild, tmp_path, ECS_TUTORIAL_LIKE.format(shell=shell))

    build = run(codebuild, environmentVariablesOverride=variables(OUT=str(out)))

    assert build["buildStatus"] == "SUCCEEDED"
    uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:latest"
    assert out.read_text() == f'[{{"name":"shop","imageUri":"{uri}"}}]'
    assert f"building {uri}" in output(logs, build)
    # exported-variables reads the variable at the end of the build, exported or not.
    assert build["exportedEnvironmentVariables"] == [{"name": "IMAGE_TAG", "value": "latest"}]


def test_bash_keeps_arrays_and_functions_but_not_shell_options(
        codebuild: Any, logs: Any, tmp_path: Path) -> None:
    make_project(codebuild, tmp_path, """\
version: 0.2
phases:
  install:
    commands:
      - greet() { echo "hello $1"; }
      - 'TARGETS=(lint test)'
      - set -o pipefail
  build:
    commands:
      - greet "${TARGETS[1]}"
      - shopt -qo pipefail && echo pipefail-on || echo pipefail-off
""")
    build = run(codebuild)
    assert build["buildStatus"] == "SUCCEEDED"
    assert output(logs, build) == ["hello test", "pipefail-off"]


def test_version_0_1_runs_each_command_in_a_shell_of_its_own(
        codebuild: Any, logs: Any, tmp_path: Path) -> None:
    # The buildspec reference, "version": 0.1 runs each command in a separate shell instance.
    (tmp_path / "sub").mkdir()
    make_project(codebuild, tmp_path, """\
version: 0.1
environment_variables:
  plaintext:
    GREETING: hello
phases:
  build:
    commands:
      - export CARRIED=yes
      - cd sub
      - echo "$GREETING carried=[$CARRIED] in $(basename "$PWD")"
""")
    build = run(codebuild)
    assert build["buildStatus"] == "SUCCEEDED"
    assert output(logs, build) == ["hello carried=[] in src"]
    assert any("Buildspec version 0.1" in line for line in log_lines(logs, build))


def test_on_failure_abort_stated_ends_the_build(codebuild: Any, tmp_path: Path) -> None:
    # The buildspec reference, "on-failure": "ABORT - Abort the build." Left out, the phase
    # transitions apply (a failed BUILD still runs POST_BUILD: test_codebuild.py).
    make_project(codebuild, tmp_path, """\
version: 0.2
phases:
  build:
    on-failure: ABORT
    commands:
      - exit 4
    finally:
      - touch "$MARKS/finally"
  post_build:
    commands:
      - touch "$MARKS/post_build"
artifacts:
  files: anything
""")
    build = run(codebuild, environmentVariablesOverride=variables(MARKS=str(tmp_path)))
    assert build["buildStatus"] == "FAILED"
    assert [p["phaseType"] for p in build["phases"]][-4:] == [
        "PRE_BUILD", "BUILD", "FINALIZING", "COMPLETED"]
    assert (tmp_path / "finally").exists(), "the phase's own finally still runs"
    assert not (tmp_path / "post_build").exists()


def test_on_failure_retry_runs_the_phase_again(codebuild: Any, logs: Any,
                                               tmp_path: Path) -> None:
    # The buildspec reference, "on-failure": RETRY-count retries up to count times (RETRY alone:
    # 3), RETRY-count-regex only while the error message matches the regex.
    counter = tmp_path / "runs"
    make_project(codebuild, tmp_path, """\
version: 0.2
phases:
  build:
    on-failure: RETRY-3-exit status 7
    commands:
      - echo x >> "$COUNTER"
      - test "$(wc -l < "$COUNTER")" -ge 3 || exit 7
""")
    build = run(codebuild, environmentVariablesOverride=variables(COUNTER=str(counter)))
    assert build["buildStatus"] == "SUCCEEDED"
    assert counter.read_text() == "x\nx\nx\n"
    lines = log_lines(logs, build)
    assert sum("retrying it (attempt" in line for line in lines) == 2

    counter.unlink()
    make_project(codebuild, tmp_path, name="other", buildspec="""\
version: 0.2
phases:
  build:
    on-failure: RETRY-3-exit status 9
    commands:
      - echo x >> "$COUNTER"
      - exit 7
""")
    build = run(codebuild, "other", environmentVariablesOverride=variables(COUNTER=str(counter)))
    assert build["buildStatus"] == "FAILED"
    assert counter.read_text() == "x\n", "an error the regex does not match is not retried"
    assert phases(build)["BUILD"]["contexts"][0]["message"].endswith("exit status 7")


def test_parameter_store_and_secrets_manager_values_are_masked(
        sandbox: Sandbox, codebuild: Any, logs: Any, tmp_path: Path) -> None:
    # AWS-FACTS.md (CodeBuild): Secrets Manager and Parameter Store values are masked in logs.
    sandbox.client("ssm").put_parameter(Name="/shop/db-password", Value="pw-from-ssm-4711",
                                        Type="SecureString")
    sandbox.client("secretsmanager").create_secret(
        Name="shop/api", SecretString='{"token": "tok-from-sm-0815"}')
    sandbox.client("ssm").put_parameter(Name="/shop/override", Value="override-9999",
                                        Type="String")
    make_project(codebuild, tmp_path, """\
version: 0.2
env:
  variables:
    PLAIN: plain-visible
  parameter-store:
    DB_PASSWORD: /shop/db-password
  secrets-manager:
    API_TOKEN: shop/api:token
phases:
  build:
    commands:
      - echo "db=$DB_PASSWORD api=$API_TOKEN plain=$PLAIN override=$FROM_OVERRIDE"
      - echo "tok-from-sm-0815 written literally"
      - test "$DB_PASSWORD" = pw-from-ssm-4711
""")
    build = run(codebuild, environmentVariablesOverride=[
        {"name": "FROM_OVERRIDE", "value": "/shop/override", "type": "PARAMETER_STORE"}])
    assert build["buildStatus"] == "SUCCEEDED", "the commands see the real values"
    text = "\n".join(log_lines(logs, build))
    assert "db=*** api=*** plain=plain-visible override=***" in text
    assert "*** written literally" in text
    for secret in ("pw-from-ssm-4711", "tok-from-sm-0815", "override-9999"):
        assert secret not in text


def test_run_as_is_honoured_or_said_to_be_not(codebuild: Any, logs: Any,
                                              tmp_path: Path) -> None:
    # The buildspec reference, "run-as": the Linux user that runs the commands (top level: all
    # of them; in a phase: that phase's).
    me = pwd.getpwuid(os.geteuid()).pw_name
    other = "nobody" if os.geteuid() == 0 and _user_exists("nobody") else None
    make_project(codebuild, tmp_path, f"""\
version: 0.2
run-as: {me}
phases:
  install:
    commands:
      - SHARED=from-install
      - echo "install as $(id -un)"
  pre_build:
    run-as: no-such-user-lmi
    commands:
      - echo "pre_build as $(id -un)"
  build:
    run-as: {other or me}
    commands:
      - echo "build as $(id -un) with $SHARED"
      - SHARED=from-build
  post_build:
    commands:
      - echo "post_build as $(id -un) with $SHARED"
""")
    build = run(codebuild)
    assert build["buildStatus"] == "SUCCEEDED"
    lines = log_lines(logs, build)
    said = [line for line in lines if "is not honoured" in line]
    assert len(said) == 1
    assert said[0].endswith(f"run-as no-such-user-lmi is not honoured in the PRE_BUILD phase: "
                            f"there is no user no-such-user-lmi on this machine; its commands "
                            f"run as {me}")
    assert f"install as {me}" in lines
    assert f"pre_build as {me}" in lines
    assert f"build as {other or me} with from-install" in lines
    assert f"post_build as {me} with from-build" in lines


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def test_a_single_string_stands_for_a_list(sandbox: Sandbox, codebuild: Any,
                                           tmp_path: Path) -> None:
    # Real buildspecs (and AWS's ECS sample) write `files: imagedefinitions.json`; CodeBuild
    # runs them.
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="artifacts")
    make_project(codebuild, tmp_path, """\
version: 0.2
phases:
  build:
    commands: echo built > out.txt
    finally: echo finally-ran
artifacts:
  files: out.txt
""", artifacts={"type": "S3", "location": "artifacts", "name": "single", "packaging": "NONE"})
    build = run(codebuild)
    assert build["buildStatus"] == "SUCCEEDED"
    body = s3.get_object(Bucket="artifacts", Key="single/out.txt")["Body"].read()
    assert body == b"built\n"


def test_batch_get_builds_takes_up_to_100_ids(codebuild: Any) -> None:
    # AWS-FACTS.md (CodeBuild): BatchGetBuilds takes up to 100 ids, so one call watches many.
    answer = codebuild.batch_get_builds(ids=[f"app:{n}" for n in range(100)])
    assert len(answer["buildsNotFound"]) == 100
    with pytest.raises(codebuild.exceptions.InvalidInputException):
        codebuild.batch_get_builds(ids=[f"app:{n}" for n in range(101)])
