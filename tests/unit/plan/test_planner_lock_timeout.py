"""Every Terraform command that takes the state lock waits for it (``-lock-timeout``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmi_delivery.config import load
from lmi_delivery.plan.planner import terraform_argv
from lmi_delivery.terraform.argv import LOCK_TIMEOUT

CONFIG = Path(__file__).resolve().parents[3] / "examples/agent-platform/lmi-delivery.yml"


@pytest.mark.parametrize(("command", "waits"), [
    ("plan", True), ("apply", True),
    # init locks only to migrate state, which -input=false never does; the others never lock.
    ("init", False), ("validate", False), ("show", False), ("fmt", False),
])
def test_lock_timeout_on_the_commands_that_lock(command: str, waits: bool) -> None:
    config = load(CONFIG)
    argv = terraform_argv(config, config.environment("prod"), command)
    assert (f"-lock-timeout={LOCK_TIMEOUT}" in argv) is waits
    assert sum(a.startswith("-lock") for a in argv) == int(waits)


def test_the_timeout_is_in_seconds_and_minutes_long() -> None:
    assert LOCK_TIMEOUT.endswith("s")
    assert 60 <= int(LOCK_TIMEOUT.removesuffix("s")) <= 900
