"""Doctor rules on small repositories written per test: what is and is not a finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmi_delivery.config import load
from lmi_delivery.doctor import Finding, diagnose

CONFIG = """\
version: 1
service: agent-core
region: us-east-1
terraform: {version: 1.12.2, working_directory: infra, var_files: ["env/{env}.tfvars"]}
codebuild:
  projects: {plan: "{service}-{env}-tf-plan", apply: "{service}-{env}-tf-apply"}
  artifacts: s3://bucket/plans
environments:
  dev: {branch: dev, apply: auto}
  prod: {branch: main, apply: approval}
"""

#: A root whose state is shared and locked (LMD009 has nothing to say about it).
LOCKED_ROOT = 'terraform {\n  backend "s3" {\n    use_lockfile = true\n  }\n}\n'


def doctor(tmp_path: Path, files: dict[str, str]) -> list[Finding]:
    all_files = {"lmi-delivery.yml": CONFIG, "infra/main.tf": LOCKED_ROOT,
                 "infra/env/dev.tfvars": "", "infra/env/prod.tfvars": "", **files}
    for name, text in all_files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return diagnose(load(tmp_path / "lmi-delivery.yml"))


def rules(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(f.rule_id, f.location.line) for f in findings]


def workflow(on: str, steps: str, job_extra: str = "") -> str:
    return (f"on: {on}\njobs:\n  j:\n    runs-on: ubuntu-latest\n{job_extra}"
            f"    steps:\n{steps}")


@pytest.mark.parametrize(("steps", "expected"), [
    ("      - run: lmi-delivery terraform apply --env dev\n", [("LMD001", 6)]),
    ("      - run: terraform -chdir=infra destroy -auto-approve\n", [("LMD001", 6)]),
    ("      - uses: org/lmi-delivery@v1\n        with: {command: prune, dry-run: true}\n", []),
    ("      - uses: org/lmi-delivery@v1\n        with: {command: prune}\n", [("LMD001", 7)]),
    ("      - uses: org/lmi-delivery@v1\n        with: {command: post-deploy}\n",
     [("LMD001", 7)]),
    ("      - uses: org/lmi-delivery@v1\n", []),  # the default command is plan
    ("      - run: lmi-delivery plan --env dev && terraform -chdir=infra plan\n", []),
    ("      - if: github.event_name == 'push'\n        run: lmi-delivery run --env dev\n", []),
])
def test_apply_on_pull_request(tmp_path: Path, steps: str,
                               expected: list[tuple[str, int]]) -> None:
    files = {".github/workflows/w.yml": workflow("[push, pull_request_target]", steps)}
    assert rules(doctor(tmp_path, files)) == expected


def test_job_guard_keeps_apply_off_pull_requests(tmp_path: Path) -> None:
    files = {".github/workflows/w.yml": workflow(
        "[push, pull_request]", "      - run: lmi-delivery run --env dev\n",
        "    if: github.event_name != 'pull_request'\n")}
    assert doctor(tmp_path, files) == []


SECURITY = "name: Security\non: push\njobs:\n  s:\n    runs-on: x\n    steps:\n      - run: {}\n"
DEPLOY = ("on:\n  workflow_run:\n    workflows: [{}]\n    types: [completed]\n"
          "jobs:\n  d:\n    runs-on: x\n    steps:\n{}")
APPLY = "      - run: terraform -chdir=infra apply -auto-approve\n"


@pytest.mark.parametrize(("upstream_step", "deploy_steps", "expected"), [
    ("trivy fs .", APPLY, [("LMD002", 3)]),
    ("terraform -chdir=infra plan", APPLY, []),  # the upstream plans
    ("trivy fs .", "      - run: terraform -chdir=infra plan\n" + APPLY, []),
    ("trivy fs .", "      - run: echo hello\n", []),  # does not deploy
])
def test_deploy_gated_on_security_only(tmp_path: Path, upstream_step: str, deploy_steps: str,
                                       expected: list[tuple[str, int]]) -> None:
    files = {".github/workflows/security.yml": SECURITY.format(upstream_step),
             ".github/workflows/deploy.yml": DEPLOY.format("Security", deploy_steps)}
    assert rules(doctor(tmp_path, files)) == expected


def test_unknown_upstream_is_judged_by_its_name(tmp_path: Path) -> None:
    files = {".github/workflows/deploy.yml": DEPLOY.format("CodeQL scan", APPLY),
             ".github/workflows/other.yml": DEPLOY.format("Build", APPLY)}
    assert rules(doctor(tmp_path, files)) == [("LMD002", 3)]


@pytest.mark.parametrize(("env", "expected"), [
    ("{A: '${{ secrets.TOKEN }}', B: '${{ secrets.DEV_KEY }}'}", [("LMD004", 7)]),
    ("{A: '${{ secrets.PROD_KEY }}', B: '${{ secrets.GITHUB_TOKEN }}'}", []),
    ("{A: '${{ secrets.TOKEN }}', B: '${{ secrets.OTHER }}'}", []),
    ("{A: '${{ secrets.KEY_PRODUCTION }}', B: '${{ secrets.NPM }}'}", [("LMD004", 7)]),
])
def test_mixed_secrets(tmp_path: Path, env: str, expected: list[tuple[str, int]]) -> None:
    steps = f"      - run: echo\n        env: {env}\n"
    assert rules(doctor(tmp_path, {".github/workflows/w.yml": workflow("push", steps)})) \
        == expected


@pytest.mark.parametrize(("step", "expected"), [
    ("      - run: terraform -chdir=infra plan\n", []),
    ("      - run: terraform -chdir=./infra/ init\n", []),
    ("      - run: terraform plan\n", [("LMD005", 6)]),
    ("      - run: terraform version\n", []),
    ("      - run: cd infra/modules && terraform -chdir=.. validate\n", []),
    ("      - run: cd infra && terraform validate\n", [("LMD008", 6)]),
    ("      - run: terraform validate\n        working-directory: infra\n", []),
    ("      - run: terraform validate\n        working-directory: other\n", [("LMD005", 6)]),
    ("      - run: cd \"$DIR\" && terraform plan\n", []),  # unknowable: not judged
    ("      - run: |\n          echo start\n          cd $GITHUB_WORKSPACE\n"
     "          terraform \\\n            plan\n", [("LMD005", 9)]),
])
def test_terraform_directory(tmp_path: Path, step: str, expected: list[tuple[str, int]]) -> None:
    assert rules(doctor(tmp_path, {".github/workflows/w.yml": workflow("push", step)})) \
        == expected


def test_buildspec_cd_carries_across_phases(tmp_path: Path) -> None:
    spec = ("version: 0.2\nphases:\n  install:\n    commands:\n      - cd infra\n"
            "  build:\n    commands:\n      - terraform plan\n      - cd .. && terraform plan\n")
    assert rules(doctor(tmp_path, {"buildspecs/plan.yml": spec})) == [
        ("LMD008", 8), ("LMD005", 9)]


@pytest.mark.parametrize(("files", "expected"), [
    ({".tool-versions": "python 3.11.9\nterraform 1.12.0\n"}, [("LMD006", 2)]),
    ({".tool-versions": "terraform 1.12.2\n"}, []),
    ({"infra/versions.tf": 'terraform {\n  required_version = "~> 1.11.0"\n}\n'},
     [("LMD006", 2)]),
    ({"infra/versions.tf": 'terraform {\n  required_version = ">= 1.5, < 2.0"\n}\n'}, []),
    ({"buildspecs/b.yml": "version: 0.2\nenv:\n  variables:\n    TF_VERSION: 1.9.8\n"},
     [("LMD006", 4)]),
    ({"buildspecs/b.yml": "version: 0.2\nphases:\n  install:\n    commands:\n      - curl -sO "
      "https://releases.hashicorp.com/terraform/1.8.0/terraform_1.8.0_linux_amd64.zip\n"},
     [("LMD006", 5)]),
])
def test_terraform_versions(tmp_path: Path, files: dict[str, str],
                            expected: list[tuple[str, int]]) -> None:
    assert rules(doctor(tmp_path, files)) == expected


def test_doc_references(tmp_path: Path) -> None:
    readme = ("See [config](lmi-delivery.yml), [site](https://example.com/x.md), [top](#top),\n"
              "[missing](docs/none.md#part), `infra/main.tf`, `hashicorp/aws`, `env/{env}.tfvars`"
              "\n\n[ref]: ./infra/gone.tf\n")
    assert rules(doctor(tmp_path, {"README.md": readme, "docs/guide.md": "[up](../README.md)\n"})) \
        == [("LMD007", 2), ("LMD007", 4)]


def test_names_near_but_not_derived(tmp_path: Path) -> None:
    tf = ('locals {\n  plan = "agent-core-dev-tf-plan"\n  # "agent-core-dev-tf-pln" in a comment\n'
          '  typo = "x-${var.a}-agent-core-prod-tf-aplly"\n  other = "agent-core-artifacts"\n}\n')
    assert rules(doctor(tmp_path, {"infra/names.tf": tf})) == [("LMD003", 4)]


#: lmi-delivery.yml with the three knobs post-deploy owns for clm-router.
OWNED = CONFIG + """\
functions:
  clm-router:
    alias: live
    scaling: {min: 2, max: 8}
    warm: {concurrency: 2, schedule: "rate(5 minutes)"}
