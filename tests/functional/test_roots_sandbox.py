"""Several Terraform roots: the monorepo example in a real git repository, the dry run saying
which roots run and why, and runs through the sandbox's CodeBuild with the real Terraform:
applies in dependency order (the builds' start and end times prove it), each bound to its own
root's plan build, and a failing provider apply that starts no service apply."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lmi_delivery.config import load
from lmi_delivery.config.roots import ROOT_VARIABLE
from lmi_delivery.errors import GateRefused
from lmi_delivery.execute.executor import execute_all
from lmi_delivery.execute.sandbox_run import create_projects, snapshot
from lmi_delivery.execute.services import make_services
from lmi_delivery.plan.events import ContextFlags
from lmi_delivery.plan.prepare import PlanRequest, make_plans
from lmi_delivery.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "platform-monorepo"
GIT = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
       "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}


class Repo:
    """A git repository holding a copy of the monorepo example, on branch dev."""

    def __init__(self, path: Path) -> None:
        shutil.copytree(EXAMPLE, path)
        self.path = path
        self.git("init", "-q", "-b", "dev")
        self.first = self.commit("the platform", {})

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, check=True, capture_output=True,
                              text=True, env={**os.environ, **GIT}).stdout.strip()

    def commit(self, message: str, files: dict[str, str | None]) -> str:
        for name, text in files.items():
            target = self.path / name
            if text is None:
                self.git("rm", "-q", name)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def append(self, name: str, text: str) -> str:
        return (self.path / name).read_text(encoding="utf-8") + text

    def event(self, tmp: Path, payload: dict[str, Any]) -> Path:
        path = tmp / "event.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        return path


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def dry_run(repo: Repo, event: str, event_file: Path, *extra: str) -> subprocess.CompletedProcess[
        str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "lmi_delivery", "plan", "--config",
         str(repo.path / "lmi-delivery.yml"), "--env", "dev", "--event", event, "--event-file",
         str(event_file), "--offline", *extra], capture_output=True, text=True, env=env,
        timeout=120, check=False)


def test_a_pull_request_touching_one_service_plans_only_that_root(repo: Repo,
                                                                  tmp_path: Path) -> None:
    head = repo.commit("orders: a new release", {
        "services/orders/env/dev.tfvars": 'environment = "dev"\nrelease     = "2026.12.1"\n'})
    payload = {"number": 7, "pull_request": {"number": 7, "base": {"ref": "dev",
                                                                   "sha": repo.first},
                                             "head": {"ref": "orders", "sha": head}}}
    result = dry_run(repo, "pull_request", repo.event(tmp_path, payload))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "Terraform roots for dev: 1 of 3 run",
        "  runs   orders: services/orders/env/dev.tfvars changed",
        "  skips  provider: no change to its files",
        "  skips  search: no change to its files",
    ]
    as_json = dry_run(repo, "pull_request", repo.event(tmp_path, payload), "--format", "json")
    [plan] = json.loads(as_json.stdout)
    assert plan["root"] == {"key": "orders", "depends_on": ["provider"]}
    assert plan["mode"] == "review"
    steps = [s for stage in plan["stages"] for s in stage["steps"]]
    [build] = [s for s in steps if s["kind"] == "start-build"]
    assert {"name": ROOT_VARIABLE, "value": "orders", "type": "PLAINTEXT"} in \
        build["environment_variables"]
    assert {s["working_directory"] for s in steps if s["kind"] == "terraform"} == {
        "services/orders"}
    # --all-roots runs every root whatever changed.
    forced = dry_run(repo, "pull_request", repo.event(tmp_path, payload), "--all-roots")
    assert "Terraform roots for dev: 3 of 3 run" in forced.stdout


def test_a_change_to_the_provider_or_a_shared_module_runs_what_depends_on_it(
        repo: Repo, tmp_path: Path) -> None:
    head = repo.commit("provider: more vCPUs", {
        "platform/provider/env/dev.tfvars": 'environment    = "dev"\nmax_vcpu_count = 48\n'})
    push = {"ref": "refs/heads/dev", "before": repo.first, "after": head}
    result = dry_run(repo, "push", repo.event(tmp_path, push))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "Terraform roots for dev: 3 of 3 run",
        "  runs   provider: platform/provider/env/dev.tfvars changed",
        "  runs   orders (after provider): depends on provider, which runs",
        "  runs   search (after provider): depends on provider, which runs",
    ]
    later = repo.commit("release module: a tag", {
        "modules/release/main.tf": repo.append("modules/release/main.tf", "# tagged\n")})
    push = {"ref": "refs/heads/dev", "before": head, "after": later}
    result = dry_run(repo, "push", repo.event(tmp_path, push))
    assert result.stdout.splitlines()[:4] == [
        "Terraform roots for dev: 2 of 3 run",
        "  runs   orders: modules/release/main.tf changed in module modules/release",
        "  runs   search: modules/release/main.tf changed in module modules/release",
        "  skips  provider: no change to its files",
    ]


def _run(sandbox: Sandbox, repo: Repo, tmp_path: Path, before: str, after: str) -> tuple[
        list[Any], dict[str, list[dict[str, Any]]]]:
    """Plan and execute the push ``before..after`` on dev through the sandbox's CodeBuild;
    the executions and the sandbox's build records by project kind."""
    config = load(repo.path / "lmi-delivery.yml")
    env = config.environment("dev")
    source = tmp_path / f"source-{after[:8]}"
    commit = snapshot(config.root, source, dict(os.environ), [env.branch])
    codebuild = sandbox.client("codebuild")
    sandbox.seed_from_config(config, [env.name])
    known = set(codebuild.list_projects()["projects"])
    for name in known:
        codebuild.delete_project(name=name)
    create_projects(codebuild, config, env, source, sandbox.account_id)
    environ = {**os.environ, "AWS_ENDPOINT_URL": sandbox.endpoint_url, "AWS_REGION": "us-east-1"}
    event = repo.event(tmp_path, {"ref": "refs/heads/dev", "before": before, "after": after})
    roots = make_plans(PlanRequest(str(config.path), env.name, ContextFlags(
        event="push", event_file=str(event)), stand_in_commit=commit), environ, config=config)
    services = make_services(config, env, environ, 0.2, io.StringIO())
    executions = execute_all(list(roots.plans), services)
    records: dict[str, list[dict[str, Any]]] = {}
    for kind in ("tf-plan", "tf-apply", "post-deploy"):
        ids = codebuild.list_builds_for_project(projectName=f"platform-dev-{kind}")["ids"]
        builds = codebuild.batch_get_builds(ids=ids)["builds"] if ids else []
        records[kind] = sorted(builds, key=lambda b: b["startTime"])
    return executions, records


