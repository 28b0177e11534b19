"""The apply is bound to the plan build, not to S3.

The plan build exports ``LMI_PLAN_SHA256`` (and ``LMI_PLAN_KIND``); CodeBuild records the
exported variables, the project, the status, the commit and the start request's variables of
every build, and no other build can write that record. The orchestrator hands the apply build the
plan build's id and that sha256; the apply build reads the record back (``BatchGetBuilds``) and
refuses unless the plan build

- ran in this environment's ``plan`` project (never the ``review`` project),
- SUCCEEDED,
- checked out this commit,
- was started for a deploy (``LMI_DELIVERY_MODE=deploy``, a push or dispatch event), and
- exported that sha256 as a deploy plan.

Only then is the object at the sha256's key downloaded, and it must hash to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lmi_delivery.config.roots import ROOT_VARIABLE
from lmi_delivery.errors import GateRefused, UsageError

#: Events that may produce a deploy plan (and so an apply): a push or a manual dispatch on the
#: environment's branch, or a workflow_run of such a push that lmi-delivery vetted.
DEPLOY_EVENTS = frozenset({"push", "workflow_dispatch", "workflow_run"})
PLAN_BUILD_ID = "LMI_PLAN_BUILD_ID"
PLAN_SHA256 = "LMI_PLAN_SHA256"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PlanClaim:
    """What the orchestrator says the apply build should apply."""

    build_id: str
    sha256: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> PlanClaim:
        build_id = environ.get(PLAN_BUILD_ID, "").strip()
        sha = environ.get(PLAN_SHA256, "").strip().lower()
        if not build_id or not sha:
            raise GateRefused(
                f"no plan build to apply: the apply build needs {PLAN_BUILD_ID} and "
                f"{PLAN_SHA256} (the orchestrator passes the plan build's id and exported "
                "sha256; `lmi-delivery apply --plan-build ID` does)")
        if not _SHA256.match(sha):
            raise UsageError(f"{PLAN_SHA256} {sha!r} is not a sha256 (64 hex digits)")
        return cls(build_id, sha)


@dataclass(frozen=True)
class PlanBuildRecord:
    """The facts of a plan build, as CodeBuild recorded them."""

    id: str
    project: str
    status: str
    commit: str
    variables: Mapping[str, str]
    """The start request's environment variables (plain-text ones)."""
    exported: Mapping[str, str]

    @classmethod
    def from_build(cls, build: Mapping[str, Any]) -> PlanBuildRecord:
        variables = {str(v.get("name")): str(v.get("value", ""))
                     for v in build.get("environment", {}).get("environmentVariables", [])
                     if v.get("type", "PLAINTEXT") == "PLAINTEXT"}
        exported = {str(v.get("name")): str(v.get("value") or "")
                    for v in build.get("exportedEnvironmentVariables", [])}
        commit = str(build.get("resolvedSourceVersion") or build.get("sourceVersion") or "")
        return cls(str(build.get("id", "")), str(build.get("projectName", "")),
                   str(build.get("buildStatus", "")), commit.lower(), variables, exported)


def read_plan_build(codebuild: Any, build_id: str) -> PlanBuildRecord:
    """The plan build's record from CodeBuild (``BatchGetBuilds``; AWS's refusals are left to
    the one translator)."""
    answer = codebuild.batch_get_builds(ids=[build_id])
    builds = answer.get("builds", [])
    if not builds:
        raise GateRefused(f"plan build {build_id} does not exist in CodeBuild")
    return PlanBuildRecord.from_build(builds[0])


def problems(record: PlanBuildRecord, claim: PlanClaim, *, project: str,
             commit: str, root: str = "") -> list[str]:
    """Every reason the plan build does not vouch for ``claim`` (empty: it does). ``root``:
    the Terraform root of this apply (``terraform.roots``), which the plan build must have
    been started for; empty for the one-root form."""
    found: list[str] = []
    planned_root = record.variables.get(ROOT_VARIABLE, "")
    if planned_root != root:
        found.append(f"it planned Terraform root {planned_root or '(the only one)'!s}, not "
                     f"{root or '(the only one)'}")
    if record.project != project:
        found.append(f"it ran in project {record.project!r}, not this environment's plan "
                     f"project {project!r}")
    if record.status != "SUCCEEDED":
        found.append(f"its status is {record.status or 'unknown'}, not SUCCEEDED")
    if record.commit != commit.lower():
        found.append(f"it planned commit {record.commit or 'unknown'}, not {commit}")
    mode = record.variables.get("LMI_DELIVERY_MODE", "")
    event = record.variables.get("LMI_DELIVERY_EVENT", "")
    if mode != "deploy" or event not in DEPLOY_EVENTS:
        found.append(f"it was started for a {event or 'unknown'} event in {mode or 'no'} mode, "
                     "not for a deploy (a push or dispatch on the environment's branch)")
    exported = record.exported.get(PLAN_SHA256, "")
    if exported != claim.sha256:
        found.append(f"it exported plan sha256 {exported or '(none)'}, not {claim.sha256}")
    if record.exported.get("LMI_PLAN_KIND", "") != "deploy":
        found.append("it did not export a deploy plan")
    return found


def verify_plan_build(codebuild: Any, claim: PlanClaim, *, project: str,
                      commit: str, root: str = "") -> PlanBuildRecord:
    """Refuse (exit 3) unless the plan build's own record vouches for ``claim``."""
    record = read_plan_build(codebuild, claim.build_id)
    found = problems(record, claim, project=project, commit=commit, root=root)
    if found:
        raise GateRefused(f"plan build {claim.build_id} does not vouch for this apply:\n  "
                          + "\n  ".join(found), context={"plan_build_id": claim.build_id})
    return record
