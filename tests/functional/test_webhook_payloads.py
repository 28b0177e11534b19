"""Every real GitHub webhook payload through `lmi-delivery plan`: only a push or a dispatch on an
environment's branch (or a workflow_run after a successful one of this repository) deploys.

The payloads are GitHub's own examples (``@octokit/webhooks-examples``, installed by the
``node_tools`` fixture): a list of ``{name, examples: [payload, ...]}``, ``name`` being the event.
Each payload is planned for every environment of the agent platform example, once with the event
inferred from the payload's shape and once with ``--event NAME``. The CLI runs in-process
(:func:`lmi_delivery.cli.main.main`, exit codes and error printing included) to keep thousands of
plans within seconds.

What must hold, whatever the payload: no traceback and no internal error, only exit 0 or 2 (2
only when the event could not be inferred), and apply or post-deploy running exactly when an
independent oracle (:func:`should_deploy`) says the event deploys that environment. Most
examples run on ``main``/``master`` or a tag, so push, dispatch and workflow_run payloads are also
planned with their branch rewritten to each environment's; a push that deletes its ref still
never deploys.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lmi_delivery.cli.main import main
from lmi_delivery.config import load
from lmi_delivery.plan.events import infer_event

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "examples" / "agent-platform" / "lmi-delivery.yml"
ZERO = "0" * 40
MUTATING = ("apply", "post-deploy")
#: Events whose payloads name a branch that decides whether they deploy.
BRANCHED = ("push", "workflow_dispatch", "workflow_run")


def environments() -> dict[str, str]:
    """``{env: branch}`` of the agent platform example (dev, qa, prod on main)."""
    return {name: env.branch for name, env in load(str(AGENT)).environments.items()}


ENVS = environments()


@dataclass(frozen=True)
class Payload:
    event: str
    """The group name in the examples: the event GitHub sends this payload for."""
    label: str
    body: dict[str, Any]
    path: Path


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def cli(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """``lmi-delivery ARGS`` in this process, in a clean environment plus ``env``."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "GITHUB_", "CODEBUILD_", "LMI_"))}
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        for name in os.environ.keys() - base.keys():
            patch.delenv(name)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    assert isinstance(code, int), code
    return Outcome(code, out.getvalue(), err.getvalue())


def plan(payload: Payload, env_name: str, *, explicit: bool) -> Outcome:
    event = ["--event", payload.event] if explicit else []
    return cli("plan", "--event-file", str(payload.path), *event, "--format", "json",
               "--offline", "--config", str(AGENT), "--env", env_name)


def should_deploy(event: str, body: dict[str, Any], branch: str) -> bool:
    """The oracle, from the payload alone: does this event deploy the environment on ``branch``?"""
    if event == "push":
        return body.get("ref") == f"refs/heads/{branch}" and body.get("deleted") is not True \
            and body.get("after") != ZERO
    if event == "workflow_dispatch":
        return body.get("ref") == f"refs/heads/{branch}"
    if event == "workflow_run":
        run = body.get("workflow_run") or {}
        head = (run.get("head_repository") or {}).get("id")
        return run.get("conclusion") == "success" \
            and run.get("event") in ("push", "workflow_dispatch") \
            and head is not None and head == (body.get("repository") or {}).get("id") \
            and run.get("head_branch") == branch
    return False


def deletes(event: str, body: dict[str, Any]) -> bool:
    return event == "push" and (body.get("deleted") is True or body.get("after") == ZERO)


