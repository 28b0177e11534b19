"""The quickstart's state locks in the sandbox's S3, and plan waits for a held lock.

Terraform 1.12's s3 backend with ``use_lockfile = true`` takes ``<key>.tflock`` with a
conditional PutObject (``If-None-Match: *``), which the sandbox's S3 refuses with 412 while the
object exists. The commands run here are the dry run's own (``terraform_argv``), with the
embedded Terraform, so the ``-lock-timeout`` it prints is the one that waits.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lmi_delivery.config import load
from lmi_delivery.plan.planner import terraform_argv
from lmi_delivery.sandbox import Sandbox
from lmi_delivery.terraform import embedded
from lmi_delivery.terraform.argv import LOCK_TIMEOUT

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
BUCKET = "quickstart-delivery-artifacts"
LOCK = "state/quickstart/dev/terraform.tfstate.tflock"
HELD = {"ID": "0b7c6f7e-held-by-another-run", "Operation": "OperationTypeApply", "Info": "",
        "Who": "quickstart-dev-tf-apply:1234", "Version": "1.12.2",
        "Created": "2026-03-01T12:00:00Z", "Path": f"{BUCKET}/state/quickstart/dev"}


@pytest.fixture
def terraform(sandbox: Sandbox, tmp_path: Path) -> Any:
    """``terraform("plan", lock_timeout=None)``: the dry run's command, run for real."""
    root = tmp_path / "repo"
    shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".terraform*", "*.tfplan"))
    shim = embedded.write_shim(tmp_path / "bin")
    config = load(root / "lmi-delivery.yml")
    env = config.environment("dev")
    environ = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))},
               "HOME": str(tmp_path), "AWS_ENDPOINT_URL": sandbox.endpoint_url,
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_REGION": "us-east-1", "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    sandbox.client("s3").create_bucket(Bucket=BUCKET)

    def run(command: str, lock_timeout: str | None = None) -> subprocess.CompletedProcess[str]:
        argv = [str(shim), *terraform_argv(config, env, command)[1:]]
        if lock_timeout is not None:
            argv = [f"-lock-timeout={lock_timeout}" if a.startswith("-lock-timeout=") else a
                    for a in argv]
        return subprocess.run(argv, cwd=root, env=environ, capture_output=True, text=True,
                              timeout=300, check=False)

    assert run("init").returncode == 0
    return run


def test_plan_and_apply_wait_for_the_state_lock(terraform: Any, sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    assert f"-lock-timeout={LOCK_TIMEOUT}" in terraform_argv(
        load(QUICKSTART / "lmi-delivery.yml"), load(QUICKSTART / "lmi-delivery.yml")
        .environment("dev"), "apply")
    s3.put_object(Bucket=BUCKET, Key=LOCK, Body=json.dumps(HELD).encode())

    refused = terraform("plan", lock_timeout="0s")
    assert refused.returncode == 1
    assert "Error acquiring the state lock" in refused.stderr
    assert "PreconditionFailed" in refused.stderr
    assert "quickstart-dev-tf-apply:1234" in refused.stderr  # who holds it

    release = threading.Timer(2.0, lambda: s3.delete_object(Bucket=BUCKET, Key=LOCK))
    started = time.monotonic()
    release.start()
    try:
        planned = terraform("plan")  # -lock-timeout=300s, as the dry run prints it
    finally:
        release.cancel()
    assert planned.returncode == 0, planned.stderr
    assert time.monotonic() - started >= 2.0

    applied = terraform("apply")
    assert applied.returncode == 0, applied.stderr
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == ["state/quickstart/dev/terraform.tfstate"]  # and no lock left behind
