"""Doctor on a repository with every anti-pattern, and on the examples that must lint clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from doctor_helpers import invoke

from lmi_delivery.cli.commands.doctor import doctor_command
from lmi_delivery.config import load
from lmi_delivery.doctor import RULES, diagnose

ROOT = Path(__file__).resolve().parents[3]
BAD = ROOT / "tests/data/doctor/bad-repo"

AWS_RULES = {"LMD013", "LMD014", "LMD015", "LMD016"}
#: (rule, file:line) of every finding in bad-repo; each anti-pattern is at exactly one place.
EXPECTED = {
    ("LMD000", ".github/workflows/broken.yml:4"),        # an anchor: the file is not checked
    ("LMD000", ".github/workflows/broken.yml:7"),        # its alias
    ("LMD001", ".github/workflows/pull-request.yml:28"),  # command: run on pull_request
    ("LMD002", ".github/workflows/deploy.yml:4"),        # workflow_run of Security only
    ("LMD003", ".github/workflows/pull-request.yml:17"),  # agent-core-dev-tf-plann
    ("LMD003", "buildspecs/plan.yml:4"),                 # agent-core-prod-tf-aply
    ("LMD003", "terraform/env/prod.tfvars:2"),           # agent-core-prod-sharde
    ("LMD003", "terraform/main.tf:11"),                  # default agent-core-dev-clm-routr
    ("LMD004", ".github/workflows/pull-request.yml:21"),  # SLACK_TOKEN + PROD_DEPLOY_KEY
    ("LMD005", ".github/workflows/pull-request.yml:15"),  # cd other && terraform plan
    ("LMD005", "buildspecs/plan.yml:11"),                # terraform -chdir=wrong plan
    ("LMD006", ".github/workflows/deploy.yml:16"),       # setup-terraform 1.9.0
    ("LMD006", ".terraform-version:1"),                  # 1.12.1
    ("LMD006", "buildspecs/plan.yml:8"),                 # terraform install --version 1.10.0
    ("LMD006", "terraform/main.tf:2"),                   # required_version = 1.11.0
    ("LMD007", "README.md:3"),                           # [the setup guide](docs/setup.md)
    ("LMD007", "README.md:4"),                           # `examples/x.yml`
    ("LMD008", "buildspecs/plan.yml:12"),                # cd terraform && terraform init
    ("LMD009", "terraform/main.tf:1"),                   # a root without a backend block
    ("LMD010", ".github/workflows/release.yml:22"),      # approved job plans again (run)
    ("LMD011", "buildspecs/plan.yml:13"),                # pip install checkov, no pin, no hash
    ("LMD012", "terraform/scaling.tf:2"),                # scaling config: Terraform's and ours
}


def _relative(file: str) -> str:
    return Path(file).resolve().relative_to(BAD.resolve()).as_posix()


def test_every_anti_pattern_is_reported_at_its_line() -> None:
    findings = diagnose(load(BAD / "lmi-delivery.yml"))
    got = {(f.rule_id, f"{_relative(f.location.file)}:{f.location.line}") for f in findings}
    assert got == EXPECTED
    # Every rule of the repository's doctor; LMD013-LMD016 judge the deployed plane (--aws).
    assert {rule for rule, _ in EXPECTED} == set(RULES) - AWS_RULES


def test_messages_say_what_it_should_be() -> None:
    messages = {f.message for f in diagnose(load(BAD / "lmi-delivery.yml"))}
    assert any("'agent-core-dev-tf-plann'" in m and "'agent-core-dev-tf-plan'" in m
               for m in messages)
    assert any("-chdir=terraform" in m for m in messages)


def test_text_output_and_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, doctor_command, "--config", str(BAD / "lmi-delivery.yml"))
    assert code == 3
    lines = out.splitlines()
    assert len(lines) == len(EXPECTED)
    line = next(x for x in lines if " LMD001 " in x)
    assert line.startswith(f"{BAD / '.github/workflows/pull-request.yml'}:28:20: LMD001 job ")
    assert "18 error(s), 4 warning(s)" in err


def test_relative_config_path_names_files_from_it(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD.parent)
    code, out, _ = invoke(capsys, doctor_command, "--config", "bad-repo/lmi-delivery.yml")
    assert code == 3
    assert "bad-repo/README.md:3:41: LMD007 " in out


def test_json_and_sarif(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(BAD / "lmi-delivery.yml")
    _, out, _ = invoke(capsys, doctor_command, "--config", config, "--format", "json")
    rows = json.loads(out)["findings"]
    assert len(rows) == len(EXPECTED)
    assert {r["severity"] for r in rows if r["rule"] == "LMD004"} == {"warning"}
    _, out, _ = invoke(capsys, doctor_command, "--config", config, "--format", "sarif")
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert len(results) == len(EXPECTED)
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["region"]["startLine"] >= 1


@pytest.mark.parametrize("example", ["agent-platform", "quickstart"])
def test_examples_lint_clean(capsys: pytest.CaptureFixture[str], example: str) -> None:
    config = ROOT / "examples" / example / "lmi-delivery.yml"
    code, out, err = invoke(capsys, doctor_command, "--config", str(config))
    assert (code, out) == (0, "")
    assert "no findings" in err


def test_bad_config_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "lmi-delivery.yml").write_text("version: 1\nservice: [x]\n", encoding="utf-8")
    code, out, err = invoke(capsys, doctor_command, "--config",
                            str(tmp_path / "lmi-delivery.yml"))
    assert code == 2
    assert out == ""
    assert "lmi-delivery.yml:" in err
