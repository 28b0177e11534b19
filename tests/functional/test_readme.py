"""The README shows real output: its worked dry run is what the command prints today."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

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


def readme_command(label: str, readme: str | None = None) -> str:
    """The one-line ``sh`` block that follows ``**LABEL**`` in the README."""
    text = readme if readme is not None else (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"\*\*{re.escape(label)}\*\*.*?```sh\n([^\n]+)\n```", text, re.S)
    assert found is not None, f"README.md lost its {label!r} command"
    return found.group(1)


def ci_runs_the_readme_tests(readme: str, ci: str) -> bool:
    """Exactly one line of ``.ci/run`` runs the tests, and it is the README's command, at most
    followed by an exit on failure (``set -e`` does not stop at a failing ``&&`` member)."""
    command = readme_command("Test it", readme)
    lines = [line for line in ci.splitlines()
             if "pytest" in line and not line.lstrip().startswith("#")]
    return lines in ([command], [f"{command} || exit $?"])


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert ci_runs_the_readme_tests(readme, (REPO / ".ci" / "run").read_text(encoding="utf-8"))
    assert readme_command("Test it", readme).endswith("python -m pytest")


@pytest.mark.parametrize("edit", ["readme", "ci"])
def test_the_drift_check_fails_when_either_file_changes_alone(edit: str) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    command = readme_command("Test it", readme)
    if edit == "readme":
        readme = readme.replace(command, command.replace("python -m pytest", "pytest -x"))
    else:
        ci = ci.replace(command, command.replace(".[test]", ".[test,extra]"))
    assert not ci_runs_the_readme_tests(readme, ci)


def test_the_readme_holds_the_use_command() -> None:
    assert readme_command("Use it").endswith(
        "lmi-delivery run --sandbox --config examples/quickstart/lmi-delivery.yml --env dev")


def test_the_architecture_table_is_the_package_s_folders() -> None:
    """README's architecture section names every folder of the package, and no other; each
    folder's ``__init__`` says in its docstring what it owns and what it never does."""
    import ast

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_]+)/` \|", section, flags=re.M))
    package = REPO / "lmi_delivery"
    folders = {p.parent.name for p in package.glob("*/__init__.py")} - {"templates"}
    assert listed == folders
    for init in package.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert doc, f"{init.relative_to(REPO)} has no docstring"
        if init.parent != package and init.parent.name != "templates":
            assert re.search(r"\bnever\b", doc), f"{init.relative_to(REPO)}: what it never does"
