"""LMD001 apply on pull requests, LMD002 deploys gated on a security workflow alone."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lmi_delivery.config.yamlpos import Value
from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.sources import Repo, YamlFile
from lmi_delivery.doctor.workflow import step_actions, steps, triggers
from lmi_delivery.findings import Finding

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
#: An ``if:`` that keeps a job or step off pull requests.
_NOT_ON_PR = re.compile(
    r"github\.event_name\s*(==\s*'(push|workflow_dispatch|schedule|workflow_run)'"
    r"|!=\s*'pull_request(_target)?')")
#: Names of workflows that scan rather than review a change.
_SECURITY = re.compile(r"secur|scan|codeql|trivy|checkov|tfsec|snyk|semgrep|gitleaks|lint",
                       re.IGNORECASE)


def check(repo: Repo) -> Iterator[Finding]:
    yield from apply_on_pull_request(repo)
    yield from deploy_gated_on_security_only(repo)


def _guarded(condition: Value) -> bool:
    return isinstance(condition, str) and bool(_NOT_ON_PR.search(condition))


def apply_on_pull_request(repo: Repo) -> Iterator[Finding]:
    for file in repo.workflows:
        events = [e for e in PULL_REQUEST_EVENTS if e in triggers(file)]
        if not events:
            continue
        for step in steps(file):
            if _guarded(step.job_value.get("if")) or _guarded(step.value.get("if")):
                continue
            for action in step_actions(step):
                if action.kind == "apply":
                    yield finding("LMD001", action.location,
                                  f"job {step.job!r} applies ({action.what}) in a workflow "
                                  f"triggered by {' and '.join(events)}: pull requests may only "
                                  "plan; apply from a push to the environment's branch")


def _reviews(file: YamlFile) -> bool:
    return any(a.kind == "review" for s in steps(file) for a in step_actions(s))


def _applies(file: YamlFile) -> bool:
    return any(a.kind == "apply" for s in steps(file) for a in step_actions(s))


def _by_name(repo: Repo) -> dict[str, YamlFile]:
    named: dict[str, YamlFile] = {}
    for file in repo.workflows:
        value = file.value if isinstance(file.value, dict) else {}
        named[str(value.get("name") or file.relative)] = file
    return named


def deploy_gated_on_security_only(repo: Repo) -> Iterator[Finding]:
    named = _by_name(repo)
    for file in repo.workflows:
        events = triggers(file)
        if set(events) - {"workflow_dispatch"} != {"workflow_run"} or not _applies(file):
            continue
        run = events["workflow_run"]
        upstream = run.get("workflows") if isinstance(run, dict) else None
        if not isinstance(upstream, list) or not upstream or _reviews(file):
            continue
        if all(_security_only(named.get(str(u)), str(u)) for u in upstream):
            names = ", ".join(repr(str(u)) for u in upstream)
            yield finding("LMD002", file.location("on", "workflow_run", "workflows", 0),
                          f"this deploy starts when {names} succeeds, and neither workflow "
                          "validates or plans: a security scan does not review the change; "
                          "plan first (the lmi-delivery action with command: plan) and apply "
                          "that plan after approval")


def _security_only(file: YamlFile | None, name: str) -> bool:
    if file is None:
        return bool(_SECURITY.search(name))
    return not _reviews(file)
