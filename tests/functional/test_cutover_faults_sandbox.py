"""A scaling config that cannot be set stops the cutover before any traffic moves (sandbox).

Every PutFunctionScalingConfig answers 500 (an injected fault, as a throttled or failing Put
would end once the retries are spent): the deploy fails (exit 1) at the scale step and the
aliases stay where they were, which the sandbox's request journal shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from config_files import load_text
from test_cutover_sandbox import (
    DELAY,
    ROUTER,
    WORKER,
    FakeTime,
    alias_calls,
    config_text,
    deploy,
    live_routing,
    wait_for,
)

from lmi_delivery.errors import OperationFailed
from lmi_delivery.sandbox import Sandbox, SandboxOptions
from lmi_delivery.sandbox.options import FaultRates


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    faults = {"PutFunctionScalingConfig": FaultRates(error_500=1.0)}
    with Sandbox(SandboxOptions(publish_delay_seconds=DELAY, faults=faults)) as server:
        yield server


def test_a_failed_scaling_config_leaves_traffic_where_it_was(sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    config = load_text(tmp_path, config_text())
    sandbox.seed_from_config(config)
    lam = sandbox.client("lambda")
    for name in (ROUTER, WORKER):
        lam.publish_version(FunctionName=name)
        wait_for(lambda name=name: lam.get_function_configuration(
            FunctionName=name, Qualifier="1")["State"] == "Active")
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        lam.update_function_configuration(FunctionName=name, Description="deploy 2")
    sandbox.clear_requests()

    with pytest.raises(OperationFailed) as failed:
        deploy(sandbox, config, FakeTime(), lam=sandbox.client("lambda", max_attempts=2))

    assert failed.value.exit_code == 1
    assert "PutFunctionScalingConfig" in str(failed.value)
    report = failed.value.context["report"]
    assert report.status == "failed"
    assert "alias" not in report.steps
    puts = [e for e in sandbox.requests("lambda") if e.operation == "PutFunctionScalingConfig"]
    assert puts
    assert all(e.status >= 500 for e in puts)
    assert alias_calls(sandbox, ROUTER) == alias_calls(sandbox, WORKER) == []
    for name in (ROUTER, WORKER):
        assert live_routing(lam, name) == ("1", {})