def _variables(build: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v["value"] for v in build["environment"]["environmentVariables"]}


def test_the_push_applies_in_dependency_order_each_apply_bound_to_its_roots_plan(
        sandbox: Sandbox, repo: Repo, tmp_path: Path) -> None:
    head = repo.commit("provider: more vCPUs", {
        "platform/provider/env/dev.tfvars": 'environment    = "dev"\nmax_vcpu_count = 48\n'})
    executions, builds = _run(sandbox, repo, tmp_path, repo.first, head)
    assert [e.error for e in executions] == [None, None, None]
    assert [e.report.plan.root for e in executions] == ["provider", "orders", "search"]
    plans = {_variables(b)[ROOT_VARIABLE]: b for b in builds["tf-plan"]}
    applies = {_variables(b)[ROOT_VARIABLE]: b for b in builds["tf-apply"]}
    assert sorted(plans) == sorted(applies) == ["orders", "provider", "search"]
    # The roots plan in parallel: every plan build started before the first one ended.
    assert max(b["startTime"] for b in plans.values()) < min(
        b["endTime"] for b in plans.values())
    # The provider applies first; the services' applies start once it ended, together.
    for service in ("orders", "search"):
        assert applies[service]["startTime"] >= applies["provider"]["endTime"]
    # Each apply build is bound to its own root's plan build and sha256.
    for key, apply in applies.items():
        bound = _variables(apply)
        plan_exports = {v["name"]: v.get("value", "")
                        for v in plans[key]["exportedEnvironmentVariables"]}
        assert bound["LMI_PLAN_BUILD_ID"] == plans[key]["id"]
        assert bound["LMI_PLAN_SHA256"] == plan_exports["LMI_PLAN_SHA256"]
        assert f"/roots/{key}/" in plan_exports["LMI_PLAN_URL"]
    assert len({_variables(b)["LMI_PLAN_SHA256"] for b in applies.values()}) == 3
    # Post-deploy runs for the functions of the roots that applied: the two services.
    assert sorted(_variables(b)[ROOT_VARIABLE] for b in builds["post-deploy"]) == [
        "orders", "search"]
    provider = executions[0].report.results["post-deploy"]
    assert (provider.outcome, provider.detail) == ("skipped", "root provider lists no functions")


