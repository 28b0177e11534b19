"""Lifecycle of the in-process sandbox and its control endpoints."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from lmi_delivery.sandbox import Sandbox, SandboxOptions


def get_json(url: str, data: bytes | None = None) -> dict[str, object]:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


def test_start_and_stop_are_fast() -> None:
    Sandbox().start().stop()  # the first start pays moto's imports
    started = time.perf_counter()
    sandbox = Sandbox().start()
    running = time.perf_counter()
    sandbox.stop()
    total = time.perf_counter() - started
    print(f"start {running - started:.3f}s, start+stop {total:.3f}s")
    assert total < 3.0


def test_serves_on_loopback_and_owns_a_workdir() -> None:
    with Sandbox(SandboxOptions(region="eu-west-1")) as sandbox:
        assert sandbox.endpoint_url.startswith("http://127.0.0.1:")
        assert sandbox.region == "eu-west-1"
        workdir = sandbox.workdir
        assert workdir.is_dir()
        health = get_json(f"{sandbox.endpoint_url}/_sandbox/health")
        assert health == {"status": "ok", "region": "eu-west-1"}
    assert not workdir.exists()
    with pytest.raises(RuntimeError):
        _ = sandbox.endpoint_url


def test_only_one_in_process_sandbox_runs_at_a_time() -> None:
    with Sandbox(), pytest.raises(RuntimeError, match="another in-process sandbox"):
        Sandbox().start()
    with Sandbox():
        pass


def test_reset_forgets_resources() -> None:
    with Sandbox() as sandbox:
        s3 = sandbox.client("s3")
        s3.create_bucket(Bucket="before-reset")
        sandbox.reset()
        assert s3.list_buckets()["Buckets"] == []
        s3.create_bucket(Bucket="again")
        get_json(f"{sandbox.endpoint_url}/_sandbox/reset", data=b"{}")
        assert s3.list_buckets()["Buckets"] == []


def test_codebuild_extension_is_registered_first() -> None:
    with Sandbox() as sandbox:
        assert type(sandbox.extensions[0]).__name__ == "CodeBuildExtension"
