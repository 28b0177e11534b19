"""The GitHub Action end to end, run as a runner runs a composite action.

``action.yml``'s steps after the install step are executed with ``bash`` (the package is already
installed in this virtualenv), with their ``${{ inputs.* }}`` / ``github.*`` expressions rendered,
``GITHUB_*`` variables, a real event payload file, ``$GITHUB_OUTPUT`` and
``$GITHUB_STEP_SUMMARY`` files, and a fake GitHub REST API on 127.0.0.1 (which, like GitHub for
the ``GITHUB_TOKEN``, refuses ``GET /user`` with 403 unless told who the token is). AWS is the
embedded sandbox (``LMI_SANDBOX=true``, the hidden ``ci --sandbox``), on a copy of
examples/quickstart with a Terraform sensitive output added. Secret canaries must appear in no
log line, summary, comment or report file.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from json_api import serve_json
from ruamel.yaml import YAML
from selfdist_helpers import this_wheel

from lmi_delivery.execute.executor import Execution, RunServices
from lmi_delivery.execute.report import RunReport, StageResult
from lmi_delivery.execute.sandbox_run import sandbox_secret_value
from lmi_delivery.github.ci import Ci
from lmi_delivery.github.comments import comment_body, marker, upsert
from lmi_delivery.github.context import CiInputs
from lmi_delivery.github.outputs import read_outputs
from lmi_delivery.github.rest import GithubRest
from lmi_delivery.plan.steps import DeliveryPlan, StartBuild

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
SCRIPTS = Path(sys.executable).parent  # the console script lmi-delivery lives beside python
TOKEN = "ghs_e2eFakeInstallationToken0123456789"
ENV_CANARY = "canary-env-7f3a9c1e5b"
TF_CANARY = "canary-tf-sensitive-4d2b8e6a"
SSM_REFERENCE = "/quickstart/{env}/api-token"
SM_REFERENCE = "quickstart/{env}/db:password"
SECRET_TF = """
variable "api_token" {
  type      = string
  sensitive = true
  default   = ""
}

