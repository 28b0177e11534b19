"""Helpers shared by the configuration tests: a base config and a throwaway repository."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

BASE = """\
version: 1
service: shop
region: us-east-1
terraform:
  working_directory: terraform
  var_files: ["env/{env}.tfvars"]
codebuild:
  artifacts: s3://shop-artifacts/plans
environments:
  dev: {branch: dev, apply: auto}
  prod: {branch: main}
capacity_providers:
  shared: {}
functions:
  router:
    capacity_provider: shared
    scaling: {min: 1, max: 4}
"""

WriteConfig = Callable[[str], Path]


def make_repo(root: Path, envs: tuple[str, ...] = ("dev", "prod")) -> Path:
    """A repository root holding ``terraform/main.tf`` and one tfvars file per environment."""
    (root / "terraform" / "env").mkdir(parents=True, exist_ok=True)
    (root / "terraform" / "main.tf").write_text('variable "environment" {\n  type = string\n}\n')
    for env in envs:
        (root / "terraform" / "env" / f"{env}.tfvars").write_text(f'environment = "{env}"\n')
    return root
