"""The GitHub side of one environment as ``gh api`` commands a repository admin runs.

The environment with its deployment-branch policy (only the environment's branch may deploy)
and, for ``apply: approval``, required reviewers (a team, named when the script runs); the
variables the workflow templates read: ``LMI_DEPLOY_ROLE_ARN`` on the environment (only its
approved jobs see it), and on the repository ``AWS_REGION`` and, per environment (its name upper
case, ``-`` as ``_``), ``LMI_REVIEW_ROLE_ARN_<ENV>`` (pull requests and drift),
``LMI_PLAN_ROLE_ARN_<ENV>`` (the deploy plan job) and ``LMI_PRUNE_ROLE_ARN_<ENV>``. The jobs
that run without the environment (a pull request must not name it) pick theirs by name:
``vars[format('LMI_REVIEW_ROLE_ARN_{0}', matrix.environment)]``; GitHub looks variable names up
regardless of case.

:func:`operations` is that side as data, in order: :func:`render_github` renders it as ``gh api``
commands, :mod:`lmi_delivery.bootstrap.github_apply` applies it through the REST API, so the two
cannot set different things.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Literal

from lmi_delivery.bootstrap.arns import Arns
from lmi_delivery.bootstrap.model import Plane

REVIEWER_VARIABLE = "LMI_REVIEWER_TEAM"
#: Only the branches the environment's policies name may deploy to it.
BRANCH_POLICY = {"protected_branches": False, "custom_branch_policies": True}


def variables(plane: Plane) -> tuple[dict[str, str], dict[str, str]]:
    """(environment variables, repository variables) the workflows read."""
    arns = Arns(plane.account, plane.region)
    env = {"LMI_DEPLOY_ROLE_ARN": arns.role(plane.role("deploy").name)}
    suffix = variable_suffix(plane.environment)
    repo = {"AWS_REGION": plane.region,
            f"LMI_REVIEW_ROLE_ARN_{suffix}": arns.role(plane.role("review").name),
            f"LMI_PLAN_ROLE_ARN_{suffix}": arns.role(plane.role("plan").name),
            f"LMI_PRUNE_ROLE_ARN_{suffix}": arns.role(plane.role("prune").name)}
    return env, repo


def variable_suffix(environment: str) -> str:
    """The environment's part of a variable's name: GitHub's names are ``[A-Z0-9_]``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", environment).upper()


@dataclass(frozen=True)
class PutEnvironment:
    """Create or update the environment: required reviewers (a team, named when it runs)
    only for ``apply: approval``, and deployments from custom branch policies only."""

    name: str
    team_reviewers: bool
    prevent_self_review: bool

    def body(self, team_id: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.team_reviewers:
            if team_id is None:
                raise ValueError(f"environment {self.name} needs the id of its reviewer team")
            body["reviewers"] = [{"type": "Team", "id": team_id}]
            if self.prevent_self_review:
                body["prevent_self_review"] = True
        body["deployment_branch_policy"] = dict(BRANCH_POLICY)
        return body


@dataclass(frozen=True)
class EnsureBranchPolicy:
    """The deployment-branch policy of the environment's branch, created only if missing."""

    environment: str
    branch: str


@dataclass(frozen=True)
class SetVariable:
    """A variable set (updated, or created when missing) on the environment or the
    repository."""

    scope: Literal["environment", "repository"]
    name: str
    value: str


Operation = PutEnvironment | EnsureBranchPolicy | SetVariable


def operations(plane: Plane) -> tuple[Operation, ...]:
    """The GitHub side of the plane, in order: what ``--github-commands`` renders and
    ``--github`` applies."""
    env = plane.github
    env_vars, repo_vars = variables(plane)
    return (PutEnvironment(env.name, env.required_reviewers,
                           env.required_reviewers and env.prevent_self_review),
            EnsureBranchPolicy(env.name, env.branch),
            *(SetVariable("environment", n, v) for n, v in env_vars.items()),
            *(SetVariable("repository", n, v) for n, v in repo_vars.items()))


def render_github(plane: Plane) -> str:
    env = plane.github
    q = shlex.quote
    lines = [
        "#!/bin/sh",
        f"# The GitHub side of environment {env.name} of {plane.repository}, rendered by",
        "# `lmi-delivery bootstrap --github-commands`. Run it with `gh` signed in as an admin of",
        "# the repository; running it again changes nothing.",
        "set -eu",
        f"REPO={q(plane.repository)}",
        f"ENVIRONMENT={q(env.name)}",
        "",
    ]
    owner = plane.repository.split("/", 1)[0]
    ops = operations(plane)
    for op in ops:
        if isinstance(op, PutEnvironment):
            lines += _put_environment(op, owner)
        elif isinstance(op, EnsureBranchPolicy):
            lines += _ensure_branch_policy(op)
    lines.append("# Variables the workflow templates read.")
    paths = {"environment": "repos/$REPO/environments/$ENVIRONMENT/variables",
             "repository": "repos/$REPO/actions/variables"}
    for op in ops:
        if isinstance(op, SetVariable):
            lines += _set_variable(paths[op.scope], op.name, op.value)
    return "\n".join(lines) + "\n"


def _put_environment(op: PutEnvironment, owner: str) -> list[str]:
    lines: list[str] = []
    command = ["gh api --method PUT \"repos/$REPO/environments/$ENVIRONMENT\""]
    if op.team_reviewers:
        lines += [
            f"# apply: approval — a team must approve each apply; name it in {REVIEWER_VARIABLE}.",
            f": \"${{{REVIEWER_VARIABLE}:?set {REVIEWER_VARIABLE} to the slug of the team of "
            f"approvers in {owner}}}\"",
            f"team_id=$(gh api \"orgs/{owner}/teams/${REVIEWER_VARIABLE}\" --jq .id)",
        ]
        command += ["  -F 'reviewers[][type]=Team' -F \"reviewers[][id]=$team_id\""]
        if op.prevent_self_review:
            command += ["  -F prevent_self_review=true"]
    command += [f"  -F 'deployment_branch_policy[{key}]={str(value).lower()}'"
                for key, value in BRANCH_POLICY.items()]
    return [*lines, " \\\n".join(command), ""]


def _ensure_branch_policy(op: EnsureBranchPolicy) -> list[str]:
    q = shlex.quote
    return [
        f"# Only the branch {op.branch} may deploy to {op.environment}.",
        "gh api \"repos/$REPO/environments/$ENVIRONMENT/deployment-branch-policies\" \\",
        "  --jq '.branch_policies[].name' | grep -qxF " + q(op.branch) + " || \\",
        "  gh api --method POST \"repos/$REPO/environments/$ENVIRONMENT/"
        f"deployment-branch-policies\" -f name={q(op.branch)} -f type=branch",
        "",
    ]


def _set_variable(path: str, name: str, value: str) -> list[str]:
    q = shlex.quote
    return [f"gh api --method PATCH \"{path}/{name}\" -f name={q(name)} -f value={q(value)} "
            f"2>/dev/null || \\",
            f"  gh api --method POST \"{path}\" -f name={q(name)} -f value={q(value)}"]
