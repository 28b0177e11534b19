"""Notifications, end to end: ``ci`` (the action's entry, as the workflows run it) against the
sandbox, and webhook receivers on 127.0.0.1.

The sandbox is provisioned as ``sandbox serve`` provisions it and ``ci`` reaches it through
``AWS_ENDPOINT_URL``, as a workflow job reaches AWS: the webhook URLs are read from its SSM
Parameter Store and Secrets Manager. Three runs: a deploy to dev, a deploy whose apply fails
(a provisioner that fails while a file exists) and a rollback. Each receiver must get exactly one
message per event, none holding a secret; a receiver that answers 500 leaves a warning only.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from json_api import serve_json

from lmi_delivery.config import load, naming
from lmi_delivery.errors import LmiError
from lmi_delivery.execute.sandbox_run import sandbox_secret_value, sandbox_session
from lmi_delivery.github.ci import Ci
from lmi_delivery.github.context import CiInputs
from lmi_delivery.postdeploy.history import Entry, HistoryStore

pytestmark = pytest.mark.slow

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
REPOSITORY = "acme/platform"
RUN_ID = "5151"
SLACK_TOKEN = "T0SANDBOX/B0SANDBOX/slackTokenPart9f8e7d6c5b"
HOOK_TOKEN = "hookTokenPart1a2b3c4d5e6f"
DEPLOY_SECRET = "/quickstart/dev/deploy-token"


@dataclass
class Receiver:
    """Every POST it got: path -> bodies, in order. ``/broken/...`` answers 500."""

    got: dict[str, list[Any]] = field(default_factory=dict)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, target: str, body: Any, auth: str) -> tuple[int, Any]:
        with self._lock:
            self.got.setdefault(target, []).append(body)
        return (500, {"error": "down"}) if target.startswith("/broken/") else (200, {"ok": 1})

    def kinds(self, path: str) -> list[str]:
        with self._lock:
            bodies = list(self.got.get(path, []))
        if path.startswith("/slack/"):
            return [_slack_kind(b["text"]) for b in bodies]
        return [b["kind"] for b in bodies]


def _slack_kind(text: str) -> str:
    titles = {"apply started": "apply-started", "apply succeeded": "apply-succeeded",
              "apply failed": "apply-failed", "rolled back": "rollback",
              "drift detected": "drift-opened", "drift gone": "drift-closed"}
    head = text.split("\n", 1)[0]
    return next(kind for title, kind in titles.items() if f": {title}" in head)


@dataclass
class World:
    workspace: Path
    receiver: Receiver
    environ: dict[str, str]
    sandbox: Any
    commit: str
    fail_flag: Path


CONFIG_TAIL = """
notifications:
  - type: slack
    url: "ssm:/{service}/{env}/slack-webhook"
  - type: webhook
    url: "secretsmanager:{service}/{env}/hooks:deploy"
  - type: webhook
    url: "ssm:/{service}/{env}/broken-webhook"
    events: [apply-started]
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("notify")
    ws = base / "platform"
    shutil.copytree(QUICKSTART, ws)
    flag = base / "fail-the-apply"
    # Replaced on every plan, so every deploy applies; fails at apply time while the flag exists.
    with (ws / "terraform" / "main.tf").open("a", encoding="utf-8") as tf:
        tf.write('\nresource "terraform_data" "apply_check" {\n'
                 "  triggers_replace = timestamp()\n"
                 '  provisioner "local-exec" {\n'
                 f'    command = "test ! -e {flag}"\n'
                 "  }\n}\n")
    config = ws / "lmi-delivery.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "  artifacts: s3://", '  secrets:\n    DEPLOY_TOKEN: "ssm:/quickstart/{env}/deploy-token"\n'
        "  artifacts: s3://") + CONFIG_TAIL, encoding="utf-8")
    receiver = Receiver()
    loaded = load(config)
    with serve_json(receiver.handle) as url, \
            sandbox_session(loaded, [loaded.environment("dev")], {"PATH": "/usr/bin:/bin"},
                            say=lambda line: None) as session:
        receiver.url = url
        ssm = session.sandbox.client("ssm")
        ssm.put_parameter(Name="/quickstart/dev/slack-webhook", Type="SecureString",
                          Value=f"{url}/slack/{SLACK_TOKEN}")
        ssm.put_parameter(Name="/quickstart/dev/broken-webhook", Type="SecureString",
                          Value=f"{url}/broken/{HOOK_TOKEN}")
        session.sandbox.client("secretsmanager").create_secret(
            Name="quickstart/dev/hooks", SecretString=json.dumps(
                {"deploy": f"{url}/hook/{HOOK_TOKEN}"}))
        environ = {**{k: v for k, v in os.environ.items()
                      if not k.startswith(("AWS_", "GITHUB_", "LMI_", "CI"))},
                   **session.environ}
        yield World(ws, receiver, environ, session.sandbox, session.commit, flag)


