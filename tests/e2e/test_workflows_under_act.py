"""The workflow templates (``workflows/*.yml``), run by a real workflow engine against the sandbox.

``act`` runs each template from the ``.github/workflows/`` of a throwaway repository, jobs on
the host, offline (:mod:`act_harness`). What the pipeline did is read where it cannot be faked
by the code under test: the sandbox's CodeBuild records (``ListBuildsForProject``,
``BatchGetBuilds`` and the variables builds export), the artifacts bucket, and the fake GitHub
API's request log. act does not model environments with required reviewers: the fake API
answers this run's approvals with an approval (what GitHub answers once the reviewers approved).
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import webhook_payloads
import yaml
from act_harness import (
    ACTION_UNDER_TEST,
    AUTHOR,
    DEPLOY_SECRET,
    REPOSITORY,
    ActRun,
    SandboxServer,
    World,
    exported,
)

from lmi_delivery.config import naming
from lmi_delivery.config.model import PROJECT_KEYS
from lmi_delivery.execute.sandbox_run import sandbox_secret_value
from lmi_delivery.github.comments import marker

# One worker runs the module (pytest-xdist's loadgroup): act_world, the runner's Python and the
# sandbox server it starts, is built once, not once per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("act")]

SHA256 = re.compile(r"[0-9a-f]{64}")


class Checks:
    """Collects every failed expectation of a test, then fails once with all of them: a run
    under act takes seconds, and one run should say everything that is wrong with it."""

    def __init__(self, *runs: ActRun) -> None:
        self.failures: list[str] = []
        self.runs = list(runs)

    def __call__(self, ok: bool, message: str) -> bool:
        if not ok:
            self.failures.append(message)
        return ok

    def done(self) -> None:
        if self.failures:
            tails = "\n\n".join(f"--- the last 60 lines of {r.log_path} ---\n{r.tail(60)}"
                                for r in self.runs)
            pytest.fail("\n".join(f"- {f}" for f in self.failures) + "\n\n" + tails,
                        pytrace=False)


def matrix_environments(world: World, workflow: str, job: str) -> list[str]:
    data = yaml.safe_load((world.repo.path / ".github" / "workflows" / workflow).read_text(
        encoding="utf-8"))
    return list(data["jobs"][job]["strategy"]["matrix"]["environment"])


def builds_by_stage(world: World, env_name: str) -> dict[str, list[dict[str, Any]]]:
    """``plan``, ``apply``, ``post_deploy`` (and ``review`` where the config has it) -> builds."""
    env = world.config.environment(env_name)
    return {key: world.sandbox.builds(naming.project_name(world.config, env, key))
            for key in PROJECT_KEYS}


def require_success(run: ActRun) -> None:
    assert run.returncode == 0, (f"act exited {run.returncode} after {run.seconds:.0f} s; jobs: "
                                 f"{run.job_results}\n{run.tail()}")


# -- the sandbox the workflows run against ----------------------------------------------------

def test_sandbox_serve_provisions_what_run_sandbox_provisions(world: World,
                                                              tmp_path: Path) -> None:
    """``serve --config``: every environment's CodeBuild projects (building from the config's
    repository), functions, the artifacts bucket and, here from a config naming one, the
    secrets ``codebuild.secrets`` references."""
    codebuild = world.sandbox.client("codebuild")
    for env in world.config.environments.values():
        for key in PROJECT_KEYS:
            name = naming.project_name(world.config, env, key)
            [project] = codebuild.batch_get_projects(names=[name])["projects"]
            assert project["source"]["location"] == str(world.repo.path), name
        for function in naming.derived_names(world.config, env).functions.values():
            world.sandbox.client("lambda").get_function(FunctionName=function)
    bucket = naming.artifact_location(world.config).bucket
    assert bucket in {b["Name"] for b in world.sandbox.client("s3").list_buckets()["Buckets"]}

    config = tmp_path / "lmi-delivery.yml"
    config.write_text(world.repo.config.read_text(encoding="utf-8").replace(
        "  secrets:\n", '  secrets:\n    TF_VAR_api_token: "ssm:/{service}/{env}/api-token"\n'),
        encoding="utf-8")
    shutil.copytree(world.repo.path / "terraform", tmp_path / "terraform")
    with SandboxServer(config, tmp_path / "sandbox") as other:
        names = {p["Name"] for p in other.client("ssm").describe_parameters()["Parameters"]}
    assert names == {f"/quickstart/{env}/{name}" for env in world.config.environments
                     for name in ("api-token", "deploy-token")}


# -- pull request ----------------------------------------------------------------------------

#: A resource dev's state has and the pull request's root does not: its first plan deletes it.
LEGACY = 'resource "terraform_data" "legacy_router" {\n  input = "retired"\n}\n'
LEGACY_ADDRESS = "terraform_data.legacy_router"


@dataclass
class PullRequestRuns:
    """Two runs of pull-request.yml for one pull request into dev, and what they left in the
    sandbox and the fake API. Before the first, dev's state holds :data:`LEGACY` besides what
    the pull request declares, so its plan deletes it; before the second (a later push), the
    state matches the pull request: no changes. dev comments ``changes-only``, prod
    ``always`` (the throwaway repository's pull-request.yml)."""

    runs: list[ActRun]
    environments: list[str]
    builds: dict[str, dict[str, list[dict[str, Any]]]]
    comments: list[dict[str, Any]]
    writes: list[list[tuple[str, str]]]
    comment_ids: list[dict[str, int]]
    """Per run: environment -> the id of its comment after the run."""
    requests_authorized: bool
    bodies: list[dict[str, str]]
    """Per run: environment -> the body of its comment after the run."""
    labels: list[list[str]]
    """Per run: the pull request's labels after the run."""


@pytest.fixture(scope="module")
def pull_request_runs(act_world: World) -> PullRequestRuns:
    world = act_world.reset()
    repo = world.repo
    payload = webhook_payloads.pull_request(
        world.node_modules, repository=REPOSITORY, number=repo.pr_number, author=AUTHOR,
        head_ref=repo.feature_branch, head_sha=repo.shas["feature"], base_ref="dev",
        base_sha=repo.shas["dev"], merge_sha=repo.shas["merge"], before=repo.shas["dev"],
        title="Router release 2026.12.0")
    environments = matrix_environments(world, "pull-request.yml", "plan")
    runs, writes, ids, bodies, labels = [], [], [], [], []
    for extra in (LEGACY, ""):
        repo.seed_state(world.sandbox, world.config, "dev", repo.shas["feature"], extra)
        seen = len(world.github.requests)
        run = world.act.run("pull_request", "pull-request.yml", payload,
                            world.sandbox.endpoint_url, head=repo.shas["merge"])
        require_success(run)
        runs.append(run)
        writes.append(world.github.writes(since=seen))
        ids.append({env_name: c["id"] for c in world.github.pr_comments(repo.pr_number)
                    for env_name in environments if c["body"].startswith(marker(env_name))})
        bodies.append({env_name: c["body"] for c in world.github.pr_comments(repo.pr_number)
                       for env_name in environments if c["body"].startswith(marker(env_name))})
        labels.append(world.github.label_names(repo.pr_number))
    return PullRequestRuns(
        runs, environments, {e: builds_by_stage(world, e) for e in environments},
        world.github.pr_comments(repo.pr_number), writes, ids,
        all(r.authorized for r in world.github.requests), bodies, labels)


def test_a_pull_request_into_dev_only_plans_and_keeps_one_comment_per_environment(
        pull_request_runs: PullRequestRuns, act_world: World) -> None:
    pr, repo = pull_request_runs, act_world.repo
    check = Checks(*pr.runs)
    for env_name in pr.environments:
        builds = pr.builds[env_name]
        check(not builds["apply"], f"{env_name}: {len(builds['apply'])} apply build(s) for a "
              "pull request")
        check(not builds["post_deploy"], f"{env_name}: {len(builds['post_deploy'])} "
              "post-deploy build(s) for a pull request")
        for build in builds["plan"] + builds.get("review", []):
            secret_typed = [v["name"] for v in build["environment"]["environmentVariables"]
                            if v.get("type", "PLAINTEXT") != "PLAINTEXT"]
            check(not secret_typed, f"{build['id']}: a review build received the secrets "
                  f"{secret_typed}")
            check(build["resolvedSourceVersion"] == repo.shas["feature"],
                  f"{build['id']} built {build.get('resolvedSourceVersion')}, not the pull "
                  f"request's head {repo.shas['feature']}")
    planned = [b for builds in pr.builds.values() for key, found in builds.items()
               if key in ("plan", "review") for b in found]
    check(len(planned) == len(pr.runs), f"{len(planned)} review/plan build(s) for "
          f"{len(pr.runs)} runs of a pull request into dev (want one per run, for dev)")

    # dev's comment is changes-only: gone once the second run's plan had no changes.
    always = [e for e in pr.environments if e != "dev"]
    per_env = Counter(env_name for c in pr.comments for env_name in pr.environments
                      if c["body"].startswith(marker(env_name)))
    check(per_env == Counter(always) and len(pr.comments) == len(always),
          f"comments on #{repo.pr_number}: {dict(per_env)} of {len(pr.comments)}; want exactly "
          f"one per environment {always}")
    check(sorted(pr.comment_ids[0]) == sorted(pr.environments),
          f"after the first run, comments for {sorted(pr.comment_ids[0])}")
    check(pr.comment_ids[1] == {e: pr.comment_ids[0][e] for e in always},
          f"the second run replaced comments: {pr.comment_ids[0]} -> {pr.comment_ids[1]}")
    check(not [w for w in pr.writes[1] if w[0] == "POST" and w[1].endswith("/comments")],
          f"the second run created comments: {pr.writes[1]}")
    updated = {path.rsplit("/", 1)[-1] for method, path in pr.writes[1] if method == "PATCH"}
    check(updated >= {str(pr.comment_ids[0][e]) for e in always},
          f"the second run did not update every environment's comment: {pr.writes[1]}")
    check("Plan:" in pr.bodies[0].get("dev", ""),
          "the dev comment does not show the Terraform plan")
    check(pr.requests_authorized, "a request reached the fake API without the workflow's token")
    check.done()


def test_a_plan_that_deletes_is_labelled_destroy_and_warns_and_a_later_clean_push_leaves_no_comment(
        pull_request_runs: PullRequestRuns, act_world: World) -> None:
    pr = pull_request_runs
    check = Checks(*pr.runs)
    first = pr.bodies[0].get("dev", "")
    warning = "\n".join(line for line in first.splitlines() if line.startswith(">"))
    check("[!WARNING]" in warning and f"`{LEGACY_ADDRESS}` will be **destroyed**" in warning,
          f"the dev comment's warning block does not name {LEGACY_ADDRESS}:\n{warning or first}")
    check("<details><summary>Terraform plan (text" in first and
          f"# {LEGACY_ADDRESS} will be destroyed" in first,
          "the dev comment has no text plan of the delete")
    check(set(pr.labels[0]) == {"lmi:dev:changes", "lmi:dev:destroy"},
          f"labels after the first run: {pr.labels[0]}")
    check("dev" not in pr.bodies[1] and "dev" not in pr.comment_ids[1],
          f"a stale dev comment is left after a push with no changes: {pr.bodies[1].get('dev')}")
    deleted = {path.rsplit("/", 1)[-1] for method, path in pr.writes[1] if method == "DELETE"
               and "/issues/comments/" in path}
    check(deleted == {str(pr.comment_ids[0]["dev"])},
          f"the second run deleted comments {deleted}, not dev's {pr.comment_ids[0]['dev']}")
    check(pr.labels[1] == ["lmi:dev:no-changes"],
          f"labels after the second run: {pr.labels[1]} (want only lmi:dev:no-changes)")
    check(set(act_world.github.labels) >= {"lmi:dev:changes", "lmi:dev:destroy",
                                           "lmi:dev:no-changes"},
          f"labels the repository has: {sorted(act_world.github.labels)}")
    check.done()


def test_only_the_plan_jobs_write_the_environments_pull_request_comments(
        pull_request_runs: PullRequestRuns) -> None:
    """An environment's comment holds its plan: no other job writes it, even for a moment."""
    check = Checks(*pull_request_runs.runs)
    for index, run in enumerate(pull_request_runs.runs, 1):
        for record in run.records:
            message = str(record.get("msg", ""))
            if re.search(r"pull request #\d+: comment (created|updated)", message) and \
                    record.get("jobID") != "plan":
                check(False, f"run {index}: job {record.get('jobID')} wrote a pull request "
                      f"comment: {message.strip()}")
    check.done()


# -- push to dev -----------------------------------------------------------------------------

def test_a_push_to_dev_plans_once_applies_that_plan_and_post_deploys_once(world: World) -> None:
    repo = world.repo
    payload = webhook_payloads.push(
        world.node_modules, repository=REPOSITORY, ref="refs/heads/dev", before=repo.shas["main"],
        after=repo.shas["dev"], author=AUTHOR, message="dev: router release 2026.11.2")
    run = world.act.run("push", "deploy.yml", payload, world.sandbox.endpoint_url, head="dev")
    check = Checks(run)
    check(run.returncode == 0, f"act exited {run.returncode}; jobs: {run.job_results}")

    builds = builds_by_stage(world, "dev")
    counts = {key: len(found) for key, found in builds.items()}
    check(counts["plan"] == 1, f"{counts['plan']} plan builds, want 1 (the approved job must "
          "apply the plan job's build, never plan again)")
    check(counts["apply"] == 1, f"{counts['apply']} apply builds, want 1")
    check(counts["post_deploy"] == 1, f"{counts['post_deploy']} post-deploy builds, want 1")
    check(not builds.get("review"), f"{len(builds.get('review', []))} review builds on a push")
    for build in builds["plan"]:
        secret_typed = {v["name"]: v["value"] for v in build["environment"]["environmentVariables"]
                        if v.get("type") == "PARAMETER_STORE"}
        check(secret_typed == {"DEPLOY_TOKEN": DEPLOY_SECRET.format(env="dev")},
              f"the deploy plan build's secret references: {secret_typed}")
    canary = sandbox_secret_value(DEPLOY_SECRET.format(env="dev"))
    check(canary not in run.text, "the deploy secret's value reached the workflow's log")
    for build in (b for found in builds.values() for b in found):
        check(build["resolvedSourceVersion"] == repo.shas["dev"],
              f"{build['id']} built {build.get('resolvedSourceVersion')}, not the pushed "
              f"commit {repo.shas['dev']}")
        check(build["buildStatus"] == "SUCCEEDED", f"{build['id']}: {build['buildStatus']}")

    reported = [o for o in run.outputs("plan-sha256") if o.value]
    check(bool(reported), "no job reported a plan-sha256")
    check(len({o.value for o in reported}) <= 1, "the jobs report different plan-sha256: "
          + ", ".join(f"{o.job_id}{list(o.step)}={o.value[:12]}" for o in reported))
    plan_job = sorted({v for v in run.job_outputs("plan", "plan-sha256") if v})
    check(len(plan_job) == 1 and bool(SHA256.fullmatch(plan_job[0])),
          f"the plan job's plan-sha256: {plan_job}")
    plan_sha = plan_job[0] if plan_job else None
    for build in builds["plan"]:
        check(exported(build).get("LMI_PLAN_SHA256") == plan_sha,
              f"plan build {build['id']} exported LMI_PLAN_SHA256="
              f"{exported(build).get('LMI_PLAN_SHA256')}, the plan job reported {plan_sha}")
    for build in builds["apply"]:
        applied = exported(build).get("LMI_APPLIED_PLAN_SHA256")
        check(applied == plan_sha, f"apply build {build['id']} applied {applied}, the plan "
              f"job's plan is {plan_sha}")
        # Bound to the plan job's build: its id reaches the apply build (a variable override).
        given = {v.get("value") for v in build["environment"].get("environmentVariables", [])}
        check(any(b["id"] in given for b in builds["plan"]), f"apply build {build['id']} was "
              f"not given the plan build's id {[b['id'] for b in builds['plan']]}")
    # Post-deploy ran once, wherever it ran: each function got one round of warm-up calls.
    env = world.config.environment("dev")
    names = naming.derived_names(world.config, env).functions
    for key, function in world.config.functions.items():
        if function.warm:
            calls = len(world.sandbox.invocations(names[key]))
            check(calls == function.warm.concurrency, f"{names[key]}: {calls} warm-up "
                  f"invocations, want {function.warm.concurrency} (post-deploy runs once)")
    # The apply is recorded in the environment's history: the plan build, the run that applied.
    where = naming.artifact_location(world.config)
    history = world.sandbox.keys(where.bucket, f"{where.prefix}/quickstart/dev/applied/")
    if check(len(history) == 1, f"{len(history)} apply records, want 1"):
        s3 = world.sandbox.client("s3")
        record = json.loads(s3.get_object(Bucket=where.bucket, Key=history[0])["Body"].read())
        check(record["plan_sha256"] == plan_sha, f"the record applied {record['plan_sha256']}")
        check(record["plan_build_id"] in {b["id"] for b in builds["plan"]},
              f"the record names plan build {record['plan_build_id']}")
        check(f"/{REPOSITORY}/actions/runs/" in str(record.get("run_url")),
              f"the record's run URL is {record.get('run_url')!r}")
    # Every build installed the lmi-delivery the workflow's jobs ran (the action's, installed
    # with pip into the runner's Python), byte for byte: the wheel CodeBuild recorded it from.
    ran = runner_wheel_sha256(world)
    for build in (b for found in builds.values() for b in found):
        installed = exported(build).get("LMI_DELIVERY_INSTALLED_SHA256")
        check(installed == ran, f"{build['id']} installed lmi-delivery from wheel {installed}, "
              f"the workflow ran {ran}")
    check(all(a["startTime"] >= p["endTime"] for a in builds["apply"] for p in builds["plan"]),
          "an apply build started before the plan build ended")
    check(all(d["startTime"] >= a["endTime"] for d in builds["post_deploy"]
              for a in builds["apply"]), "a post-deploy build started before the apply ended")
    check.done()


def runner_wheel_sha256(world: World) -> str:
    """The sha256 of the wheel of the lmi-delivery installed in the runner's Python (what
    ``run``/``ci`` hand their builds), as that lmi-delivery computes it."""
    import subprocess

    script = ("import os; from lmi_delivery.selfdist.wheel import own_wheel; "
              "print(own_wheel(dict(os.environ)).sha256)")
    return subprocess.run([str(world.act.python_bin / "python"), "-I", "-c", script],
                          capture_output=True, text=True, check=True).stdout.strip()


# -- drift -----------------------------------------------------------------------------------

def apply_as_terraform_would(world: World, env_name: str, workdir: Path) -> None:
    """Undo an environment's drift the way a person would: apply the main branch's root to its
    state in the sandbox with the embedded Terraform (outside any workflow)."""
    import os
    import subprocess
    import sys

    env = world.config.environment(env_name)
    root = workdir / "terraform"
    world.repo.check_out("main")
    shutil.copytree(world.repo.path / "terraform", root)
    environ = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))},
               "AWS_ENDPOINT_URL": world.sandbox.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": world.config.region,
               "TF_IN_AUTOMATION": "1"}
    backend = [f"-backend-config={naming.render(t, **naming.values(world.config, env))}"
               for t in world.config.terraform.backend_config]
    var_files = [f"-var-file={naming.render(t, **naming.values(world.config, env))}"
                 for t in world.config.terraform.var_files]
    for argv in (["init", "-input=false", "-no-color", *backend],
                 ["apply", "-input=false", "-no-color", "-auto-approve", *var_files]):
        done = subprocess.run([sys.executable, "-m", "lmi_delivery.terraform.embedded",
                               f"-chdir={root}", *argv], env=environ, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, f"terraform {argv[0]}: {done.stdout}{done.stderr}"


def test_drift_on_a_schedule_stores_no_deploy_plan_and_opens_then_closes_its_issue(
        world: World, tmp_path: Path) -> None:
    """Two scheduled runs: the first finds drift in both environments (a fresh sandbox has no
    state) and opens one issue each; dev's drift is then undone, so the second closes dev's
    issue with a comment and updates prod's in place."""
    payload = webhook_payloads.schedule("41 6 * * 1-5", ".github/workflows/drift.yml")
    run = world.act.run("schedule", "drift.yml", payload, world.sandbox.endpoint_url,
                        head="main")
    check = Checks(run)
    check(run.returncode == 0, f"act exited {run.returncode}; jobs: {run.job_results}")

    where = naming.artifact_location(world.config)
    stored = world.sandbox.keys(where.bucket, where.prefix.rstrip("/") + "/")
    check(not stored, f"drift stored under the deploy-plan prefix s3://{where.bucket}/"
          f"{where.prefix}/: {stored}")
    environments = matrix_environments(world, "drift.yml", "drift")
    for env_name in environments:
        builds = builds_by_stage(world, env_name)
        check(not builds["apply"] and not builds["post_deploy"],
              f"{env_name}: drift started apply or post-deploy builds")

    def per_env(ran: ActRun, name: str) -> dict[str, str]:
        return {str(o.matrix.get("environment")): o.value for o in ran.outputs(name)
                if len(o.step) == 1}

    changed, summaries = per_env(run, "has-changes"), per_env(run, "plan-summary")
    check(changed == dict.fromkeys(environments, "true"), f"has-changes per environment: "
          f"{changed} (no environment has state in a fresh sandbox)")
    check(per_env(run, "drift") == dict.fromkeys(environments, "true"),
          f"drift per environment: {per_env(run, 'drift')}")
    opened: dict[str, int] = {}
    for env_name in environments:
        found = [i for i in world.github.issues.values()
                 if i["title"] == f"Drift detected in {env_name}"]
        if not check(len(found) == 1, f"{env_name}: {len(found)} drift issues"):
            continue
        opened[env_name] = found[0]["number"]
        body = found[0]["body"] or ""
        summary = summaries.get(env_name, "")
        check(bool(summary) and summary in body,
              f"{env_name}: the drift issue's body does not hold the plan summary "
              f"{summary!r}: {body!r}")
        check("`create` `terraform_data.router_release`" in body,
              f"{env_name}: the drift issue does not list the drifted resource: {body!r}")
        check(f"/{REPOSITORY}/actions/runs/" in body,
              f"{env_name}: the drift issue does not link the run: {body!r}")
        check(any(label["name"] == "drift" for label in found[0]["labels"]),
              f"{env_name}: the drift issue has no drift label")
    check.done()

    apply_as_terraform_would(world, "dev", tmp_path)
    seen = len(world.github.requests)
    again = world.act.run("schedule", "drift.yml", payload, world.sandbox.endpoint_url,
                          head="main")
    check = Checks(again)
    check(again.returncode == 0, f"act exited {again.returncode}; jobs: {again.job_results}")
    check(per_env(again, "has-changes") == {"dev": "false", "prod": "true"},
          f"has-changes after dev's drift was undone: {per_env(again, 'has-changes')}")
    writes = world.github.writes(since=seen)
    check(("POST", f"/repos/{REPOSITORY}/issues") not in writes,
          f"the second run opened another issue: {writes}")
    dev, prod = (world.github.issues.get(opened.get(e, -1)) or {} for e in ("dev", "prod"))
    check(dev.get("state") == "closed", f"dev's drift issue is {dev.get('state')} once its "
          "drift is gone")
    dev_comments = world.github.comments.get(dev.get("number", -1), [])
    check(any("Drift is gone" in c["body"] for c in dev_comments),
          f"dev's issue was closed without a comment saying why: {dev_comments}")
    check(prod.get("state") == "open", f"prod's drift issue is {prod.get('state')}, still "
          "drifted")
    check(("PATCH", f"/repos/{REPOSITORY}/issues/{prod.get('number')}") in writes
          and ("POST", f"/repos/{REPOSITORY}/issues/{prod.get('number')}/comments") in writes,
          f"prod's issue was not updated in place: {writes}")
    check.done()


def test_the_harness_keeps_act_offline(act_world: World) -> None:
    """Every action the templates and the action under test use is mapped to a local
    directory (none is fetched), and act runs no cache or artifact server."""
    argv = act_world.act.argv("push", "deploy.yml", Path("event.json"), "1",
                              "http://127.0.0.1:1")
    mapped = {argv[i + 1].split("=", 1)[0] for i, a in enumerate(argv)
              if a == "--local-repository"}
    used = set()
    for workflow in (act_world.repo.path / ".github" / "workflows").glob("*.yml"):
        for job in yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"].values():
            used |= {s["uses"] for s in job.get("steps", []) if "uses" in s}
    action = yaml.safe_load((act_world.act.action / "action.yml").read_text(encoding="utf-8"))
    used |= {s["uses"] for s in action["runs"]["steps"] if "uses" in s}
    assert ACTION_UNDER_TEST in used
    assert used <= mapped, f"not stood in for, act would fetch them: {sorted(used - mapped)}"
    assert "--action-offline-mode" in argv
    assert "--no-cache-server" in argv
    assert "--artifact-server-path" not in argv