def examples(node_tools: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    index = node_tools / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
    return [(group["name"], group["examples"])
            for group in json.loads(index.read_text(encoding="utf-8"))]


def rewritten(event: str, body: dict[str, Any], branch: str) -> dict[str, Any]:
    """``body`` with its branch set to ``branch``: a push's or dispatch's ref, a run's head."""
    body = copy.deepcopy(body)
    if event == "workflow_run":
        body["workflow_run"]["head_branch"] = branch
    else:
        body["ref"] = f"refs/heads/{branch}"
    return body


def made_safe(body: dict[str, Any], branch: str) -> dict[str, Any]:
    """A workflow_run that may deploy: after this repository's successful push on ``branch``."""
    body = rewritten("workflow_run", body, branch)
    run = body["workflow_run"]
    run.update(conclusion="success", event="push")
    run["head_repository"] = {**(run.get("head_repository") or {}), "id": body["repository"]["id"]}
    return body


@pytest.fixture(scope="module")
def payloads(node_tools: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Payload]:
    """Every example payload, written to a file, as GitHub sends it."""
    folder = tmp_path_factory.mktemp("webhooks")
    found = []
    for event, bodies in examples(node_tools):
        for n, body in enumerate(bodies):
            path = folder / f"{event}-{n}.json"
            path.write_text(json.dumps(body), encoding="utf-8")
            found.append(Payload(event, f"{event}[{n}]", body, path))
    return found


@pytest.fixture(scope="module")
def on_each_branch(payloads: list[Payload],
                   tmp_path_factory: pytest.TempPathFactory) -> list[Payload]:
    """Push, dispatch and workflow_run payloads on each environment's branch, and workflow_runs
    made safe (a successful push of this repository) on each branch."""
    folder = tmp_path_factory.mktemp("rewritten")
    found = []
    for original in payloads:
        if original.event not in BRANCHED:
            continue
        for branch in sorted(set(ENVS.values())):
            variants = [("", rewritten(original.event, original.body, branch))]
            if original.event == "workflow_run":
                variants.append(("safe ", made_safe(original.body, branch)))
            for kind, body in variants:
                label = f"{kind}{original.label}@{branch}"
                path = folder / f"{label.replace(' ', '-')}.json"
                path.write_text(json.dumps(body), encoding="utf-8")
                found.append(Payload(original.event, label, body, path))
    return found


@dataclass
class Tally:
    runs: int = 0
    deploys: int = 0
    not_inferred: int = 0
    refused_deletions: int = 0


def check(payload: Payload, env_name: str, explicit: bool, tally: Tally) -> Iterator[str]:
    """Plan ``payload`` for ``env_name``; yield what is wrong with the result."""
    result = plan(payload, env_name, explicit=explicit)
    tally.runs += 1
    where = f"{payload.label} --env {env_name}{' --event ' + payload.event if explicit else ''}"
    text = result.out + result.err
    if "Traceback" in text or "internal error" in text:
        yield f"{where}: crashed: {result.err[-500:]}"
        return
    if result.code not in (0, 2):
        yield f"{where}: exit {result.code}: {result.err[-300:]}"
        return
    if result.code == 2:
        if explicit or "could not be inferred" not in result.err:
            yield f"{where}: exit 2: {result.err[-300:]}"
        tally.not_inferred += 1
        return
    report = json.loads(result.out)
    if report["context"]["event"] != payload.event:
        yield f"{where}: planned as {report['context']['event']!r}"
    stages = {s["name"]: s["status"] for s in report["stages"]}
    deploys = any(stages[s] != "skipped" for s in MUTATING)
    tally.deploys += deploys
    expected = should_deploy(payload.event, payload.body, ENVS[env_name])
    if deploys != expected:
        yield f"{where}: {'deploys' if deploys else 'does not deploy'}: {report['reason']}"
    if deletes(payload.event, payload.body):
        tally.refused_deletions += 1
        if set(stages.values()) != {"skipped"} or "deleted" not in report["reason"]:
            yield f"{where}: a deleted ref is not refused: {report['reason']}"


def run_all(cases: list[Payload]) -> tuple[list[str], Tally, Counter[str]]:
    problems: list[str] = []
    tally = Tally()
    deployed: Counter[str] = Counter()
    for payload in cases:
        for env_name in ENVS:
            for explicit in (False, True):
                before = tally.deploys
                problems += check(payload, env_name, explicit, tally)
                if tally.deploys > before:
                    deployed[f"{payload.event} on {ENVS[env_name]}"] += 1
    return problems, tally, deployed


def test_every_example_payload_plans_and_only_deploys_what_it_may(
        payloads: list[Payload]) -> None:
    assert len(payloads) >= 300  # 329 in @octokit/webhooks-examples 7.6.1
    assert len({p.event for p in payloads}) >= 50
    problems, tally, deployed = run_all(payloads)
    print(f"\n{len(payloads)} payloads, {tally.runs} plans: {tally.deploys} deploy "
          f"({dict(deployed)}), {tally.not_inferred} plans need --event, "
          f"{tally.refused_deletions} deleted-ref plans refused")
    assert problems == [], "\n".join(problems[:40])
    # The examples' pushes are tags or main/master: only a dispatch on main deploys prod.
    assert set(deployed) <= {"workflow_dispatch on main", "push on main"}
    assert tally.refused_deletions > 0


def test_on_the_environments_branch_only_a_push_dispatch_or_safe_run_deploys(
        on_each_branch: list[Payload]) -> None:
    problems, tally, deployed = run_all(on_each_branch)
    print(f"\n{len(on_each_branch)} rewritten payloads, {tally.runs} plans: {tally.deploys} "
          f"deploy ({dict(deployed)}), {tally.refused_deletions} deleted-ref plans refused")
    assert problems == [], "\n".join(problems[:40])
    for event in BRANCHED:
        for branch in set(ENVS.values()):
            assert deployed[f"{event} on {branch}"] > 0, f"{event} on {branch} never deployed"
    assert tally.refused_deletions > 0
    # Only the made-safe runs deploy: none of GitHub's workflow_run examples may.
    examples_deploying = [p.label for p in on_each_branch if p.event == "workflow_run"
                          and not p.label.startswith("safe ")
                          and should_deploy(p.event, p.body, p.label.rsplit("@", 1)[1])]
    assert examples_deploying == []


def actions_env(payload: Payload) -> dict[str, str]:
    """What GitHub Actions sets for ``payload``: its ref for a push or a dispatch, else the
    default branch (as for most events, workflow_run included), and the event's commit."""
    repository = payload.body.get("repository") or {}
    ref = payload.body.get("ref") if payload.event in ("push", "workflow_dispatch") else None
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": payload.event,
            "GITHUB_EVENT_PATH": str(payload.path),
            "GITHUB_REF": ref or f"refs/heads/{repository.get('default_branch') or 'main'}",
            "GITHUB_SHA": payload.body.get("after") or "f" * 40}