resource "terraform_data" "api_token_digest" {
  input = sha256(var.api_token)
  lifecycle {
    precondition {
      condition     = length(var.api_token) > 20
      error_message = "The api_token secret did not reach the build."
    }
  }
}
"""
#: The values the sandbox stores for the secret references (per environment): canaries too.
SECRET_CANARIES = tuple(
    sandbox_secret_value(ref.format(env=env))
    for ref in (SSM_REFERENCE, SM_REFERENCE) for env in ("dev", "prod"))
REPOSITORY = "acme/platform"
RUN_ID = "4242"
AUTHOR = "alice"
MERGE_SHA = "1" * 40
HEAD_SHA = "2" * 40
PUSH_SHA = "3" * 40

pytestmark = pytest.mark.slow


# -- a fake GitHub REST API ---------------------------------------------------------------------

ACTIONS_BOT = {"login": "github-actions[bot]", "type": "Bot"}


@dataclass
class FakeGithub:
    approvals: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    user: dict[str, Any] | None = None
    """Who the token is (``GET /user``); ``None``: the ``GITHUB_TOKEN``, which may not ask (403)
    and comments as github-actions[bot]."""
    _next_id: int = 1000

    def handle(self, method: str, path: str, body: Any, auth: str) -> tuple[int, Any]:
        self.requests.append({"method": method, "path": path, "body": body, "auth": auth})
        if auth != f"Bearer {TOKEN}":
            return 401, {"message": "Bad credentials"}
        route = path.split("?")[0]
        if route == "/user":
            if self.user is None:
                return 403, {"message": "Resource not accessible by integration"}
            return 200, self.user
        if m := re.fullmatch(rf"/repos/{REPOSITORY}/issues/(\d+)/comments", route):
            number = int(m[1])
            if method == "GET":
                return 200, self.comments.get(number, [])
            self._next_id += 1
            comment = {"id": self._next_id, "body": body["body"],
                       "user": dict(self.user or ACTIONS_BOT),
                       "html_url": f"https://github.com/{REPOSITORY}/pull/{number}#c{self._next_id}"}
            self.comments.setdefault(number, []).append(comment)
            return 201, comment
        if m := re.fullmatch(rf"/repos/{REPOSITORY}/issues/comments/(\d+)", route):
            for comment in (c for cs in self.comments.values() for c in cs):
                if comment["id"] == int(m[1]):
                    comment["body"] = body["body"]
                    return 200, comment
            return 404, {"message": "Not Found"}
        if route == f"/repos/{REPOSITORY}/actions/runs/{RUN_ID}/approvals":
            return 200, self.approvals
        if m := re.fullmatch(rf"/repos/{REPOSITORY}/commits/(\w+)", route):
            return 200, {"sha": m[1], "author": {"login": AUTHOR, "type": "User"}}
        return 404, {"message": "Not Found"}


@contextmanager
def serving(fake: FakeGithub) -> Iterator[FakeGithub]:
    """``fake`` answering HTTP on 127.0.0.1 (its ``url``) until the block ends."""
    with serve_json(fake.handle) as url:
        fake.url = url
        yield fake


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGithub]:
    with serving(FakeGithub()) as fake:
        yield fake


# -- the pull request comment belongs to the token's identity, over HTTP ------------------------

def test_a_marker_comment_by_someone_else_is_never_edited_over_http() -> None:
    human = {"id": 1, "body": marker("dev") + "\nLooks good, approve it", "user": {
        "login": "mallory", "type": "User"}, "html_url": "https://github.com/c1"}
    with serving(FakeGithub(comments={31: [dict(human)]})) as fake:
        rest = GithubRest(TOKEN, fake.url)
        first = upsert(rest, REPOSITORY, 31, "dev", comment_body("dev", "plan one", None))
        second = upsert(rest, REPOSITORY, 31, "dev", comment_body("dev", "plan two", None))
        fake.user = {"login": "deployer", "type": "User"}  # now a personal token
        third = upsert(rest, REPOSITORY, 31, "dev", comment_body("dev", "plan three", None))
        fourth = upsert(rest, REPOSITORY, 31, "dev", comment_body("dev", "plan four", None))
    assert (first.action, second.action, third.action, fourth.action) == (
        "created", "updated", "created", "updated")
    assert second.id == first.id != third.id == fourth.id
    theirs, bots, deployers = fake.comments[31]
    assert theirs == human
    assert bots["user"] == ACTIONS_BOT
    assert "plan two" in bots["body"]
    assert deployers["user"]["login"] == "deployer"
    assert "plan four" in deployers["body"]
    writes = [(r["method"], r["path"].split("?")[0]) for r in fake.requests]
    assert ("GET", "/user") in writes
    assert ("PATCH", f"/repos/{REPOSITORY}/issues/comments/1") not in writes


# -- the runner ---------------------------------------------------------------------------------

def composite_steps() -> list[dict[str, Any]]:
    """The action's `run` steps after the install step (setup-python and pip are done)."""
    action = YAML(typ="safe", pure=True).load((REPO / "action.yml").read_text("utf-8"))
    steps = action["runs"]["steps"]
    install = next(i for i, s in enumerate(steps) if "pip install" in s.get("run", ""))
    return [s for s in steps[install + 1:] if "run" in s]


def action_inputs(given: dict[str, str]) -> dict[str, str]:
    action = YAML(typ="safe", pure=True).load((REPO / "action.yml").read_text("utf-8"))
    values = {}
    for name, spec in action["inputs"].items():
        default = str(spec.get("default", ""))
        values[name] = given.get(name, default)
    return values


