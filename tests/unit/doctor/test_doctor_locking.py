"""LMD009 (state not shared or not locked) and LMD010 (planning again after the approval)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmi_delivery.config import load
from lmi_delivery.doctor import Finding, diagnose
from lmi_delivery.doctor.hcl import attributes, blocks, masked

CONFIG = """\
version: 1
service: agent-core
region: us-east-1
terraform: {version: 1.12.2, working_directory: infra, var_files: ["env/{env}.tfvars"]BACKEND}
codebuild:
  projects: {plan: "{service}-{env}-tf-plan", apply: "{service}-{env}-tf-apply"}
  artifacts: s3://bucket/plans
environments:
  dev: {branch: dev, apply: auto}
  prod: {branch: main, apply: approval}
"""
LOCKED = 'terraform {\n  backend "s3" {\n    use_lockfile = true\n  }\n}\n'


def doctor(tmp_path: Path, files: dict[str, str], backend_config: str = "") -> list[Finding]:
    config = CONFIG.replace("BACKEND", f", backend_config: {backend_config}"
                            if backend_config else "")
    all_files = {"lmi-delivery.yml": config, "infra/main.tf": LOCKED,
                 "infra/env/dev.tfvars": "", "infra/env/prod.tfvars": "", **files}
    for name, text in all_files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return diagnose(load(tmp_path / "lmi-delivery.yml"))


def where(tmp_path: Path, findings: list[Finding]) -> list[tuple[str, str, int]]:
    return [(f.rule_id, Path(f.location.file).relative_to(tmp_path).as_posix(), f.location.line)
            for f in findings]


@pytest.mark.parametrize(("files", "expected"), [
    ({"infra/main.tf": 'terraform {\n  required_version = "= 1.12.2"\n}\n'},
     [("LMD009", "infra/main.tf", 1)]),
    ({"infra/main.tf": "# no terraform block\n"}, [("LMD009", "lmi-delivery.yml", 4)]),
    ({"infra/main.tf": 'terraform {\n  backend "local" {}\n}\n'},
     [("LMD009", "infra/main.tf", 2)]),
    ({"infra/main.tf": 'terraform {\n  backend "s3" {}\n}\n'}, [("LMD009", "infra/main.tf", 2)]),
    ({"infra/main.tf": 'terraform {\n  backend "s3" {\n    use_lockfile = false\n  }\n}\n'},
     [("LMD009", "infra/main.tf", 3)]),
    ({"infra/main.tf": 'terraform {\n  backend "s3" { dynamodb_table = "tf-locks" }\n}\n'}, []),
    ({"infra/main.tf": 'terraform {\n  cloud {\n    organization = "acme"\n  }\n}\n'}, []),
    ({"infra/main.tf": 'terraform {\n  backend "gcs" {\n    bucket = "state"\n  }\n}\n'}, []),
    # A backend in a module is not the root's; one in another file of the root is.
    ({"infra/main.tf": "# root\n", "infra/modules/state/main.tf": LOCKED},
     [("LMD009", "lmi-delivery.yml", 4)]),
    ({"infra/main.tf": "# root\n", "infra/versions.tf": LOCKED}, []),
    # Commented out, or inside a string, is not a backend.
    ({"infra/main.tf": 'terraform {\n  # backend "s3" { use_lockfile = true }\n}\n'},
     [("LMD009", "infra/main.tf", 1)]),
    ({"infra/main.tf": 'terraform {\n  /*\n  backend "s3" {\n    use_lockfile = true\n  }\n  */\n'
      '  backend "s3" {\n    key = "use_lockfile = true"\n  }\n}\n'},
     [("LMD009", "infra/main.tf", 7)]),
])
def test_state_backend_must_be_shared_and_lock(tmp_path: Path, files: dict[str, str],
                                                expected: list[tuple[str, str, int]]) -> None:
    assert where(tmp_path, doctor(tmp_path, files)) == expected


@pytest.mark.parametrize(("backend_config", "expected"), [
    ('["key={service}/{env}/terraform.tfstate", "use_lockfile=true"]', []),
    ('["dynamodb_table=tf-locks"]', []),
    ('["key={service}/{env}/terraform.tfstate"]', [("LMD009", "infra/main.tf", 2)]),
    ('["use_lockfile=false"]', [("LMD009", "infra/main.tf", 2)]),
    ('["backend/{env}.s3.tfbackend"]', []),  # a file can say anything: not judged
])
def test_backend_config_counts(tmp_path: Path, backend_config: str,
                               expected: list[tuple[str, str, int]]) -> None:
    files = {"infra/main.tf": 'terraform {\n  backend "s3" {}\n}\n'}
    assert where(tmp_path, doctor(tmp_path, files, backend_config)) == expected


def test_the_message_says_what_to_write(tmp_path: Path) -> None:
    [finding] = doctor(tmp_path, {"infra/main.tf": 'terraform {\n  backend "local" {}\n}\n'})
    assert finding.level == "error"
    assert 'backend "s3" with use_lockfile = true' in finding.message


PLAN_JOB = """\
  plan:
    runs-on: ubuntu-latest
    steps:
      - uses: org/lmi-delivery@v1
        with: {command: plan, environment: prod}
