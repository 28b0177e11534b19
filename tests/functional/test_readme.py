"""The README shows real output: its worked dry run is what the command prints today."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_worked_dry_run_is_the_real_output() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```text\n\$ (lmi-delivery plan .*?)\n(lmi-delivery plan:.*?)\n```",
                      readme, re.S)
    assert block is not None, "README.md lost its worked dry run"
    command = shlex.split(block.group(1).replace("\\\n", " "))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    result = subprocess.run([sys.executable, "-m", "lmi_delivery", *command[1:]], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.rstrip("\n") == block.group(2)


def test_the_readme_holds_the_test_command_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in ci
    assert "pip install -e '.[test]' && python -m pytest" in readme
    assert "lmi-delivery run --sandbox --config examples/quickstart/lmi-delivery.yml" in readme