def render(text: str, inputs: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        expr = match[1].strip()
        if expr.startswith("inputs."):
            return render(inputs[expr.removeprefix("inputs.")], inputs)
        if expr == "github.action_path":
            return str(REPO)
        if expr == "github.token":
            return TOKEN
        raise AssertionError(f"unexpected expression in action.yml: {expr}")

    return re.sub(r"\$\{\{(.*?)\}\}", sub, text)


@dataclass
class Run:
    returncode: int
    log: str
    outputs: dict[str, str]
    summary: str
    files: dict[str, str]

    @property
    def masks(self) -> set[str]:
        return {line.removeprefix("::add-mask::") for line in self.log.splitlines()
                if line.startswith("::add-mask::")}

    @property
    def visible(self) -> str:
        """The log as the runner shows it: workflow commands that register masks consumed."""
        return "\n".join(line for line in self.log.splitlines()
                         if not line.startswith("::add-mask::"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("ws") / "platform"
    shutil.copytree(QUICKSTART, ws)
    with (ws / "terraform" / "main.tf").open("a", encoding="utf-8") as tf:
        tf.write(f'\noutput "db_password" {{\n  value     = "{TF_CANARY}"\n'
                 "  sensitive = true\n}\n")
        # A secret the builds receive as a PARAMETER_STORE override: the plan fails unless it
        # arrives, so a passing run proves the reference was resolved inside the build.
        tf.write(SECRET_TF)
    config = ws / "lmi-delivery.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "  artifacts: s3://", "  secrets:\n"
        # Opted in for review builds too (review: true): pull requests plan with it.
        f"    TF_VAR_api_token: {{ref: \"ssm:{SSM_REFERENCE}\", review: true}}\n"
        f"    DEPLOY_DB_PASSWORD: \"secretsmanager:{SM_REFERENCE}\"\n"
        "  artifacts: s3://"), encoding="utf-8")
    return ws


def run_action(workspace: Path, github: FakeGithub, tmp: Path, event: str,
               payload: dict[str, Any], env: dict[str, str], **given: str) -> Run:
    tmp.mkdir(parents=True, exist_ok=True)
    event_path, output, summary = tmp / "event.json", tmp / "output", tmp / "summary.md"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    output.touch()
    summary.touch()
    inputs = action_inputs(given)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_", "LMI_"))}
    base.update({
        "PATH": f"{SCRIPTS}{os.pathsep}{base.get('PATH', '')}",
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_path), "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_RUN_ID": RUN_ID, "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": github.url,
        "GITHUB_ACTOR": AUTHOR, "RUNNER_TEMP": str(tmp), "LMI_SANDBOX": "true",
        "DEPLOY_API_TOKEN": ENV_CANARY, **env,
    })
    log = []
    code = 0
    for step in composite_steps():
        step_env = {**base, **{k: render(str(v), inputs) for k, v in step.get("env", {}).items()}}
        script = tmp / "step.sh"
        script.write_text(render(step["run"], inputs), encoding="utf-8")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                                 str(script)], cwd=workspace, env=step_env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                timeout=240, check=False)
        log.append(result.stdout)
        code = result.returncode
        if code:
            break
    text = "".join(log)
    outputs = read_outputs(output.read_text(encoding="utf-8"))
    files = {p.name: p.read_text(encoding="utf-8") for p in tmp.glob("lmi-delivery-*")}
    return Run(code, text, outputs, summary.read_text(encoding="utf-8"), files)


def assert_no_canary(run: Run, github: FakeGithub) -> None:
    assert ENV_CANARY in run.masks, "the secret-like variable was not masked"
    texts = {"log": run.visible, "summary": run.summary, **run.files,
             "outputs": json.dumps(run.outputs),
             "comments": json.dumps(github.comments),
             # The token belongs in the Authorization header only: request bodies must not hold it.
             "api": json.dumps([r["body"] for r in github.requests])}
    for where, text in texts.items():
        for canary in (ENV_CANARY, TF_CANARY, TOKEN, *SECRET_CANARIES):
            assert canary not in text, f"{canary[:12]}… leaked into {where}"


# -- event payloads -----------------------------------------------------------------------------

def pr_payload(base: str, number: int = 7, action: str = "synchronize") -> dict[str, Any]:
    return {"action": action, "number": number, "pull_request": {
        "number": number, "state": "open", "title": "Raise the router's max",
        "user": {"login": AUTHOR}, "head": {"ref": "feature/max", "sha": HEAD_SHA,
                                           "repo": {"full_name": REPOSITORY}},
        "base": {"ref": base, "sha": "4" * 40, "repo": {"full_name": REPOSITORY}},
        "merge_commit_sha": MERGE_SHA}, "repository": {"full_name": REPOSITORY},
        "sender": {"login": AUTHOR}}


def push_payload(ref: str) -> dict[str, Any]:
    return {"ref": ref, "before": "5" * 40, "after": PUSH_SHA, "created": False,
            "deleted": False, "forced": False, "repository": {"full_name": REPOSITORY},
            "pusher": {"name": AUTHOR}, "sender": {"login": AUTHOR},
            "head_commit": {"id": PUSH_SHA, "message": "Raise the router's max",
                            "author": {"username": AUTHOR}}}


def pr_env(base: str) -> dict[str, str]:
    return {"GITHUB_REF": "refs/pull/7/merge", "GITHUB_SHA": MERGE_SHA,
            "GITHUB_BASE_REF": base, "GITHUB_HEAD_REF": "feature/max"}


def push_env(branch: str) -> dict[str, str]:
    return {"GITHUB_REF": f"refs/heads/{branch}", "GITHUB_SHA": PUSH_SHA,
            "GITHUB_BASE_REF": "", "GITHUB_HEAD_REF": ""}