@dataclass
class Ran:
    code: int
    log: str
    error: LmiError | None

    @property
    def visible(self) -> str:
        """The log as the runner shows it: the lines registering masks are consumed."""
        return "\n".join(line for line in self.log.splitlines()
                         if not line.startswith("::add-mask::"))


@dataclass
class Issues:
    """The issue endpoints of GitHub's REST API the drift issue uses, nothing else."""

    token: str = "ghs_notifyFakeToken0123456789"
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: list[tuple[int, str]] = field(default_factory=list)
    url: str = ""

    def handle(self, method: str, target: str, body: Any, auth: str) -> tuple[int, Any]:
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}
        path = target.split("?", 1)[0].removeprefix(f"/repos/{REPOSITORY}/issues")
        if path == "" and method == "GET":
            return 200, [i for i in self.issues.values() if i["state"] == "open"]
        if path == "" and method == "POST":
            number = len(self.issues) + 1
            self.issues[number] = {**body, "number": number, "state": "open",
                                   "html_url": f"https://github.com/{REPOSITORY}/issues/{number}"}
            return 201, self.issues[number]
        if re.fullmatch(r"/\d+", path) and method == "PATCH":
            self.issues[int(path[1:])].update(body)
            return 200, self.issues[int(path[1:])]
        if re.fullmatch(r"/\d+/comments", path) and method == "POST":
            self.comments.append((int(path.split("/")[1]), body["body"]))
            return 201, {"id": len(self.comments)}
        return 404, {"message": "Not Found"}


def ci(world: World, tmp: Path, command: str, event: str = "push",
       github: Issues | None = None) -> Ran:
    tmp.mkdir(parents=True, exist_ok=True)
    payload = {"ref": "refs/heads/dev", "after": world.commit, "before": "0" * 40,
               "repository": {"full_name": REPOSITORY}, "sender": {"login": "alice"},
               "head_commit": {"id": world.commit, "message": "dev release"}}
    (tmp / "event.json").write_text(json.dumps(payload), encoding="utf-8")
    (tmp / "output").touch()
    environ = {**world.environ, "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event,
               "GITHUB_EVENT_PATH": str(tmp / "event.json"), "GITHUB_REF": "refs/heads/dev",
               "GITHUB_SHA": world.commit, "GITHUB_REPOSITORY": REPOSITORY,
               "GITHUB_RUN_ID": RUN_ID, "GITHUB_SERVER_URL": "https://github.com",
               "GITHUB_ACTOR": "alice", "GITHUB_OUTPUT": str(tmp / "output"),
               "RUNNER_TEMP": str(tmp), "GITHUB_WORKSPACE": str(world.workspace)}
    if github is not None:
        environ["GITHUB_API_URL"] = github.url
    log = io.StringIO()
    inputs = CiInputs(command=command, environment="dev",
                      config=str(world.workspace / "lmi-delivery.yml"), comment_on_pr=False,
                      github_token=github.token if github is not None else "")
    outcome = Ci(inputs, environ, log).run()
    code = 0 if outcome.error is None else outcome.error.exit_code
    return Ran(code, log.getvalue(), outcome.error)


PATHS = (f"/slack/{SLACK_TOKEN}", f"/hook/{HOOK_TOKEN}")


def counts(world: World) -> dict[str, list[str]]:
    return {path: world.receiver.kinds(path) for path in PATHS}


