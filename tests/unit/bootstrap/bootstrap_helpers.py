"""A config that uses every part of the plane, and the planes of the tests."""

from __future__ import annotations

from pathlib import Path

from lmi_delivery.bootstrap import Plane, build_plane
from lmi_delivery.config import load

ACCOUNT = "123456789012"
REPOSITORY = "acme/shop"

FULL = """\
version: 1
service: shop
region: eu-west-1
github: {repository: acme/shop, default_branch: trunk}
terraform:
  working_directory: terraform
  var_files: ["env/{env}.tfvars"]
  backend_config: ["bucket=shop-tfstate", "key=tf/{service}/{env}.tfstate"]
  manages:
    resources: [capacity_providers, functions, log_groups]
    pass_roles: ["{service}-{env}-exec", "{service}-{env}-operator"]
codebuild:
  artifacts: s3://shop-artifacts/plans
  timeout_minutes: 45
  queued_timeout_minutes: 120
  plan_retention_days: 14
  secrets:
    TF_VAR_token: ssm:/shop/{env}/token
    REVIEW_KEY: {ref: "secretsmanager:shop/review", review: true}
environments:
  dev: {branch: dev, apply: auto, account_id: "123456789012"}
  prod: {branch: main, apply: approval, account_id: "123456789012", require_distinct_approver: true}
capacity_providers:
  shared: {}
functions:
  router:
    capacity_provider: shared
    scaling: {min: 1, max: 4}
    warm: {concurrency: 2, schedule: "rate(5 minutes)"}
    canary: {weight: 0.1, minutes: 5, alarms: [shop-router-errors]}
  worker:
    capacity_provider: shared
"""


def make_repo(root: Path, text: str = FULL) -> Path:
    (root / "terraform" / "env").mkdir(parents=True, exist_ok=True)
    (root / "terraform" / "main.tf").write_text('variable "environment" {\n  type = string\n}\n')
    for env in ("dev", "prod"):
        (root / "terraform" / "env" / f"{env}.tfvars").write_text(f'environment = "{env}"\n')
    path = root / "lmi-delivery.yml"
    path.write_text(text, encoding="utf-8")
    return path


def plane(root: Path, env: str = "dev", text: str = FULL) -> Plane:
    config = load(make_repo(root, text))
    return build_plane(config, config.environment(env), repository=REPOSITORY, account=ACCOUNT)