"""
NAMES = """\
variable "environment" {
  type = string
}

locals {
  router = "agent-core-${var.environment}-clm-router"
}

resource "aws_lambda_function" "router" {
  function_name = local.router
}
"""


@pytest.mark.parametrize(("tf", "expected"), [
    ('resource "aws_lambda_function_scaling_config" "router" {\n'
     "  function_name = aws_lambda_function.router.function_name\n"
     '  qualifier     = "$LATEST.PUBLISHED"\n}\n', [("LMD012", 1)]),
    ('resource "aws_lambda_function_scaling_config" "router" {\n'
     "  function_name = aws_lambda_function.router.arn\n"
     '  qualifier     = "1"\n}\n', [("LMD012", 1)]),
    ('resource "aws_cloudwatch_event_rule" "warm" {\n'
     '  name                = "${local.router}-warm"\n'
     '  schedule_expression = "rate(5 minutes)"\n}\n\n'
     'resource "aws_cloudwatch_event_target" "warm" {\n'
     "  rule = aws_cloudwatch_event_rule.warm.name\n"
     "  arn  = aws_lambda_function.router.arn\n}\n", [("LMD012", 1), ("LMD012", 6)]),
    ('resource "aws_cloudwatch_event_target" "ours" {\n'
     '  rule      = "nightly"\n  target_id = "lmi-delivery-warmup"\n'
     '  arn       = "${aws_lambda_function.router.arn}:live"\n}\n', [("LMD012", 1)]),
    ('resource "aws_lambda_alias" "live" {\n  name          = "live"\n'
     "  function_name = aws_lambda_function.router.function_name\n}\n", [("LMD012", 1)]),
    ('resource "aws_lambda_alias" "live" {\n  name          = "live"\n'
     "  function_name = aws_lambda_function.router.function_name\n"
     "  lifecycle {\n    ignore_changes = [function_version]\n  }\n}\n", [("LMD012", 1)]),
    # one owner each: not findings
    ('resource "aws_lambda_alias" "live" {\n  name          = "live"\n'
     "  function_name = aws_lambda_function.router.function_name\n"
     "  lifecycle {\n    ignore_changes = [function_version, routing_config]\n  }\n}\n", []),
    ('resource "aws_lambda_alias" "beta" {\n  name          = "beta"\n'
     "  function_name = aws_lambda_function.router.function_name\n}\n", []),
    ('resource "aws_lambda_function_scaling_config" "other" {\n'
     '  function_name = "agent-core-dev-other"\n  qualifier     = "1"\n}\n', []),
    ('resource "aws_cloudwatch_event_rule" "report" {\n'
     '  name = "${local.router}-report"\n}\n', []),
    ('resource "aws_cloudwatch_event_rule" "elsewhere" {\n'
     '  name           = "${local.router}-warm"\n  event_bus_name = "audit"\n}\n', []),
    ('resource "aws_lambda_function_scaling_config" "unknown" {\n'
     "  function_name = data.aws_lambda_function.shared.function_name\n}\n", []),
])
def test_knobs_with_two_owners(tmp_path: Path, tf: str,
                               expected: list[tuple[str, int]]) -> None:
    found = doctor(tmp_path, {"lmi-delivery.yml": OWNED, "infra/names.tf": NAMES,
                              "infra/env/dev.tfvars": 'environment = "dev"\n',
                              "infra/env/prod.tfvars": 'environment = "prod"\n',
                              "infra/owned.tf": tf})
    owned = [f for f in found if f.rule_id == "LMD012"]
    assert rules(owned) == expected
    assert all(f.location.file.endswith("infra/owned.tf") for f in owned)
    assert all("lmi-delivery.yml:" in f.message and "functions.clm-router." in f.message
               for f in owned)


def test_two_owners_only_for_what_post_deploy_runs(tmp_path: Path) -> None:
    tf = ('resource "aws_lambda_function_scaling_config" "router" {\n'
          "  function_name = aws_lambda_function.router.function_name\n}\n")
    config = OWNED + "post_deploy:\n  steps: [publish, alias, warm, prune]\n"
    found = doctor(tmp_path, {"lmi-delivery.yml": config, "infra/names.tf": NAMES,
                              "infra/env/dev.tfvars": 'environment = "dev"\n',
                              "infra/owned.tf": tf})
    assert [f for f in found if f.rule_id == "LMD012"] == []
