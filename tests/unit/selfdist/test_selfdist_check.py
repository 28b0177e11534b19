"""``self-check`` and the check every lmi-delivery command makes inside a build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmi_delivery.errors import EXIT_REFUSED, GateRefused
from lmi_delivery.selfdist.check import Installed, check, check_in_build, installed

SHA = "ab" * 32
ROOT = Path(__file__).resolve().parents[3]


def test_the_orchestrator_s_version_and_wheel_pass() -> None:
    found = Installed("0.1.0", SHA, "installed from file:///x.whl")
    assert check("0.1.0", SHA.upper(), found) is found


@pytest.mark.parametrize(("found", "shown"), [
    (Installed("0.1.0", "cd" * 32, "installed from file:///x.whl"), f"wheel sha256 {'cd' * 32}"),
    (Installed("0.2.0", SHA, "installed from file:///x.whl"), "lmi-delivery 0.2.0"),
    (Installed("0.1.0", None, "installed from an index"),
     "installed from an index, no wheel sha256 recorded"),
])
def test_anything_else_is_refused_naming_both(found: Installed, shown: str) -> None:
    with pytest.raises(GateRefused) as refused:
        check("0.1.0", SHA, found)
    assert refused.value.exit_code == EXIT_REFUSED
    assert shown in str(refused.value)
    assert f"passed lmi-delivery 0.1.0 (wheel sha256 {SHA})" in str(refused.value)


def test_an_editable_install_records_no_wheel() -> None:
    found = installed()
    assert found.wheel_sha256 is None
    assert "not an installed wheel" in found.origin


def test_commands_check_themselves_only_inside_a_build_handed_a_wheel() -> None:
    check_in_build({})
    check_in_build({"LMI_DELIVERY_WHEEL_SHA256": SHA, "LMI_DELIVERY_VERSION": "0.1.0"})
    with pytest.raises(GateRefused, match="refusing to run another lmi-delivery"):
        check_in_build({"CODEBUILD_BUILD_ID": "p:1", "LMI_DELIVERY_WHEEL_SHA256": SHA,
                        "LMI_DELIVERY_VERSION": "0.1.0"})


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CODEBUILD_", "LMI_"))}
    return subprocess.run([sys.executable, "-m", "lmi_delivery", *args], cwd=ROOT,
                          env={**base, **env}, capture_output=True, text=True, check=False)


def test_self_check_refuses_with_exit_3_and_exports_the_verdict(tmp_path: Path) -> None:
    result = _cli("self-check", "--version", "0.1.0", "--wheel-sha256", SHA,
                  "--exports", str(tmp_path / "install.env"))
    assert result.returncode == EXIT_REFUSED, result.stderr
    assert result.stderr.startswith("refused: this build runs lmi-delivery 0.1.0 (")
    assert SHA in result.stderr
    exported = (tmp_path / "install.env").read_text()
    assert "LMI_VERDICT=refused\n" in exported
    assert "LMI_DELIVERY_INSTALLED_VERSION=0.1.0\n" in exported
    assert "LMI_VERDICT_DETAIL='this build runs lmi-delivery" in exported


def test_any_command_in_a_build_handed_another_wheel_refuses_before_doing_anything() -> None:
    result = _cli("validate", "--config", "examples/quickstart/lmi-delivery.yml",
                  CODEBUILD_BUILD_ID="p:1", LMI_DELIVERY_WHEEL_SHA256=SHA,
                  LMI_DELIVERY_VERSION="0.1.0")
    assert result.returncode == EXIT_REFUSED
    assert "refusing to run another lmi-delivery" in result.stderr
    assert "ok (" not in result.stdout
    assert _cli("validate", "--config", "examples/quickstart/lmi-delivery.yml").returncode == 0
