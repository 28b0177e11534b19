"""Helpers shared by the gate tests: plan fixtures, a throwaway repository, the CLI runner."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from lmi_delivery.cli.commands.gates import gates_group
from lmi_delivery.errors import LmiError
from lmi_delivery.findings import Finding
from lmi_delivery.gates.plan_json import Plan

REPO = Path(__file__).resolve().parents[3]
PLANS = REPO / "tests" / "data" / "plans"
AGENT_PLATFORM = REPO / "examples" / "agent-platform"


def fixtures(kind: str) -> list[Path]:
    """Every plan fixture of ``security`` or ``lmi``, positive and negative."""
    return sorted((PLANS / kind).glob("*/*.json"))


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def load_fixture(path: Path) -> tuple[Plan, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Plan(data, str(path)), data


def keys(findings: Sequence[Finding]) -> list[str]:
    return sorted(f"{f.rule_id} {f.address}" for f in findings)


def plan_document(resource_changes: list[dict[str, Any]],
                  configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """A minimal ``terraform show -json`` document around some resource changes."""
    return {
        "format_version": "1.2", "terraform_version": "1.12.2",
        "planned_values": {"root_module": {"resources": []}},
        "resource_changes": resource_changes,
        "configuration": configuration or {"root_module": {}},
    }


def change(address: str, after: dict[str, Any], *, module: str = "",
           actions: Sequence[str] = ("create",)) -> dict[str, Any]:
    rtype, name = address.split(".")[-2:]
    item: dict[str, Any] = {"address": address, "mode": "managed", "type": rtype,
                            "name": name.split("[")[0],
                            "provider_name": "registry.terraform.io/hashicorp/aws",
                            "change": {"actions": list(actions), "before": None,
                                       "after": after, "after_unknown": {}}}
    if module:
        item["module_address"] = module
    return item


CONFIG = """\
version: 1
service: shop
region: us-east-1
terraform:
  working_directory: terraform
  var_files: ["env/{{env}}.tfvars"]
codebuild:
  artifacts: s3://shop-artifacts/plans
environments:
  dev: {{branch: dev, apply: auto}}
gates:
{gates}
"""


def make_repo(root: Path, gates: str = "  security: {fail_on: high}",
              tf: str = 'variable "environment" {\n  type = string\n}\n') -> Path:
    """A repository with lmi-delivery.yml (``gates`` indented YAML) and terraform/main.tf."""
    (root / "terraform" / "env").mkdir(parents=True, exist_ok=True)
    (root / "terraform" / "main.tf").write_text(tf)
    (root / "terraform" / "env" / "dev.tfvars").write_text('environment = "dev"\n')
    config = root / "lmi-delivery.yml"
    config.write_text(CONFIG.format(gates=gates))
    return config


def write_plan(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def invoke(args: Sequence[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``gates ARGS``; return the exit code ``lmi-delivery`` would exit with, stdout, stderr."""
    result = CliRunner().invoke(gates_group, list(args), env=env, standalone_mode=False)
    error = result.exception
    if isinstance(error, LmiError):
        return error.exit_code, result.stdout, str(error)
    if error is not None and not isinstance(error, SystemExit):
        raise error
    return result.exit_code, result.stdout, result.stderr
