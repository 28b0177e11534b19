"""Fixtures of the workflow tests under act (:mod:`act_harness`).

``act_world`` (module scope) builds, once per module, the throwaway repository, the copy of the
action under test, the runner's Python, the fake GitHub API and the sandbox server. ``world``
(function scope) hands it to a test reset (:meth:`act_harness.World.reset`): the sandbox freshly
provisioned (no builds, stored plans or Terraform state) and the fake API emptied.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import fake_github
import pytest
from act_harness import (
    ACT,
    REPOSITORY,
    TOKEN,
    Act,
    SandboxServer,
    ThrowawayRepo,
    World,
    runner_python,
    snapshot_action,
)

from lmi_delivery.config import load


@pytest.fixture(scope="module")
def act_world(tmp_path_factory: pytest.TempPathFactory,
              node_tools: Path) -> Iterator[World]:
    if not ACT.is_file():
        pytest.fail(f"act is not installed beside {ACT.parent}/python: pip install -e '.[test]'")
    if shutil.which("node") is None:
        pytest.fail("the github-script stand-in needs Node.js on PATH")
    base = tmp_path_factory.mktemp("act-e2e")
    repo = ThrowawayRepo.create(base / "platform")
    action = snapshot_action(base / "lmi-delivery-action")
    (base / "home").mkdir()
    python_bin = runner_python(base / "runner-python", action, base / "home")
    with fake_github.serve(REPOSITORY, TOKEN) as github, \
            SandboxServer(repo.config, base / "sandbox") as sandbox:
        act = Act(repo, action, python_bin, github.url, base / "act")
        yield World(repo, load(repo.config), sandbox, github, act, node_tools)


@pytest.fixture
def world(act_world: World) -> World:
    return act_world.reset()