# -- scenarios ----------------------------------------------------------------------------------

def test_a_pull_request_plans_and_keeps_one_comment_updated_in_place(
        workspace: Path, github: FakeGithub, tmp_path: Path) -> None:
    # Someone pasted the marker first: their comment is not ours to edit.
    pasted = {"id": 77, "body": marker("dev") + "\nNo changes, approve", "user": {
        "login": "mallory", "type": "User"}, "html_url": "https://github.com/c77"}
    github.comments[7] = [dict(pasted)]
    runs = [run_action(workspace, github, tmp_path / f"run{i}", "pull_request",
                       pr_payload("dev"), pr_env("dev"), command="plan", environment="dev")
            for i in (1, 2)]
    for run in runs:
        assert run.returncode == 0, run.log[-3000:]
        stages = json.loads(run.outputs["stages"])
        assert stages["plan"] == "succeeded"
        assert stages["apply"] == stages["post-deploy"] == "skipped"
        assert run.outputs["plan-summary"].startswith("Plan: 2 to add")
        assert re.fullmatch(r"[0-9a-f]{64}", run.outputs["plan-sha256"])
        assert run.outputs["has-changes"] == "true"
        assert len(run.outputs["build-ids"].split()) == 1
        assert "::group::stage validate" in run.log
        assert "::group::[quickstart-dev-tf-review:" in run.log  # a review build
        report = json.loads(Path(run.outputs["report-path"]).read_text("utf-8"))
        assert report["kind"] == "run"
        assert "pull requests never apply" in run.summary
        assert_no_canary(run, github)
    theirs, comment = github.comments[7]
    assert theirs == pasted
    assert comment["user"] == ACTIONS_BOT
    assert comment["body"].startswith(marker("dev"))
    assert "Plan: 2 to add" in comment["body"]
    # what the merge's deploy will need of the shared capacity provider, read from AWS
    assert "#### Capacity at the cutover" in comment["body"]
    assert "cutover peak on quickstart-dev-shared: " in comment["body"]
    assert f"https://github.com/{REPOSITORY}/actions/runs/{RUN_ID}" in comment["body"]
    writes = [(r["method"], r["path"]) for r in github.requests if r["method"] != "GET"]
    assert writes == [("POST", f"/repos/{REPOSITORY}/issues/7/comments"),
                      ("PATCH", f"/repos/{REPOSITORY}/issues/comments/{comment['id']}")]
    assert "comment created" in runs[0].log
    assert "comment updated" in runs[1].log


def test_a_push_to_dev_plans_applies_and_post_deploys(
        workspace: Path, github: FakeGithub, tmp_path: Path) -> None:
    run = run_action(workspace, github, tmp_path, "push", push_payload("refs/heads/dev"),
                     push_env("dev"), command="run", environment="dev")
    assert run.returncode == 0, run.log[-3000:]
    assert json.loads(run.outputs["stages"]) == dict.fromkeys(
        ["security", "validate", "plan", "apply", "post-deploy"], "succeeded")
    assert len(run.outputs["build-ids"].split()) == 3
    assert json.loads(run.outputs["published-versions"]) == {"quickstart-dev-router": "1"}
    assert "#### Published versions" in run.summary
    assert "::group::[quickstart-dev-tf-apply:" in run.log
    assert "::group::[quickstart-dev-post-deploy:" in run.log
    assert "(sensitive value)" in run.log or "<sensitive>" in run.log
    assert_no_canary(run, github)
    # The lmi-delivery inside the apply build (as CodeBuild recorded what it installed) is the
    # wheel of the one this job ran, byte for byte; so are the plan and post-deploy builds'.
    report = json.loads(Path(run.outputs["report-path"]).read_text(encoding="utf-8"))
    installed = {s["name"]: s["result"]["exported"].get("LMI_DELIVERY_INSTALLED_SHA256")
                 for s in report["stages"] if s["result"]["builds"]}
    assert installed == dict.fromkeys(["validate", "apply", "post-deploy"], this_wheel().sha256)


