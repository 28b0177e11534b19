"""LMD011: buildspecs that install from an index without a pin and a hash, ours included."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lmi_delivery.config import load
from lmi_delivery.doctor import Finding, diagnose
from lmi_delivery.doctor.shell import commands

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = ROOT / "examples" / "quickstart"
HASHED = ("boto3==1.44.8 \\\n    --hash=sha256:" + "a" * 64 + "\n"
          "click==8.5.1 --hash=sha256:" + "b" * 64 + "  # via us\n")
#: The install line every buildspec had before builds were handed the orchestrator's wheel.
BY_NAME = ('command -v lmi-delivery >/dev/null || python3 -m pip install --quiet '
           '"$LMI_DELIVERY_PIP_SPEC"')


def repo(tmp_path: Path, commands_: list[str], files: dict[str, str] | None = None) -> Path:
    shutil.copytree(QUICKSTART, tmp_path, dirs_exist_ok=True)
    listed = "".join(f"      - {c}\n" for c in commands_)
    (tmp_path / "buildspecs").mkdir()
    (tmp_path / "buildspecs" / "build.yml").write_text(
        f"version: 0.2\nphases:\n  install:\n    commands:\n{listed}", encoding="utf-8")
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def lmd011(root: Path) -> list[Finding]:
    return [f for f in diagnose(load(root / "lmi-delivery.yml")) if f.rule_id == "LMD011"]


@pytest.mark.parametrize("command", [
    "pip install checkov",
    "pip3 install 'checkov==3.2.0'",                 # pinned, but no hash
    "python3 -m pip install --upgrade pip",
    "python -m pip install -r requirements.txt",     # the file pins nothing by hash
    "uv pip install ruff",
    "pip install .",                                  # its dependencies come from the index
    "pipx install checkov",
    "npm install -g cdktf-cli",
    "npm i",
    "yarn add left-pad",
    "curl -sSfL https://example.com/install.sh | sh",
    "curl -sSfL https://example.com/install.sh | sudo -E bash",
    'bash <(curl -s https://example.com/get)',
    'sh -c "$(wget -qO- https://example.com/get)"',
    BY_NAME,
])
def test_unpinned_installs_are_reported_at_their_place(tmp_path: Path, command: str) -> None:
    [finding] = lmd011(repo(tmp_path, ["echo first", command],
                            {"requirements.txt": "boto3==1.44.8\n"}))
    assert finding.location.line == 6
    assert finding.location.file.endswith("buildspecs/build.yml")
    assert finding.level == "error"


@pytest.mark.parametrize("command", [
    "pip install --require-hashes -r requirements.txt",
    "python3 -m pip install -r hashed.txt",           # every line has a hash: hash-checking mode
    "pip install --no-index --find-links wheels/ checkov",
    "pip install --no-deps ./dist/tool-1.0-py3-none-any.whl",
    "pip download --no-deps checkov",                 # downloads, installs nothing
    "npm ci",
    "curl -sSfLo tool.tgz https://example.com/tool-1.2.3.tgz",
    "python3 -I - <<'PY'\nimport subprocess\nsubprocess.run(['pip', 'install', 'x'])\n"
    "pip install x\nPY",                              # a here-document is input, not commands
])
def test_pinned_or_local_installs_are_fine(tmp_path: Path, command: str) -> None:
    listed = [command] if "\n" not in command else []
    root = repo(tmp_path, listed, {"hashed.txt": HASHED, "requirements.txt": HASHED})
    if not listed:
        body = "".join(f"        {line}\n" for line in command.splitlines())
        (root / "buildspecs" / "build.yml").write_text(
            f"version: 0.2\nphases:\n  install:\n    commands:\n      - |\n{body}",
            encoding="utf-8")
    assert lmd011(root) == []


def test_lmi_delivery_by_name_is_told_where_it_comes_from(tmp_path: Path) -> None:
    [finding] = lmd011(repo(tmp_path, [BY_NAME]))
    assert "lmi-delivery is never installed by name from an index" in finding.message
    assert "LMI_DELIVERY_WHEEL_SHA256" in finding.message
    assert finding.location.column == BY_NAME.index("python3") + 9


def test_our_buildspecs_install_nothing_unpinned(tmp_path: Path) -> None:
    root = repo(tmp_path, ["true"])
    shutil.rmtree(root / "buildspecs")
    shutil.copytree(ROOT / "lmi_delivery" / "buildspecs", root / "buildspecs")
    assert lmd011(root) == []
    # ...and they do install things: only through the bootstrap's here-document.
    text = (root / "buildspecs" / "plan.yml").read_text(encoding="utf-8")
    assert "--require-hashes" in text


def test_here_document_bodies_are_not_commands() -> None:
    script = "cat <<-EOF > x\n\tpip install x\n\tEOF\nterraform plan\n"
    assert [c.argv[0] for c in commands(script)] == ["cat", "terraform"]
