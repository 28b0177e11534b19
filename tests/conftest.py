"""Shared fixtures: one sandbox server per test module, reset before every test.

``sandbox_server`` (module scope) starts an in-process sandbox; a module that needs other
options overrides it with its own module-scoped fixture of the same name. ``sandbox``
(function scope) resets its state and sets fake AWS credentials for the test only.
``aws_clients`` builds boto3 clients pointed at the sandbox. ``node_tools`` (session scope)
installs the Node test tools of ``.ci/node`` once (:mod:`tests.tools`). ``sandbox_build_cache``
(session scope, automatic) gives every sandbox of the session one build cache, shared by the
session's pytest-xdist workers.

Hypothesis runs under the ``ci`` profile when ``CI`` is set (derandomized, a fixed number of
examples, no deadline, failing examples printed as blobs to reproduce), else under ``dev``.
``HYPOTHESIS_PROFILE`` picks one explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import tools
from botocore.config import Config
from hypothesis import HealthCheck, settings

from lmi_delivery.sandbox import Sandbox, SandboxOptions

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


# Examples per test where a test does not ask for more. No deadline: the suite shares two cores
# with builds and sandboxes, and a slow example is not a failure.
EXAMPLES = 100
settings.register_profile(
    "ci", derandomize=True, max_examples=EXAMPLES, deadline=None, print_blob=True,
    database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "dev", max_examples=EXAMPLES, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI")
                                                               else "dev"))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the cores this process may use. Most tests wait (on
    builds, subprocesses, the sandbox's rate limit and publish delays), so one worker per core
    leaves cores idle."""
    return len(os.sched_getaffinity(0)) + 1


@pytest.fixture(scope="session", autouse=True)
def sandbox_build_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One build cache for every sandbox of the session (in-process or run by a test's
    subprocess): a wheel of lmi-delivery is installed into a virtualenv once, not once per
    sandbox, nor once per pytest-xdist worker (the workers' temporary directories share a
    parent; the cache locks what it builds, see :mod:`lmi_delivery.selfdist.bootstrap`). The
    tests of the install itself give their builds caches of their own."""
    from lmi_delivery.sandbox.codebuild.image import SHARED_CACHE

    if os.environ.get("PYTEST_XDIST_WORKER"):
        cache = tmp_path_factory.getbasetemp().parent / "sandbox-build-cache"
        cache.mkdir(exist_ok=True)
    else:
        cache = tmp_path_factory.mktemp("sandbox-build-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SHARED_CACHE, str(cache))
        yield cache


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions()) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    sandbox_server.reset()
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return sandbox_server


AwsClients = Callable[..., Any]


@pytest.fixture
def aws_clients(sandbox: Sandbox) -> AwsClients:
    """``aws_clients("lambda", max_attempts=1, region="us-east-1")`` -> a boto3 client.

    ``max_attempts`` counts every attempt (botocore's ``total_max_attempts``): 1 = no retry.
    """

    def make(service: str, *, max_attempts: int = 1, region: str = "us-east-1",
             **config: Any) -> Any:
        return boto3.client(
            service, region_name=region, endpoint_url=sandbox.endpoint_url,
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"mode": "standard", "total_max_attempts": max_attempts},
                          **config),
        )

    return make


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """``.ci/node/node_modules``, installed once if needed; no Node.js ends the session."""
    try:
        return tools.node_modules()
    except tools.MissingTool as exc:
        pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)