@pytest.mark.parametrize("approved", [False, True], ids=["unapproved", "approved"])
def test_a_push_to_main_applies_prod_only_with_an_approval(
        workspace: Path, github: FakeGithub, tmp_path: Path, approved: bool) -> None:
    github.approvals = [{"state": "approved", "comment": "ship it", "user": {"login": "bob"},
                         "environments": [{"id": 1, "name": "prod"}]}] if approved else [
        {"state": "approved", "user": {"login": "bob"}, "environments": [{"name": "dev"}]}]
    seen = len(github.requests)
    run = run_action(workspace, github, tmp_path, "push", push_payload("refs/heads/main"),
                     push_env("main"), command="run", environment="prod")
    stages = json.loads(run.outputs["stages"])
    paths = [r["path"] for r in github.requests[seen:]]
    assert f"/repos/{REPOSITORY}/actions/runs/{RUN_ID}/approvals" in paths
    if approved:
        assert run.returncode == 0, run.log[-3000:]
        assert stages["apply"] == stages["post-deploy"] == "succeeded"
        assert "approved by bob" in run.log
    else:
        assert run.returncode == 3, run.log[-3000:]
        assert stages["apply"] == "refused"
        assert stages["post-deploy"] == "not-run"
        assert "has no approval for environment prod" in run.log
        assert "::error title=lmi-delivery refused::" in run.log
        assert "quickstart-prod-tf-apply" not in run.outputs["build-ids"]
        assert len(run.outputs["build-ids"].split()) == 1
    assert_no_canary(run, github)


def test_doctor_writes_sarif_and_annotations_without_secrets(
        workspace: Path, github: FakeGithub, tmp_path: Path) -> None:
    run = run_action(workspace, github, tmp_path, "push", push_payload("refs/heads/dev"),
                     push_env("dev"), command="doctor", environment="dev")
    assert run.returncode == 0, run.log[-3000:]
    sarif = json.loads(Path(run.outputs["report-path"]).read_text("utf-8"))
    assert sarif["version"] == "2.1.0"
    assert run.outputs["report-path"].endswith(".sarif")
    assert_no_canary(run, github)


# -- no pull-request-type event ever reaches apply ----------------------------------------------

class RecordingExecutor:
    """Executes nothing: records the plans and reports each stage as its plan says."""

    def __init__(self) -> None:
        self.plans: list[DeliveryPlan] = []

    def __call__(self, plans: Any, services: RunServices) -> list[Execution]:
        executions = []
        for plan in plans:
            self.plans.append(plan)
            report = RunReport(plan)
            for stage in plan.stages:
                report.results[stage.name] = StageResult(
                    "skipped" if stage.status == "skipped" else "succeeded", stage.reason)
            executions.append(Execution(report))
        return executions


EVENTS: list[tuple[str, str, dict[str, Any], dict[str, str], bool]] = [
    # id, event name, payload, GITHUB_* overrides, may apply dev
    ("pull_request into dev", "pull_request", pr_payload("dev"), pr_env("dev"), False),
    ("pull_request opened", "pull_request", pr_payload("dev", action="opened"), pr_env("dev"),
     False),
    ("pull_request_target into dev", "pull_request_target", pr_payload("dev"),
     {**pr_env("dev"), "GITHUB_REF": "refs/heads/dev"}, False),
    ("push to dev", "push", push_payload("refs/heads/dev"), push_env("dev"), True),
    ("push to a feature branch", "push", push_payload("refs/heads/feature/x"),
     push_env("feature/x"), False),
    ("push of a tag", "push", push_payload("refs/tags/v1.2.0"),
     {"GITHUB_REF": "refs/tags/v1.2.0", "GITHUB_SHA": PUSH_SHA}, False),
    ("workflow_dispatch on dev with inputs", "workflow_dispatch",
     {"ref": "refs/heads/dev", "inputs": {"environment": "dev"}}, push_env("dev"), True),
    ("workflow_dispatch on main without inputs", "workflow_dispatch",
     {"ref": "refs/heads/main", "inputs": None}, push_env("main"), False),
    ("schedule", "schedule", {"schedule": "41 6 * * 1-5"}, push_env("main"), False),
]


@pytest.mark.parametrize(("event", "payload", "env", "applies"),
                         [e[1:] for e in EVENTS], ids=[e[0] for e in EVENTS])
