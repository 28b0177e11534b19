"""How a build gets its lmi-delivery, through the shipped buildspecs' install phase, in the
sandbox's CodeBuild (which, like a CodeBuild image, has no lmi-delivery of its own).

The orchestrator's wheel, fetched from S3 and checked against the sha256 the build was handed,
installed with its locked dependencies by pip's hash checking, and checked by
``lmi-delivery self-check``: anything else is refused (exit 3, ``LMI_VERDICT=refused`` in
CodeBuild's record), before lmi-delivery runs at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from selfdist_helpers import as_overrides, this_wheel, wheel_variables

from lmi_delivery.sandbox.codebuild import wheelhouse as build_wheelhouse
from lmi_delivery.sandbox.server import Sandbox

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BUCKET = "builds-artifacts"
ROLE = "arn:aws:iam::123456789012:role/codebuild"
ENVIRONMENT = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
               "computeType": "BUILD_GENERAL1_SMALL"}


def buildspec(*commands: str) -> str:
    """The shipped post-deploy buildspec, its install phase as shipped, its build phase
    ``commands`` (post-deploy itself needs a whole platform)."""
    spec = yaml.safe_load((REPO / "buildspecs" / "post-deploy.yml").read_text("utf-8"))
    spec["phases"]["build"]["commands"] = list(commands)
    return yaml.safe_dump(spec, sort_keys=False)


@pytest.fixture
def s3(sandbox: Sandbox) -> Any:
    client = sandbox.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def build(sandbox: Sandbox, tmp_path: Path) -> Any:
    """``build(variables, *commands)`` -> the finished build (and its log, as ``build["log"]``)."""
    codebuild, logs = sandbox.client("codebuild"), sandbox.client("logs")
    (tmp_path / "src").mkdir()
    counter = iter(range(1000))

    def run(variables: dict[str, str], *commands: str) -> dict[str, Any]:
        name = f"install-{next(counter)}"
        codebuild.create_project(
            name=name, source={"type": "NO_SOURCE", "location": str(tmp_path / "src"),
                               "buildspec": buildspec(*commands or ("lmi-delivery --version",))},
            artifacts={"type": "NO_ARTIFACTS"}, environment=ENVIRONMENT, serviceRole=ROLE)
        build_id = codebuild.start_build(
            projectName=name, environmentVariablesOverride=as_overrides(variables))["build"]["id"]
        deadline = time.monotonic() + 120
        while not (done := codebuild.batch_get_builds(ids=[build_id])["builds"][0])[
                "buildComplete"]:
            assert time.monotonic() < deadline, f"build still {done['currentPhase']}"
            time.sleep(0.05)
        events = logs.get_log_events(logGroupName=done["logs"]["groupName"],
                                     logStreamName=done["logs"]["streamName"],
                                     startFromHead=True)["events"]
        done["log"] = "".join(e["message"] for e in events)
        done["exported"] = {v["name"]: v.get("value", "")
                            for v in done.get("exportedEnvironmentVariables", [])}
        return done

    return run


def _refused(done: dict[str, Any], *needles: str) -> None:
    assert done["buildStatus"] == "FAILED", done["log"]
    assert done["exported"]["LMI_VERDICT"] == "refused", done["log"]
    assert "exit status 3" in done["log"]
    assert "Entering phase BUILD" not in done["log"], "lmi-delivery must never have run"
    for needle in needles:
        assert needle in done["exported"]["LMI_VERDICT_DETAIL"], done["exported"]


def test_the_orchestrator_s_wheel_is_installed_checked_and_first_on_path(
        s3: Any, build: Any) -> None:
    wheel = this_wheel()
    variables = wheel_variables(s3, BUCKET)
    assert variables["LMI_DELIVERY_WHEEL_URL"] == (
        f"s3://{BUCKET}/lmi-delivery/{wheel.sha256}/{wheel.filename}")
    first = build(variables, "command -v lmi-delivery",
                  'lmi-delivery self-check --version "$LMI_DELIVERY_VERSION" '
                  '--wheel-sha256 "$LMI_DELIVERY_WHEEL_SHA256"')
    assert first["buildStatus"] == "SUCCEEDED", first["log"]
    assert first["exported"]["LMI_DELIVERY_INSTALLED_SHA256"] == wheel.sha256
    assert first["exported"]["LMI_DELIVERY_INSTALLED_VERSION"] == wheel.version
    assert f"/venvs/{wheel.sha256[:24]}-" in first["log"]  # the installed one, not the machine's
    assert f"(wheel sha256 {wheel.sha256}): the wheel the orchestrator passed" in first["log"]
    # The next build of the sandbox reuses the wheel and the virtualenv (its local cache),
    # and checks them again.
    again = build(variables)
    assert again["buildStatus"] == "SUCCEEDED", again["log"]
    assert again["exported"]["LMI_DELIVERY_INSTALLED_SHA256"] == wheel.sha256
    assert "was made from this wheel (build cache)" in again["log"]
    assert "and its locked dependencies into" not in again["log"]
    assert "the wheel the orchestrator passed" in again["log"]


@pytest.mark.parametrize("path_front", [False, True], ids=["bare", "lmi-delivery-on-path"])
def test_a_build_handed_no_wheel_refuses_rather_than_take_one_from_an_index(
        build: Any, path_front: bool) -> None:
    # Even with an lmi-delivery on PATH (an image that has one, the machine's own), a build
    # the orchestrator did not hand a wheel installs and runs none.
    variables = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"} if path_front else {}
    _refused(build(variables), "no lmi-delivery wheel was passed",
             "never a name looked up on an index")


def test_a_wheel_whose_bytes_differ_from_the_sha256_refuses(
        s3: Any, build: Any, tmp_path: Path) -> None:
    wheel = this_wheel()
    key = f"lmi-delivery/{wheel.sha256}/{wheel.filename}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=wheel.data + b"\0")  # someone wrote at its key
    tampered = __import__("hashlib").sha256(wheel.data + b"\0").hexdigest()
    variables = {"LMI_DELIVERY_WHEEL_URL": f"s3://{BUCKET}/{key}",
                 "LMI_DELIVERY_WHEEL_SHA256": wheel.sha256,
                 "LMI_DELIVERY_VERSION": wheel.version,
                 # A build host that never saw the genuine wheel: nothing cached to fall back on.
                 "LMI_DELIVERY_CACHE_DIR": str(tmp_path / "fresh-cache")}
    _refused(build(variables), f"has sha256 {tampered}, not the {wheel.sha256} the "
                               "orchestrator passed")
    assert not (tmp_path / "fresh-cache" / "venvs").exists(), "nothing was installed"


def test_another_version_than_the_orchestrator_passed_is_refused(
        s3: Any, build: Any) -> None:
    wheel = this_wheel()
    variables = {**wheel_variables(s3, BUCKET), "LMI_DELIVERY_VERSION": "9.9.9"}
    _refused(build(variables), f"runs lmi-delivery {wheel.version} (wheel sha256 "
                               f"{wheel.sha256})", "passed lmi-delivery 9.9.9")


def test_every_lmi_delivery_command_in_a_build_checks_itself_first(
        s3: Any, build: Any) -> None:
    """After the install, a command of another lmi-delivery (the machine's, an image's) or run
    with other variables refuses before doing anything (exit 3)."""
    variables = wheel_variables(s3, BUCKET)
    other = Path(sys.executable).parent / "lmi-delivery"  # an editable install: no wheel
    done = build(variables, f"{other} validate --config nowhere.yml || echo other=$?",
                 "LMI_DELIVERY_WHEEL_SHA256=" + "0" * 64 + " lmi-delivery validate "
                 "--config nowhere.yml || echo forged=$?",
                 # Its own runs (and finds no config: exit 2, not 3).
                 "lmi-delivery validate --config nowhere.yml || echo own=$?")
    assert done["buildStatus"] == "SUCCEEDED", done["log"]
    for line in ("other=3", "forged=3", "own=2"):
        assert line in done["log"].splitlines()
    assert "refusing to run another lmi-delivery than the orchestrator's" in done["log"]


def test_a_team_index_serves_the_pinned_release_checked_by_its_sha256(
        build: Any, tmp_path: Path) -> None:
    """``codebuild.lmi_delivery``: no wheel in S3; the build takes exactly that version and
    those bytes from the team's index (here a local one), its dependencies too."""
    wheel = this_wheel()
    index = tmp_path / "team-index"
    index.mkdir()
    (index / wheel.filename).write_bytes(wheel.data)
    for dependency in build_wheelhouse.location(dict(os.environ)).glob("*.whl"):
        shutil.copy2(dependency, index / dependency.name)
    simple = build_wheelhouse.write_index(index)
    variables = {"LMI_DELIVERY_INDEX_URL": simple.as_uri() + "/",
                 "LMI_DELIVERY_WHEEL_SHA256": wheel.sha256, "LMI_DELIVERY_VERSION": wheel.version,
                 "LMI_DELIVERY_CACHE_DIR": str(tmp_path / "cache"),
                 # The image's own index knows no lmi-delivery: only the team's is asked.
                 "PIP_INDEX_URL": (tmp_path / "nothing").as_uri() + "/"}
    done = build(variables)
    assert done["buildStatus"] == "SUCCEEDED", done["log"]
    assert done["exported"]["LMI_DELIVERY_INSTALLED_SHA256"] == wheel.sha256
    # Other bytes under that version on the index are refused by pip's hash check.
    (index / wheel.filename).write_bytes(wheel.data + b"\0")
    forged = build({**variables, "LMI_DELIVERY_CACHE_DIR": str(tmp_path / "cache-2")})
    assert forged["buildStatus"] == "FAILED"
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in forged["log"]
    assert "Entering phase BUILD" not in forged["log"]