def test_under_github_actions_every_example_plans_as_github_reports_it(
        payloads: list[Payload], on_each_branch: list[Payload]) -> None:
    problems = []
    deployed: Counter[str] = Counter()
    for payload in [*payloads, *on_each_branch]:
        result = cli("plan", "--format", "json", "--offline", "--config", str(AGENT), "--env",
                     "prod", env=actions_env(payload))
        where = f"{payload.label} (GitHub Actions, --env prod)"
        if result.code != 0 or "Traceback" in result.err or "internal error" in result.err:
            problems.append(f"{where}: exit {result.code}: {result.err[-300:]}")
            continue
        report = json.loads(result.out)
        deploys = any(s["status"] != "skipped" for s in report["stages"]
                      if s["name"] in MUTATING)
        if deploys:
            deployed[payload.event] += 1
        if deploys != should_deploy(payload.event, payload.body, ENVS["prod"]):
            problems.append(f"{where}: deploys={deploys}: {report['reason']}")
    print(f"\nunder GitHub Actions, prod: {dict(deployed)} deploy")
    assert problems == [], "\n".join(problems[:40])
    assert set(deployed) == set(BRANCHED)


def test_the_event_is_inferred_right_or_not_at_all(payloads: list[Payload]) -> None:
    inferred = Counter(infer_event(p.body) == p.event if infer_event(p.body) else None
                       for p in payloads)
    assert inferred[False] == 0, [(p.label, infer_event(p.body)) for p in payloads
                                  if infer_event(p.body) not in (None, p.event)]
    assert inferred[True] >= 250
    for event in ("push", "pull_request", "merge_group", "workflow_run", "workflow_dispatch",
                  "issue_comment", "release", "pull_request_review"):
        assert all(infer_event(p.body) == event for p in payloads if p.event == event), event


def github_env(payload: Payload, **extra: str) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": payload.event,
            "GITHUB_EVENT_PATH": str(payload.path), **extra}


def first(payloads: list[Payload], event: str, **where: Any) -> Payload:
    return next(p for p in payloads if p.event == event
                and all(p.body.get(k) == v for k, v in where.items()))


def test_under_github_actions_flags_may_not_contradict_the_event(
        payloads: list[Payload]) -> None:
    pr = first(payloads, "pull_request")
    env = github_env(pr, GITHUB_REF=f"refs/pull/{pr.body['number']}/merge",
                     GITHUB_SHA="a" * 40, GITHUB_BASE_REF=pr.body["pull_request"]["base"]["ref"])
    agent = ("--config", str(AGENT), "--env", "prod", "--offline", "--format", "json")
    for flags, reported in [
        (("--event", "push"), "GITHUB_EVENT_NAME=pull_request"),
        (("--ref", "main"), f"GITHUB_REF={env['GITHUB_REF']}"),
        (("--sha", "b" * 40), "GITHUB_SHA=" + "a" * 40),
        (("--base-ref", "dev"), f"GITHUB_BASE_REF={env['GITHUB_BASE_REF']}"),
        (("--event-file", str(first(payloads, "push").path)), "GITHUB_EVENT_PATH="),
    ]:
        result = cli("plan", *flags, *agent, env=env)
        assert result.code == 2, (flags, result.err)
        assert f"{flags[0]} {flags[1]} contradicts what GitHub reported" in result.err
        assert reported in result.err
        assert "Traceback" not in result.err
    # Repeating what GitHub said is fine, and GitHub's event wins over the payload's shape.
    same = cli("plan", "--event", "pull_request", "--event-file", str(pr.path), *agent, env=env)
    assert same.code == 0, same.err
    assert json.loads(same.out)["context"]["event"] == "pull_request"


def test_a_run_that_runs_nothing_says_why_not_that_it_succeeded(
        payloads: list[Payload], tmp_path: Path) -> None:
    deleted = rewritten("push", first(payloads, "push", deleted=True).body, "dev")
    path = tmp_path / "deleted.json"
    path.write_text(json.dumps(deleted), encoding="utf-8")
    no_aws = {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "none"),
              "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
              "AWS_EC2_METADATA_DISABLED": "true"}
    result = cli("run", "--config", str(AGENT), "--env", "dev", "--event-file", str(path),
                 env=no_aws)
    assert result.code == 0, result.err
    assert result.out == "nothing ran: the push deleted refs/heads/dev: nothing to deploy\n"
    both = cli("run", "--config", str(AGENT), "--env", "dev", "--env", "qa", "--event",
               "release", env=no_aws)
    assert both.code == 0, both.err
    assert "run succeeded" not in both.out
    assert both.out.count("nothing ran: event release does not run any stage") == 2