def test_one_message_per_event_of_a_deploy_a_failed_apply_and_a_rollback(
        world: World, tmp_path: Path) -> None:
    deploy = ci(world, tmp_path / "deploy", "run")
    assert deploy.code == 0, deploy.log[-4000:]
    after_deploy = counts(world)
    assert after_deploy == {key: ["apply-started", "apply-succeeded"] for key in PATHS}

    world.fail_flag.touch()
    try:
        failed = ci(world, tmp_path / "failed", "run")
    finally:
        world.fail_flag.unlink()
    assert failed.code == 1, failed.log[-4000:]
    after_failure = counts(world)
    assert after_failure == {key: ["apply-started", "apply-succeeded", "apply-started",
                                   "apply-failed"] for key in PATHS}

    # A later deploy of version 2 (as post-deploy records one), then the rollback to 1.
    config = load(world.workspace / "lmi-delivery.yml")
    env = config.environment("dev")
    function = naming.function_name(config, env, "router")
    lam = world.sandbox.client("lambda")
    lam.update_function_configuration(FunctionName=function, Description="release 2")
    lam.get_waiter("function_updated_v2").wait(FunctionName=function)
    second = lam.publish_version(FunctionName=function)["Version"]
    lam.get_waiter("published_version_active").wait(FunctionName=function, Qualifier=second,
                                                    WaiterConfig={"Delay": 1})
    first = lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"]
    lam.update_alias(FunctionName=function, Name="live", FunctionVersion=second)
    HistoryStore(world.sandbox.client("s3"), config, env).append(
        function, "live", Entry(first, second, commit=world.commit))
    rolled = ci(world, tmp_path / "rollback", "rollback", event="workflow_dispatch")
    assert rolled.code == 0, rolled.log[-4000:]
    assert lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"] == first
    assert counts(world) == {key: ["apply-started", "apply-succeeded", "apply-started",
                                   "apply-failed", "rollback"] for key in PATHS}

    # What each message says: the environment, the commit, the plan, the run.
    hooks = world.receiver.got[f"/hook/{HOOK_TOKEN}"]
    assert {h["environment"] for h in hooks} == {"dev"}
    assert {h["commit"] for h in hooks} == {world.commit}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h["plan_sha256"]) for h in hooks[:4]), hooks
    assert hooks[0]["plan_sha256"] == hooks[1]["plan_sha256"]
    assert all(h["run_url"] == f"https://github.com/{REPOSITORY}/actions/runs/{RUN_ID}"
               for h in hooks)
    assert f"{first}" in hooks[4]["detail"]
    assert f"{second}" in hooks[4]["detail"]
    slack = world.receiver.got[f"/slack/{SLACK_TOKEN}"]
    assert all(f"<https://github.com/{REPOSITORY}/actions/runs/{RUN_ID}|the run>" in s["text"]
               for s in slack)

    # The failing receiver got its one event each run it was for, and only warned.
    assert len(world.receiver.got[f"/broken/{HOOK_TOKEN}"]) == 2
    for ran in (deploy, failed):
        assert "not delivered (HTTP 500)" in ran.visible
        assert "::warning" in ran.visible

    secrets = (SLACK_TOKEN, HOOK_TOKEN, "slackTokenPart9f8e7d6c5b",
               sandbox_secret_value(DEPLOY_SECRET))
    sent = json.dumps(world.receiver.got)
    for secret in secrets:
        body_only = sent.replace(json.dumps(f"/slack/{SLACK_TOKEN}"), "") \
            .replace(json.dumps(f"/hook/{HOOK_TOKEN}"), "") \
            .replace(json.dumps(f"/broken/{HOOK_TOKEN}"), "")
        assert secret not in body_only, f"{secret[:8]}… reached a message"
        for ran in (deploy, failed, rolled):
            assert secret not in ran.visible, f"{secret[:8]}… reached the log"
    for ran in (deploy, failed, rolled):
        assert f"::add-mask::{world.receiver.url}/slack/{SLACK_TOKEN}" in ran.log


def test_drift_opened_is_told_once_not_again_while_the_issue_is_updated(
        world: World, tmp_path: Path) -> None:
    """The apply check's trigger changes on every plan: Terraform always finds drift here."""
    before = counts(world)
    with serve_json((github := Issues()).handle) as url:
        github.url = url
        runs = [ci(world, tmp_path / f"drift{i}", "drift", event="schedule", github=github)
                for i in (1, 2)]
    for ran in runs:
        assert ran.code == 0, ran.log[-4000:]
    assert [i["title"] for i in github.issues.values()] == ["Drift detected in dev"]
    assert "drift issue: opened" in runs[0].log
    assert "drift issue: updated" in runs[1].log
    after = counts(world)
    assert {p: after[p][len(before[p]):] for p in PATHS} == {p: ["drift-opened"] for p in PATHS}
    hook = world.receiver.got[f"/hook/{HOOK_TOKEN}"][-1]
    assert hook["detail"].endswith(f"https://github.com/{REPOSITORY}/issues/1")