def test_the_sandbox_aws_shim_copies_an_s3_object(sandbox: Sandbox, s3: Any,
                                                  tmp_path: Path) -> None:
    """The ``aws`` of a sandbox image on a machine without the AWS CLI."""
    from lmi_delivery.sandbox.codebuild.image import AWS_SHIM

    s3.put_object(Bucket=BUCKET, Key="lmi-delivery/x/tool.whl", Body=b"wheel bytes")
    shim = tmp_path / "aws"
    shim.write_text(f"#!{sys.executable} -I\n{AWS_SHIM}", encoding="utf-8")
    shim.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": sandbox.endpoint_url,
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
    (tmp_path / "out").mkdir()
    subprocess.run([str(shim), "s3", "cp", "--only-show-errors",
                    f"s3://{BUCKET}/lmi-delivery/x/tool.whl", f"{tmp_path / 'out'}/"],
                   env=env, check=True, capture_output=True)
    assert (tmp_path / "out" / "tool.whl").read_bytes() == b"wheel bytes"
    missing = subprocess.run([str(shim), "s3", "cp", f"s3://{BUCKET}/nope", str(tmp_path)],
                             env=env, capture_output=True, text=True, check=False)
    assert missing.returncode != 0
    assert "download failed" in missing.stderr


def test_the_lock_installs_with_require_hashes_into_a_fresh_virtualenv(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock is complete and current: the wheel (its pyproject's dependencies) and the lock's
    pins install with pip's hash checking from nothing but the locked wheels, and hold
    together (``pip check``). A dependency added without regenerating the lock fails here."""
    from lmi_delivery.selfdist import bootstrap

    index = build_wheelhouse.ensure(dict(os.environ))
    wheel = this_wheel()
    for name in [k for k in os.environ if k.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", index.as_uri() + "/")
    (tmp_path / wheel.filename).write_bytes(wheel.data)
    venv = tmp_path / "venv"
    bootstrap.install(venv, tmp_path / wheel.filename, wheel.sha256, {})
    checked = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                              "check"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = subprocess.run([str(venv / "bin" / "lmi-delivery"), "self-check", "--version",
                             wheel.version, "--wheel-sha256", wheel.sha256],
                            capture_output=True, text=True, check=False,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert bootstrap.ready(venv, wheel.sha256)
