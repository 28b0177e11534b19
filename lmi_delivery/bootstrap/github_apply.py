"""``bootstrap --github``: the GitHub side of one environment applied through the REST API.

It carries out :func:`~lmi_delivery.bootstrap.github.operations`, the same operations the
``gh api`` script renders: the environment (its required reviewers a team, looked up by slug,
before anything is written), its deployment-branch policy (created only if missing) and the
variables (``PATCH``, ``POST`` when missing). Running it again changes nothing.

The client is passed in (the CLI builds :class:`lmi_delivery.github.rest.GithubRest` from the
token), so this module calls no endpoint by itself and never sees the token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from lmi_delivery.bootstrap.github import (
    EnsureBranchPolicy,
    Operation,
    PutEnvironment,
    SetVariable,
    operations,
)
from lmi_delivery.bootstrap.model import Plane
from lmi_delivery.errors import OperationFailed, UsageError

T = TypeVar("T")


class GithubApi(Protocol):
    """The calls of :class:`~lmi_delivery.github.rest.GithubRest` this module makes."""

    def team(self, org: str, slug: str) -> dict[str, Any]: ...

    def environment(self, repo: str, name: str) -> dict[str, Any] | None: ...

    def put_environment(self, repo: str, name: str,
                        body: dict[str, Any]) -> dict[str, Any]: ...

    def deployment_branch_policies(self, repo: str,
                                   environment: str) -> list[dict[str, Any]]: ...

    def create_deployment_branch_policy(self, repo: str, environment: str, name: str,
                                        kind: str = "branch") -> dict[str, Any]: ...

    def update_variable(self, repo: str, name: str, value: str, *,
                        environment: str | None = None) -> bool: ...

    def create_variable(self, repo: str, name: str, value: str, *,
                        environment: str | None = None) -> None: ...


def check_reviewer_team(plane: Plane, team: str | None) -> None:
    """``--reviewer-team`` fits the environment: given exactly when it needs approvers."""
    env = plane.github
    if env.required_reviewers and not team:
        raise UsageError(f"environment {env.name} has apply: approval: name the team of "
                         "approvers with --reviewer-team SLUG")
    if team and not env.required_reviewers:
        raise UsageError(f"--reviewer-team {team}: environment {env.name} has apply: auto, "
                         "it has no required reviewers")


def apply_github(plane: Plane, api: GithubApi, *, reviewer_team: str | None,
                 say: Callable[[str], None]) -> None:
    """Apply the plane's GitHub side, saying one line per thing set."""
    check_reviewer_team(plane, reviewer_team)
    owner = plane.repository.split("/", 1)[0]
    team_id = None
    if reviewer_team:
        team = _call(plane, f"looking up team {reviewer_team} of {owner}",
                     lambda: api.team(owner, reviewer_team))
        team_id = team.get("id")
        if not isinstance(team_id, int):
            raise OperationFailed(f"team {reviewer_team} of {owner}: GitHub sent no id")
    for op in operations(plane):
        say(_apply(plane, api, op, team_id))


def _apply(plane: Plane, api: GithubApi, op: Operation, team_id: int | None) -> str:
    repo = plane.repository
    if isinstance(op, PutEnvironment):
        what = f"environment {op.name}"
        existed = _call(plane, f"reading {what}", lambda: api.environment(repo, op.name))
        _call(plane, f"setting {what}",
              lambda: api.put_environment(repo, op.name, op.body(team_id)))
        return f"{what}: {'updated' if existed is not None else 'created'}"
    if isinstance(op, EnsureBranchPolicy):
        what = f"deployment branch {op.branch} of environment {op.environment}"
        policies = _call(plane, f"listing the deployment branches of {op.environment}",
                         lambda: api.deployment_branch_policies(repo, op.environment))
        if any(p.get("name") == op.branch and p.get("type", "branch") == "branch"
               for p in policies):
            return f"{what}: already there"
        _call(plane, f"creating {what}",
              lambda: api.create_deployment_branch_policy(repo, op.environment, op.branch))
        return f"{what}: created"
    return _set_variable(plane, api, op)


def _set_variable(plane: Plane, api: GithubApi, op: SetVariable) -> str:
    repo = plane.repository
    environment = plane.github.name if op.scope == "environment" else None
    what = f"variable {op.name}" + (f" of environment {environment}" if environment else "")
    updated = _call(plane, f"setting {what}", lambda: api.update_variable(
        repo, op.name, op.value, environment=environment))
    if not updated:
        _call(plane, f"creating {what}", lambda: api.create_variable(
            repo, op.name, op.value, environment=environment))
    return f"{what}: set"


def _call(plane: Plane, doing: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except OperationFailed as error:
        hint = ""
        if error.context.get("status") in (401, 403):
            hint = (f" (the token needs admin rights on {plane.repository}, and to read the "
                    "organisation's teams for reviewers)")
        raise OperationFailed(f"bootstrap --github: {doing}: {error}{hint}",
                              context=error.context) from None