def test_a_failing_provider_apply_starts_no_service_apply(sandbox: Sandbox, repo: Repo,
                                                         tmp_path: Path) -> None:
    # A provisioner runs at apply time only: the plan succeeds, the apply fails.
    failing = ('resource "terraform_data" "fails_at_apply" {\n  provisioner "local-exec" {\n'
               '    command = "exit 7"\n  }\n}\n')
    head = repo.commit("provider: a step that fails at apply", {
        "platform/provider/fails.tf": failing})
    executions, builds = _run(sandbox, repo, tmp_path, repo.first, head)
    provider, orders, search = executions
    assert provider.report.results["apply"].outcome == "failed"
    assert [_variables(b)[ROOT_VARIABLE] for b in builds["tf-apply"]] == ["provider"]
    assert builds["tf-apply"][0]["buildStatus"] == "FAILED"
    assert len(builds["tf-plan"]) == 3
    for service in (orders, search):
        result = service.report.results["apply"]
        assert result.outcome == "not-run"
        assert result.detail == "not started: root provider did not apply successfully"
        assert service.report.results["post-deploy"].outcome == "not-run"
        assert service.error is not None
        assert service.error.exit_code == 1
    assert builds["post-deploy"] == []


# -- the GitHub Action's pipeline (`lmi-delivery ci`) on the same repository -------------------

def _ci(sandbox: Sandbox, repo: Repo, tmp_path: Path, event: str, payload: dict[str, Any],
        sha: str, ref: str, **given: str) -> Any:
    from lmi_delivery.github.ci import Ci
    from lmi_delivery.github.context import CiInputs
    from lmi_delivery.github.rest import GithubRest

    tmp_path.mkdir(parents=True, exist_ok=True)
    event_path = tmp_path / f"{event}-{sha[:8]}.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    environ = {**os.environ, "AWS_ENDPOINT_URL": sandbox.endpoint_url,
               "AWS_REGION": "us-east-1", "GITHUB_ACTIONS": "true",
               "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_path),
               "GITHUB_SHA": sha, "GITHUB_REF": ref, "GITHUB_REPOSITORY": "acme/platform",
               "GITHUB_RUN_ID": "9", "RUNNER_TEMP": str(tmp_path),
               "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
               "GITHUB_OUTPUT": str(tmp_path / "output")}
    inputs = CiInputs(environment="dev", config=str(repo.path / "lmi-delivery.yml"),
                      comment_on_pr=False, **given)  # type: ignore[arg-type]
    return Ci(inputs, environ, io.StringIO(),
              rest_factory=lambda url, token: GithubRest(token, url)).run()


def _provision(sandbox: Sandbox, repo: Repo) -> None:
    config = load(repo.path / "lmi-delivery.yml")
    codebuild = sandbox.client("codebuild")
    sandbox.seed_from_config(config, ["dev"])
    for name in codebuild.list_projects()["projects"]:
        codebuild.delete_project(name=name)
    # The builds check out the repository itself, at the event's commit.
    create_projects(codebuild, config, config.environment("dev"), repo.path,
                    sandbox.account_id)


