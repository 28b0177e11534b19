"""`lmi-delivery plan` reads current aliases from AWS (the sandbox), read-only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lmi_delivery.config import load
from lmi_delivery.sandbox.server import Sandbox

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "lmi-delivery.yml"


def plan(sandbox: Sandbox, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    env.update(AWS_ENDPOINT_URL=sandbox.endpoint_url, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    return subprocess.run([sys.executable, "-m", "lmi_delivery", "plan", "--config",
                           str(QUICKSTART), "--env", "dev", *extra], capture_output=True,
                          text=True, env=env, timeout=60, check=False)


def test_plan_shows_where_the_alias_points_now(sandbox: Sandbox) -> None:
    sandbox.seed_from_config(load(QUICKSTART), ["dev"])
    client = sandbox.client("lambda")
    version = client.publish_version(FunctionName="quickstart-dev-router")["Version"]
    client.create_alias(FunctionName="quickstart-dev-router", Name="live",
                        FunctionVersion=version)
    before = client.list_versions_by_function(FunctionName="quickstart-dev-router")["Versions"]

    result = plan(sandbox)
    assert result.returncode == 0, result.stderr
    assert f"move alias quickstart-dev-router:live {version} -> new" in result.stdout
    assert "read current aliases from AWS (read-only)" in result.stdout
    assert "offline:" not in result.stdout
    after = client.list_versions_by_function(FunctionName="quickstart-dev-router")["Versions"]
    assert before == after, "a dry run changes nothing"


def test_unreachable_aws_falls_back_to_offline_and_says_why(sandbox: Sandbox) -> None:
    sandbox_url = sandbox.endpoint_url
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    # A port on loopback that refuses connections: bound, never listening, and held for the
    # whole test so that no other process (a parallel test worker) can start listening there.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
        assert dead != sandbox_url
        env.update(AWS_ENDPOINT_URL=dead, AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
        result = subprocess.run([sys.executable, "-m", "lmi_delivery", "plan", "--config",
                                 str(QUICKSTART), "--env", "dev"], capture_output=True,
                                text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "could not read AWS state" in result.stdout
    assert "offline: no AWS state was read" in result.stdout
