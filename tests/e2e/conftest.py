"""Fixtures of the workflow tests under act (:mod:`act_harness`).

``act_runner`` (session scope) builds the copy of the action under test and the runner's Python
once; ``act_world`` (module scope) builds, once per module, the quickstart's throwaway
repository, the fake GitHub API and the sandbox server around them
(:func:`act_harness.world_of`). ``world`` (function scope) hands it to a test reset
(:meth:`act_harness.World.reset`): the sandbox freshly provisioned (no builds, stored plans or
Terraform state) and the fake API emptied.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from act_harness import (
    ACT,
    Runner,
    ThrowawayRepo,
    World,
    runner_python,
    snapshot_action,
    world_of,
)


@pytest.fixture(scope="session")
def act_runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """The copy of the action under test and the runner's Python with it installed, once per
    worker (each act module keeps to one worker by its xdist_group): installing it is the
    costliest part of a world."""
    if not ACT.is_file():
        pytest.fail(f"act is not installed beside {ACT.parent}/python: pip install -e '.[test]'")
    if shutil.which("node") is None:
        pytest.fail("the github-script stand-in needs Node.js on PATH")
    base = tmp_path_factory.mktemp("act-runner")
    action = snapshot_action(base / "lmi-delivery-action")
    (base / "home").mkdir()
    return Runner(action, runner_python(base / "runner-python", action, base / "home"))


@pytest.fixture(scope="module")
def act_world(tmp_path_factory: pytest.TempPathFactory, act_runner: Runner,
              node_tools: Path) -> Iterator[World]:
    base = tmp_path_factory.mktemp("act-e2e")
    repo = ThrowawayRepo.create(base / "platform")
    yield from world_of(repo, act_runner, base, node_tools)


@pytest.fixture
def world(act_world: World) -> World:
    return act_world.reset()