def test_the_action_reviews_one_root_then_the_approved_job_applies_each_roots_plan(
        sandbox: Sandbox, repo: Repo, tmp_path: Path) -> None:
    _provision(sandbox, repo)
    head = repo.commit("search: a new release", {
        "services/search/env/dev.tfvars": 'environment = "dev"\nrelease     = "2026.12.1"\n'})
    pr = {"number": 7, "pull_request": {"number": 7, "base": {"ref": "dev", "sha": repo.first},
                                        "head": {"ref": "search", "sha": head}}}
    review = _ci(sandbox, repo, tmp_path / "pr", "pull_request", pr, head,
                 "refs/pull/7/merge", command="plan")
    assert review.error is None, review.markdown
    assert review.outputs["roots"] == "search"
    assert len(review.outputs["build-ids"].split()) == 1
    assert review.outputs["build-ids"].startswith("platform-dev-tf-review:")
    # The environment's one comment: the root that runs, and the ones skipped with the reason.
    assert "1 of 3 run: `search`." in review.markdown
    assert "- `provider`: no change to its files" in review.markdown
    assert "#### Root `search`" in review.markdown
    # The push after the merge: the plan job plans every root the merge touches ...
    merged = repo.commit("provider: more vCPUs", {
        "platform/provider/env/dev.tfvars": 'environment    = "dev"\nmax_vcpu_count = 48\n'})
    push = {"ref": "refs/heads/dev", "before": repo.first, "after": merged}
    planned = _ci(sandbox, repo, tmp_path / "plan", "push", push, merged, "refs/heads/dev",
                  command="plan")
    assert planned.error is None, planned.markdown
    assert planned.outputs["roots"] == "provider orders search"
    builds = dict(pair.split("=") for pair in planned.outputs["plan-build-id"].split())
    shas = dict(pair.split("=") for pair in planned.outputs["plan-sha256"].split())
    assert sorted(builds) == sorted(shas) == ["orders", "provider", "search"]
    # ... and the approved job applies each root bound to its own plan build, in order.
    applied = _ci(sandbox, repo, tmp_path / "apply", "push", push, merged, "refs/heads/dev",
                  command="apply", plan_build_id=planned.outputs["plan-build-id"],
                  plan_sha256=planned.outputs["plan-sha256"])
    assert applied.error is None, applied.markdown
    stages = json.loads(applied.outputs["stages"])
    assert {root: s["apply"] for root, s in stages.items()} == dict.fromkeys(
        ["provider", "orders", "search"], "succeeded")
    codebuild = sandbox.client("codebuild")
    ids = codebuild.list_builds_for_project(projectName="platform-dev-tf-apply")["ids"]
    records = {_variables(b)[ROOT_VARIABLE]: b for b in codebuild.batch_get_builds(
        ids=ids)["builds"]}
    for key in builds:
        assert _variables(records[key])["LMI_PLAN_BUILD_ID"] == builds[key]
    for service in ("orders", "search"):
        assert records[service]["startTime"] >= records["provider"]["endTime"]
    # Post-deploy for the functions of the roots that applied: the provider lists none.
    assert stages["provider"]["post-deploy"] == "skipped"
    ids = codebuild.list_builds_for_project(projectName="platform-dev-post-deploy")["ids"]
    assert sorted(_variables(b)[ROOT_VARIABLE] for b in codebuild.batch_get_builds(
        ids=ids)["builds"]) == ["orders", "search"]
    # Swapping two roots' plan builds is refused before anything starts.
    swapped = f"provider={builds['orders']} orders={builds['provider']}"
    with pytest.raises(GateRefused, match="it planned Terraform root orders, not provider"):
        _ci(sandbox, repo, tmp_path / "swap", "push", push, merged, "refs/heads/dev",
            command="apply", plan_build_id=swapped)
    assert len(codebuild.list_builds_for_project(projectName="platform-dev-tf-apply")[
        "ids"]) == 3
