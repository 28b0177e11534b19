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
"""

from __future__ import annotations

import re
import shlex

from lmi_delivery.bootstrap.arns import Arns
from lmi_delivery.bootstrap.model import Plane

REVIEWER_VARIABLE = "LMI_REVIEWER_TEAM"


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


def _set_variable(path: str, name: str, value: str) -> list[str]:
    q = shlex.quote
    return [f"gh api --method PATCH \"{path}/{name}\" -f name={q(name)} -f value={q(value)} "
            f"2>/dev/null || \\",
            f"  gh api --method POST \"{path}\" -f name={q(name)} -f value={q(value)}"]


def render_github(plane: Plane) -> str:
    env = plane.github
    owner = plane.repository.split("/", 1)[0]
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
    environment = ["gh api --method PUT \"repos/$REPO/environments/$ENVIRONMENT\""]
    if env.required_reviewers:
        lines += [
            f"# apply: approval — a team must approve each apply; name it in {REVIEWER_VARIABLE}.",
            f": \"${{{REVIEWER_VARIABLE}:?set {REVIEWER_VARIABLE} to the slug of the team of "
            f"approvers in {owner}}}\"",
            f"team_id=$(gh api \"orgs/{owner}/teams/${REVIEWER_VARIABLE}\" --jq .id)",
        ]
        environment += ["  -F 'reviewers[][type]=Team' -F \"reviewers[][id]=$team_id\""]
        if env.prevent_self_review:
            environment += ["  -F prevent_self_review=true"]
    environment += ["  -F 'deployment_branch_policy[protected_branches]=false'",
                    "  -F 'deployment_branch_policy[custom_branch_policies]=true'"]
    lines += [" \\\n".join(environment), ""]
    lines += [
        f"# Only the branch {env.branch} may deploy to {env.name}.",
        "gh api \"repos/$REPO/environments/$ENVIRONMENT/deployment-branch-policies\" \\",
        "  --jq '.branch_policies[].name' | grep -qxF " + q(env.branch) + " || \\",
        "  gh api --method POST \"repos/$REPO/environments/$ENVIRONMENT/"
        f"deployment-branch-policies\" -f name={q(env.branch)} -f type=branch",
        "",
    ]
    env_vars, repo_vars = variables(plane)
    lines.append("# Variables the workflow templates read.")
    for name, value in env_vars.items():
        lines += _set_variable("repos/$REPO/environments/$ENVIRONMENT/variables", name, value)
    for name, value in repo_vars.items():
        lines += _set_variable("repos/$REPO/actions/variables", name, value)
    return "\n".join(lines) + "\n"
