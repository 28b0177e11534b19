"""`lmi-delivery validate` on every invalid fixture: exit 2, FILE:LINE:COL, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lmi_delivery.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
INVALID = sorted(p for p in (ROOT / "tests/data/config/invalid").iterdir()
                 if p.suffix in (".yml", ".yaml"))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def first_expected_position(fixture: Path) -> str:
    sidecar = fixture.with_name(fixture.name + ".expect")
    text = (sidecar.read_text(encoding="utf-8") if sidecar.exists()
            else fixture.read_text(encoding="utf-8"))
    for line in text.splitlines():
        line = line.removeprefix("# expect: ")
        if line and line[0].isdigit():
            return line.split(" ", 1)[0]
    return ""


@pytest.mark.parametrize("fixture", INVALID, ids=[p.name for p in INVALID])
def test_invalid_config_exits_2_pointing_at_the_node(
        capsys: pytest.CaptureFixture[str], fixture: Path) -> None:
    code, out, err = run(capsys, "validate", "--config", str(fixture))
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    position = first_expected_position(fixture)
    if position:
        assert f"{fixture}:{position}: " in err
    else:
        assert err.startswith(f"{fixture}")


def test_valid_config_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--config",
                       str(ROOT / "examples/agent-platform/lmi-delivery.yml"))
    assert code == 0
    assert "ok (3 environment(s), 1 function(s)" in out


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--debug", "validate", "--config", str(INVALID[0]))
    assert code == 2
    assert "Traceback" in err


def test_usage_error_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plan", "--config", str(INVALID[0]))
    assert code == 2
    assert "--env" in err


def test_a_bad_yaml_directive_exits_2_with_its_position(tmp_path: Path) -> None:
    """``%YAML 1.11`` once failed an assertion inside ruamel.yaml: exit 1, "internal error"."""
    config = tmp_path / "lmi-delivery.yml"
    config.write_text("%YAML 1.11\n---\nversion: 1\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "lmi_delivery", "validate", "--config",
                             str(config)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert result.stderr.startswith(
        f"{config}:1:7: invalid YAML: while scanning a directive; unsupported YAML version "
        "1.11 in the %YAML directive (expected 1.1 or 1.2)")
