"""`lmi-delivery plan`, `names` and `validate` as a user runs them: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "examples" / "agent-platform" / "lmi-delivery.yml"
QUICKSTART = REPO / "examples" / "quickstart" / "lmi-delivery.yml"
REPORT_SCHEMA = json.loads(
    (files("lmi_delivery") / "schemas" / "report.schema.json").read_text(encoding="utf-8"))


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "GITHUB_", "CODEBUILD_"))}
    return subprocess.run([sys.executable, "-m", "lmi_delivery", *args], capture_output=True,
                          text=True, env={**base, **(env or {})}, timeout=60, check=False)


def test_push_plan_shows_every_stage_resolved() -> None:
    result = cli("plan", "--config", str(AGENT), "--env", "dev", "--event", "push", "--offline")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for n, stage in enumerate(["security", "validate", "plan", "apply", "post-deploy"], 1):
        assert f"{n}. {stage}" in out
    assert "agent-core-dev-tf-plan" in out
    assert "agent-core-dev-tf-apply" in out
    assert "agent-core-dev-post-deploy" in out
    assert ("terraform -chdir=terraform plan -input=false -no-color -lock-timeout=300s "
            "-var-file=env/dev.tfvars") in out
    assert ("terraform -chdir=terraform apply -input=false -no-color -lock-timeout=300s "
            "lmi-delivery.tfplan") in out
    assert "publish a version of agent-core-dev-clm-router" in out
    assert "move alias agent-core-dev-clm-router:live" in out
    assert "min 3 or the live version's applied environments if more (up to 12), max 12" in out
    assert "prune" in out
    assert "keeping the 3 newest" in out
    assert "nothing was started, changed or deleted" in out


def test_json_report_validates_against_schema() -> None:
    for env_name, event in [("dev", "push"), ("prod", "push"), ("qa", "schedule")]:
        result = cli("plan", "--config", str(AGENT), "--env", env_name, "--event", event,
                     "--ref", {"dev": "dev", "prod": "main", "qa": "qa"}[env_name],
                     "--offline", "--format", "json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(report)
    prod = json.loads(cli("plan", "--config", str(AGENT), "--env", "prod", "--event", "push",
                          "--ref", "main", "--offline", "--format", "json").stdout)
    apply = next(s for s in prod["stages"] if s["name"] == "apply")
    assert apply["status"] == "awaits-approval"
    assert apply["steps"][0]["kind"] == "await-approval"


def test_report_schema_rejects_a_broken_report() -> None:
    result = cli("plan", "--config", str(AGENT), "--env", "dev", "--offline", "--format", "json")
    report = json.loads(result.stdout)
    report["stages"][3]["status"] = "skipped"  # skipped stages carry no steps
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(report)
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)


def test_pull_request_plan_has_no_apply_and_says_why() -> None:
    result = cli("plan", "--config", str(AGENT), "--env", "dev", "--event", "pull_request",
                 "--base-ref", "dev", "--offline")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    apply = next(line for line in lines if line.startswith("4. apply"))
    post = next(line for line in lines if line.startswith("5. post-deploy"))
    assert "skipped: pull requests never apply" in apply
    assert "skipped: pull requests never apply" in post
    assert "terraform -chdir=terraform apply" not in result.stdout
    assert "publish a version" not in result.stdout


def test_markdown_output() -> None:
    result = cli("plan", "--config", str(QUICKSTART), "--env", "dev", "--offline",
                 "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### lmi-delivery plan: `quickstart` / `dev`")
    assert "| 4 | apply | runs |" in result.stdout


def test_no_credentials_means_offline_and_says_so() -> None:
    result = cli("plan", "--config", str(QUICKSTART), "--env", "dev",
                 env={"HOME": str(REPO / "tests" / "data")})
    assert result.returncode == 0, result.stderr
    assert "no AWS credentials found: planning offline" in result.stdout


def test_unknown_environment_is_exit_2() -> None:
    result = cli("plan", "--config", str(QUICKSTART), "--env", "staging", "--offline")
    assert result.returncode == 2
    assert "unknown environment 'staging'" in result.stderr
    assert "Traceback" not in result.stderr


def test_names_prints_every_derived_name() -> None:
    result = cli("names", "--config", str(AGENT), "--env", "qa")
    assert result.returncode == 0, result.stderr
    assert "agent-core-qa-clm-router" in result.stdout
    assert "agent-core-qa-tf-apply" in result.stdout
    data = json.loads(cli("names", "--config", str(AGENT), "--format", "json").stdout)
    assert [d["environment"] for d in data] == ["dev", "qa", "prod"]


def test_validate_ok_and_version() -> None:
    assert cli("validate", "--config", str(QUICKSTART)).returncode == 0
    version = cli("--version")
    assert version.returncode == 0
    assert "lmi-delivery" in version.stdout


def test_help_explains_dry_run() -> None:
    result = cli("plan", "--help")
    assert result.returncode == 0
    assert "dry run" in result.stdout
    assert "lmi-delivery plan --env dev" in result.stdout


def test_cli_start_keeps_heavy_imports_out() -> None:
    code = ("import sys; import lmi_delivery.cli.main as c; "
            "heavy = [m for m in ('boto3', 'botocore', 'jsonschema', 'ruamel', 'moto', 'yaml') "
            "if m in sys.modules]; print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