"""


def deploy(job: str) -> str:
    return "name: Deploy\non: push\njobs:\n" + PLAN_JOB + job


@pytest.mark.parametrize(("job", "expected"), [
    ("  apply:\n    needs: plan\n    environment: prod\n    runs-on: x\n    steps:\n"
     "      - uses: org/lmi-delivery@v1\n        with:\n          command: run\n",
     [("LMD010", 16)]),
    ("  apply:\n    needs: [plan]\n    environment: {name: prod, url: 'https://x'}\n"
     "    runs-on: x\n    steps:\n      - uses: org/lmi-delivery@v1\n"
     "        with: {command: post-deploy}\n", [("LMD010", 15)]),
    # Applying the plan job's plan is the point.
    ("  apply:\n    needs: [plan]\n    environment: prod\n    runs-on: x\n    steps:\n"
     "      - uses: org/lmi-delivery@v1\n        with: {command: apply}\n", []),
    # No approval in between: nothing was approved that could differ.
    ("  apply:\n    needs: plan\n    runs-on: x\n    steps:\n"
     "      - uses: org/lmi-delivery@v1\n        with: {command: run}\n", []),
    # A job that does not follow the plan job plans and applies by itself.
    ("  deploy:\n    environment: prod\n    runs-on: x\n    steps:\n"
     "      - uses: org/lmi-delivery@v1\n        with: {command: run}\n", []),
    # Post-deploy after an approved apply job (not after the plan job) is the template's shape.
    ("  apply:\n    needs: plan\n    environment: prod\n    runs-on: x\n    steps:\n"
     "      - uses: org/lmi-delivery@v1\n        with: {command: apply}\n"
     "  post:\n    needs: [plan, apply]\n    environment: prod\n    runs-on: x\n    steps:\n"
     "      - uses: org/lmi-delivery@v1\n        with: {command: post-deploy}\n",
     [("LMD010", 22)]),
    ("  apply:\n    needs: plan\n    environment: prod\n    runs-on: x\n    steps:\n"
     "      - uses: org/lmi-delivery@v1\n        with: {command: apply}\n"
     "  post:\n    needs: apply\n    environment: prod\n    runs-on: x\n    steps:\n"
     "      - uses: org/lmi-delivery@v1\n        with: {command: post-deploy}\n", []),
])
def test_an_approved_job_must_not_plan_again(tmp_path: Path, job: str,
                                             expected: list[tuple[str, int]]) -> None:
    findings = doctor(tmp_path, {".github/workflows/deploy.yml": deploy(job)})
    assert [(f.rule_id, f.location.line) for f in findings] == expected


def test_the_replan_message_names_both_jobs(tmp_path: Path) -> None:
    job = ("  apply:\n    needs: plan\n    environment: prod\n    runs-on: x\n    steps:\n"
           "      - uses: org/lmi-delivery@v1\n        with: {command: run}\n")
    [finding] = doctor(tmp_path, {".github/workflows/deploy.yml": deploy(job)})
    assert finding.level == "error"
    assert "job 'apply' waits for its environment's approval, then plans again" in finding.message
    assert "job 'plan' already planned" in finding.message
    assert "command: apply" in finding.message


def test_hcl_reader_skips_comments_strings_and_heredocs() -> None:
    text = ('# terraform { backend "local" {} }\nlocals {\n  doc = <<EOT\nterraform {\n'
            '  backend "local" {}\n}\nEOT\n  brace = "${format("}")}"\n}\n'
            'terraform {\n  backend "s3" { use_lockfile = true } // one line\n}\n')
    shape = masked(text)
    assert len(shape) == len(text)
    found = [b for b in blocks(text, shape) if b.type == "terraform"]
    assert len(found) == 1
    [backend] = blocks(text, shape, *found[0].body)
    assert (backend.type, backend.labels) == ("backend", ("s3",))
    assert [(a.name, a.value) for a in attributes(text, shape, backend)] == [
        ("use_lockfile", "true")]
