"""A build's secret values never reach its log: the runner's stream and ``terraform plan|apply``.

A fake ``terraform`` prints the value of its ``TF_VAR_api_token`` (as a careless
``output`` or an error message would) on stdout and stderr, then fails.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lmi_delivery.cli.commands.terraform import terraform_group
from lmi_delivery.config.model import TerraformSettings
from lmi_delivery.errors import CommandFailed
from lmi_delivery.redact import Redactor
from lmi_delivery.terraform.invoke import TerraformRunner

SECRET = "s3cr3t-api-token-9f8e7d"
LEAKY = f"""#!{sys.executable}
import json, os, sys
args = [a for a in sys.argv[1:] if not a.startswith("-chdir=")]
if args[:2] == ["version", "-json"]:
    print(json.dumps({{"terraform_version": "1.12.2"}}))
    sys.exit(0)
token = os.environ.get("TF_VAR_api_token", "")
print("api_token = " + token, flush=True)
print("Error: invalid value " + token + " for variable api_token", file=sys.stderr)
sys.exit(1)
"""
CONFIG = """\
version: 1
service: shop
region: us-east-1
terraform:
  version: 1.12.2
  working_directory: terraform
codebuild:
  artifacts: s3://shop-artifacts/plans
  secrets:
    TF_VAR_api_token: "ssm:/shop/{env}/api-token"
environments:
  dev: {branch: dev, apply: auto}
gates:
  validation: {fmt: false}
"""


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    binary = tmp_path / "bin" / "terraform"
    binary.parent.mkdir()
    binary.write_text(LEAKY)
    binary.chmod(0o755)
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "main.tf").write_text('variable "api_token" {\n  type = string\n'
                                                     "  sensitive = true\n}\n")
    return binary


def test_the_runner_streams_redacted_lines(tmp_path: Path, leaky: Path) -> None:
    lines: list[str] = []
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "TF_VAR_api_token": SECRET}
    runner = TerraformRunner(leaky, TerraformSettings("1.12.2", "terraform"), tmp_path, env,
                             "dev", stream=lines.append, redact=Redactor([SECRET]))
    with pytest.raises(CommandFailed):
        runner.init()
    assert sorted(lines) == ["$ terraform -chdir=terraform init -input=false -no-color",
                             "Error: invalid value *** for variable api_token", "api_token = ***"]


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_build_commands_print_no_secret_value(tmp_path: Path, leaky: Path,
                                              command: str) -> None:
    (tmp_path / "lmi-delivery.yml").write_text(CONFIG)
    exports = tmp_path / "exports.env"
    env = {"TF_VAR_api_token": SECRET, "CODEBUILD_RESOLVED_SOURCE_VERSION": "a" * 40,
           "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "LMI_PLAN_BUILD_ID": "shop-dev-tf-plan:1", "LMI_PLAN_SHA256": "0" * 64,
           "LMI_DELIVERY_EVENT": "pull_request", "HOME": str(tmp_path)}
    result = CliRunner().invoke(
        terraform_group, [command, "--env", "dev", "--config", str(tmp_path / "lmi-delivery.yml"),
                          "--terraform", str(leaky), "--exports", str(exports)], env=env)
    assert result.exception is not None
    printed = result.stdout + result.stderr + str(result.exception)
    if exports.exists():
        printed += exports.read_text()
    assert SECRET not in printed
    if command == "plan":  # a review plan reaches Terraform, which printed the value
        assert "api_token = ***" in result.stderr
        assert "Error: invalid value *** for variable api_token" in str(result.exception)
