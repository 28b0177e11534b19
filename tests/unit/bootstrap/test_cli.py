"""`lmi-delivery bootstrap`: help, output, and bad input (exit 2, a clear message, no file)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bootstrap_helpers import FULL, make_repo

from lmi_delivery.bootstrap import Plane
from lmi_delivery.bootstrap.github import render_github


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lmi_delivery", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


def test_help_explains_the_command(tmp_path: Path) -> None:
    done = run("bootstrap", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for words in ("OIDC", "review", "plan", "deploy", "prune", "--format",
                  "cloudformation|terraform", "--out", "--github-commands", "--repository",
                  "backend_config", "--apply", "--stack-name", "--no-shared-resources",
                  "--template-bucket", "--github", "--reviewer-team", "GITHUB_TOKEN"):
        assert words in done.stdout


def test_it_writes_every_file_into_the_directory(tmp_path: Path) -> None:
    config = make_repo(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    done = run("bootstrap", "--config", str(config), "--env", "prod", "--format", "terraform",
               "--github-commands", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "backend-prod.txt", "delivery-prod.tf", "github-prod.sh"]
    assert done.stdout.count("wrote ") == 3
    assert "key=tf/{service}/{env}.tfstate" in (out / "backend-prod.txt").read_text()


def test_without_out_it_prints_the_template_and_the_backend_lines(tmp_path: Path) -> None:
    config = make_repo(tmp_path)
    done = run("bootstrap", "--config", str(config), "--env", "dev", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["AWSTemplateFormatVersion"] == "2010-09-09"
    assert "  - use_lockfile=true" in done.stderr


@pytest.mark.parametrize(("change", "args", "message"), [
    ("", ("--env", "qa"), "unknown environment 'qa' in lmi-delivery.yml (known: dev, prod)"),
    ("github: {repository: acme/shop, default_branch: trunk}\n", ("--env", "dev"),
     "no GitHub repository: set github.repository (OWNER/REPO) in lmi-delivery.yml or pass "
     "--repository OWNER/REPO"),
    ("", ("--env", "dev", "--repository", "acme"), "--repository 'acme' is not OWNER/REPO"),
    ("", ("--env", "dev", "--account-id", "999999999999"),
     "--account-id 999999999999 contradicts environments.dev.account_id 123456789012"),
    ("", ("--env", "dev", "--out", "lmi-delivery.yml"),
     "--out lmi-delivery.yml: is not a directory"),
    ("", ("--env", "dev", "--out", "missing"), "--out missing: does not exist"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, change: str,
                                                 args: tuple[str, ...], message: str) -> None:
    make_repo(tmp_path, FULL.replace(change, "") if change else FULL)
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run("bootstrap", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_missing_account_is_a_clear_error(tmp_path: Path) -> None:
    make_repo(tmp_path, FULL.replace(', account_id: "123456789012"', ""))
    done = run("bootstrap", "--env", "dev", cwd=tmp_path)
    assert done.returncode == 2
    assert "no AWS account for environment 'dev': set environments.dev.account_id" in done.stderr
    assert run("bootstrap", "--env", "dev", "--account-id", "123456789012",
               cwd=tmp_path).returncode == 0


def test_the_github_commands(prod: Plane, dev: Plane, tmp_path: Path) -> None:
    script = render_github(prod)
    assert subprocess.run(["sh", "-n"], input=script, text=True, check=False).returncode == 0
    assert 'gh api --method PUT "repos/$REPO/environments/$ENVIRONMENT"' in script
    assert "-F 'reviewers[][type]=Team'" in script
    assert "prevent_self_review=true" in script
    assert "-f name=main -f type=branch" in script
    assert ("-f name=LMI_DEPLOY_ROLE_ARN "
            "-f value=arn:aws:iam::123456789012:role/shop-prod-gh-deploy") in script
    # apply: auto has no reviewers; the deployment branch still binds the environment.
    auto = render_github(dev)
    assert "reviewers" not in auto
    assert "-f name=dev -f type=branch" in auto
