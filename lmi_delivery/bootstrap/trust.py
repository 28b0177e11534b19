"""Who may assume each role: GitHub's OIDC tokens of one repository, or CodeBuild for a project.

The ``sub`` claims are GitHub's (docs: "About security hardening with OpenID Connect"):
``repo:OWNER/REPO:pull_request`` for pull requests, ``repo:OWNER/REPO:environment:ENV`` for a job
that names an environment, ``repo:OWNER/REPO:ref:refs/heads/BRANCH`` for a branch.
"""

from __future__ import annotations

from lmi_delivery.bootstrap.arns import GITHUB_OIDC_HOST, Arns
from lmi_delivery.bootstrap.model import Document, Statement

AUDIENCE = "sts.amazonaws.com"


def pull_request_subject(repository: str) -> str:
    return f"repo:{repository}:pull_request"


def environment_subject(repository: str, env: str) -> str:
    return f"repo:{repository}:environment:{env}"


def branch_subject(repository: str, branch: str) -> str:
    return f"repo:{repository}:ref:refs/heads/{branch}"


def github(arns: Arns, subject: str | tuple[str, ...]) -> Document:
    """Tokens of GitHub's OIDC provider for exactly ``subject`` (or one of those), for AWS
    STS."""
    return Document((Statement(
        "GitHubOidc", ("sts:AssumeRoleWithWebIdentity",),
        principal={"Federated": arns.oidc_provider()},
        conditions={"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": AUDIENCE,
                                     f"{GITHUB_OIDC_HOST}:sub": subject}}),))


def codebuild(arns: Arns, project: str) -> Document:
    """CodeBuild, for builds of exactly ``project`` in this account (no confused deputy)."""
    return Document((Statement(
        "CodeBuildProject", ("sts:AssumeRole",),
        principal={"Service": "codebuild.amazonaws.com"},
        conditions={"StringEquals": {"aws:SourceAccount": arns.account},
                    "ArnLike": {"aws:SourceArn": arns.project(project)}}),))
