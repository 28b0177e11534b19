"""The embedded Terraform behaves like the real binary: output on fds 1/2, exit codes intact."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from lmi_delivery import process
from lmi_delivery.terraform import embedded

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "quickstart" / "terraform"


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return embedded.write_shim(tmp_path_factory.mktemp("bin"))


def test_available() -> None:
    assert embedded.available() is True


def test_python_dash_m_prints_the_version(tmp_path: Path) -> None:
    result = process.run([sys.executable, "-m", embedded.MODULE, "version"], cwd=tmp_path,
                         env={"PYTHONPATH": str(REPO)})
    assert result.stdout.splitlines()[0] == "Terraform v1.12.2"


def test_exit_codes_pass_through(tmp_path: Path, shim: Path) -> None:
    result = process.run([shim, "no-such-command"], cwd=tmp_path, env={}, check=False)
    assert result.returncode == 1
    assert 'Terraform has no command named "no-such-command"' in result.stderr


def test_detailed_exitcode_two_means_changes(tmp_path: Path, shim: Path) -> None:
    # The example keeps its state in an S3 backend; this test needs local state only.
    shutil.copytree(EXAMPLE, tmp_path / "tf", ignore=shutil.ignore_patterns("backend.tf"))
    env = {"HOME": str(tmp_path)}
    process.run([shim, "-chdir=tf", "init", "-input=false", "-no-color"], cwd=tmp_path, env=env)
    result = process.run(
        [shim, "-chdir=tf", "plan", "-input=false", "-no-color", "-detailed-exitcode",
         "-var-file=env/dev.tfvars"],
        cwd=tmp_path, env=env, check=False)
    assert result.returncode == 2, result.stderr
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in result.stdout


def test_the_shim_runs_this_module_with_this_interpreter(shim: Path) -> None:
    text = shim.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert text.rstrip().endswith(f'exec {sys.executable} -m {embedded.MODULE} "$@"')
    assert os.access(shim, os.X_OK)
    assert [p.name for p in shim.parent.iterdir()] == ["terraform"]
