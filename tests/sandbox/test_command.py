"""``lmi-delivery sandbox serve`` as a subprocess, and seeding, seen through plain boto3."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lmi_delivery.config import load
from lmi_delivery.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart" / "lmi-delivery.yml"


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


def test_serve_seeds_the_quickstart_and_stops_on_ctrl_c() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "lmi_delivery.cli.commands.sandbox", "serve",
         "--config", str(QUICKSTART), "--env", "dev", "--publish-delay", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert process.stdout is not None
        exports = dict(process.stdout.readline().strip().removeprefix("export ").split("=", 1)
                       for _ in range(4))
        endpoint = exports["AWS_ENDPOINT_URL"]
        assert endpoint.startswith("http://127.0.0.1:")
        assert exports["AWS_DEFAULT_REGION"] == "us-east-1"
        assert exports["AWS_ACCESS_KEY_ID"]
        assert exports["AWS_SECRET_ACCESS_KEY"]
        lam = client("lambda", endpoint)
        providers = lam.list_capacity_providers()["CapacityProviders"]
        assert [p["CapacityProviderArn"].rsplit(":", 1)[-1] for p in providers] == [
            "quickstart-dev-shared"]
        router = lam.get_function(FunctionName="quickstart-dev-router")["Configuration"]
        assert router["CapacityProviderConfig"][
            "LambdaManagedInstancesCapacityProviderConfig"]["CapacityProviderArn"] == \
            providers[0]["CapacityProviderArn"]
        assert router["Runtime"] == "python3.13"
        assert router["MemorySize"] == 2048
        buckets = client("s3", endpoint).list_buckets()["Buckets"]
        assert [b["Name"] for b in buckets] == ["quickstart-delivery-artifacts"]
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    return aws_clients("lambda")


def test_seed_from_config_creates_every_environment(sandbox: Sandbox, lam: Any) -> None:
    sandbox.seed_from_config(load(QUICKSTART))
    names = sorted(f["FunctionName"] for f in lam.list_functions()["Functions"])
    assert names == ["quickstart-dev-router", "quickstart-prod-router"]
    assert lam.list_versions_by_function(FunctionName="quickstart-prod-router")[
        "Versions"][0]["Version"] == "$LATEST"
    assert lam.list_aliases(FunctionName="quickstart-prod-router")["Aliases"] == []


def test_seed_file(sandbox: Sandbox, lam: Any, tmp_path: Path) -> None:
    seed = tmp_path / "seed.yml"
    seed.write_text(
        "buckets: [artifacts]\n"
        "capacity_providers:\n  - name: shared\n"
        "functions:\n"
        "  - name: router\n    capacity_provider: shared\n    versions: 2\n"
        "    latest_published: true\n    aliases: {live: '2'}\n"
        "  - name: plain\n    memory: 256\n", encoding="utf-8")
    sandbox.seed(seed)
    versions = [v["Version"] for v in
                lam.list_versions_by_function(FunctionName="router")["Versions"]]
    assert versions == ["$LATEST", "1", "2", "$LATEST.PUBLISHED"]
    assert lam.get_alias(FunctionName="router", Name="live")["FunctionVersion"] == "2"
    assert "CapacityProviderConfig" not in lam.get_function(FunctionName="plain")[
        "Configuration"]


def test_serve_injects_faults_and_delays_from_its_flags(tmp_path: Path) -> None:
    """What the Python API injects, the flags inject too, for any client of ``serve``."""
    seed = tmp_path / "seed.yml"
    seed.write_text("capacity_providers:\n  - name: shared\nfunctions:\n"
                    "  - name: router\n    capacity_provider: shared\n    versions: 2\n",
                    encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "lmi_delivery.cli.commands.sandbox", "serve", "--seed", str(seed),
         "--fault", "PutFunctionScalingConfig=500:1.0", "--delete-delay", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip().removeprefix("export AWS_ENDPOINT_URL=")
        lam = client("lambda", endpoint)
        for _ in range(5):  # every such call fails with a 500 ...
            with pytest.raises(lam.exceptions.ServiceException) as failed:
                lam.put_function_scaling_config(
                    FunctionName="router", Qualifier="1", FunctionScalingConfig={
                        "MinExecutionEnvironments": 1, "MaxExecutionEnvironments": 2})
            assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        # ... and nothing else does.
        assert lam.get_function_scaling_config(FunctionName="router", Qualifier="1")
        assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["router"]

        deleted_at = time.monotonic()
        assert lam.delete_function(FunctionName="router", Qualifier="1")["StatusCode"] == 202
        time.sleep(1.0)
        assert lam.get_function_configuration(FunctionName="router",
                                              Qualifier="1")["State"] == "Deleting"
        time.sleep(max(0.0, deleted_at + 2.3 - time.monotonic()))
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function_configuration(FunctionName="router", Qualifier="1")
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr


def test_serve_holds_answers_by_its_latency_flags() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "lmi_delivery.cli.commands.sandbox", "serve",
         "--latency", "*=400", "--latency", "s3:*=0", "--rate-limit", "15"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip().removeprefix("export AWS_ENDPOINT_URL=")
        lam, s3 = client("lambda", endpoint), client("s3", endpoint)
        lam.list_functions()  # moto builds its backends on the first calls: not measured
        s3.list_buckets()
        started = time.monotonic()
        lam.list_functions()
        assert time.monotonic() - started >= 0.4
        fastest = float("inf")
        for _ in range(3):  # a loaded machine stretches some answers, never all three
            started = time.monotonic()
            s3.list_buckets()
            fastest = min(fastest, time.monotonic() - started)
        assert fastest < 0.3, "s3:*=0 is more specific than *=400"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("flag", "message"), [
    ("--fault=PublishVersion=explode", "expected OPERATION=KIND[:RATE]"),
    ("--latency=PublishVersion=soon", "expected OPERATION=MS[±JITTER]")])
def test_serve_refuses_a_bad_fault_or_latency_flag(flag: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lmi_delivery.cli.commands.sandbox", "serve", flag],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 2
    assert message in result.stderr


def test_ctrl_c_stops_a_server_started_with_sigint_ignored() -> None:
    """A shell's background job starts with SIGINT ignored; the server still stops on it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "lmi_delivery.cli.commands.sandbox", "serve"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert process.stdout is not None
    assert process.stdout.readline().startswith("export AWS_ENDPOINT_URL=")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "# sandbox stopped" in stderr