def test_no_pull_request_event_reaches_apply(tmp_path: Path, event: str,
                                             payload: dict[str, Any], env: dict[str, str],
                                             applies: bool) -> None:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    summary = tmp_path / "summary.md"
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event,
               "GITHUB_EVENT_PATH": str(event_path), "GITHUB_STEP_SUMMARY": str(summary),
               "GITHUB_OUTPUT": str(tmp_path / "output"), "RUNNER_TEMP": str(tmp_path),
               "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_RUN_ID": RUN_ID, **env}
    executor = RecordingExecutor()
    inputs = CiInputs(command="run", environment="dev",
                      config=str(QUICKSTART / "lmi-delivery.yml"), comment_on_pr=False)
    Ci(inputs, environ, io.StringIO(), rest_factory=lambda url, token: GithubRest(token, url),
       executor=executor).run()
    [plan] = executor.plans
    apply = plan.stage("apply")
    builds = [s for s in apply.steps if isinstance(s, StartBuild)]
    if event.startswith("pull_request"):
        assert apply.status == "skipped"
        assert plan.stage("post-deploy").status == "skipped"
        assert not builds
        assert "| apply | skipped |" in summary.read_text("utf-8")
    assert (apply.status == "run" and bool(builds)) is applies


def _example_payloads(node_tools: Path) -> list[tuple[str, dict[str, Any]]]:
    index = node_tools / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
    return [(group["name"], example) for group in json.loads(index.read_text("utf-8"))
            for example in group["examples"]]


#: The example payloads are split over this many tests, so that parallel test workers share them.
PAYLOAD_SHARDS = 2


def _moved_to_dev(example: dict[str, Any]) -> dict[str, Any]:
    """``example`` with its ref (or its workflow run's branch) on dev; a copy either way."""
    payload: dict[str, Any] = json.loads(json.dumps(example))
    if "ref" in payload:
        payload["ref"] = "refs/heads/dev"
    if isinstance(payload.get("workflow_run"), dict):
        payload["workflow_run"]["head_branch"] = "dev"
    return payload


@pytest.mark.parametrize("shard", range(PAYLOAD_SHARDS),
                         ids=[f"shard-{n + 1}-of-{PAYLOAD_SHARDS}" for n in range(PAYLOAD_SHARDS)])
def test_every_example_payload_under_ci_applies_only_a_push_or_dispatch_on_the_branch(
        tmp_path: Path, node_tools: Path, shard: int) -> None:
    """Every payload of @octokit/webhooks-examples as GitHub Actions would hand it to `ci`,
    once as given and once with its ref moved to dev: only a push or a dispatch on dev (and a
    workflow_run lmi-delivery vetted) may reach the apply build, and never a deleted ref.
    A payload with no ref and no workflow run is the same once moved: it runs once. Each
    shard takes every PAYLOAD_SHARDS-th payload; together they take them all."""
    config = str(QUICKSTART / "lmi-delivery.yml")
    examples = _example_payloads(node_tools)
    mine = examples[shard::PAYLOAD_SHARDS]
    assert sum(len(examples[n::PAYLOAD_SHARDS]) for n in range(PAYLOAD_SHARDS)) == len(examples)
    cases = [(name, variant) for name, example in mine
             for variant in (example, _moved_to_dev(example))
             if variant is example or variant != example]
    runs = applied = 0
    for name, payload in cases:
        event_path = tmp_path / "event.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        ref = payload.get("ref") if isinstance(payload.get("ref"), str) else "refs/heads/main"
        environ = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": name,
                   "GITHUB_EVENT_PATH": str(event_path), "GITHUB_REF": ref,
                   "GITHUB_SHA": PUSH_SHA, "RUNNER_TEMP": str(tmp_path),
                   "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_RUN_ID": RUN_ID}
        executor = RecordingExecutor()
        inputs = CiInputs(command="run", environment="dev", config=config,
                          comment_on_pr=False)
        outcome = Ci(inputs, environ, io.StringIO(),
                     rest_factory=lambda url, token: GithubRest(token, url),
                     executor=executor).run()
        runs += 1
        assert outcome.error is None or outcome.error.exit_code == 2, (name, outcome.error)
        for plan in executor.plans:
            builds = [s for s in plan.stage("apply").steps if isinstance(s, StartBuild)]
            if not builds:
                continue
            applied += 1
            assert name in ("push", "workflow_dispatch", "workflow_run"), name
            assert not payload.get("deleted"), (name, "a deleted ref applied")
            assert plan.context["ref"] == "refs/heads/dev", (name, plan.context)
    movable = sum(1 for _, e in mine if "ref" in e or isinstance(e.get("workflow_run"), dict))
    assert runs == len(mine) + movable
    if any(name in ("push", "workflow_dispatch") and not example.get("deleted")
           for name, example in mine):
        assert applied >= 1  # the pushes and dispatches moved onto dev do deploy
