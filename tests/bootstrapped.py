"""A sandbox account bootstrapped for the quickstart, and sessions of its generated roles as
GitHub (OIDC tokens) and CodeBuild (service-role sessions) get them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iam_helpers import assume, client_as

from lmi_delivery.bootstrap.apply import apply_plane
from lmi_delivery.bootstrap.model import Plane
from lmi_delivery.bootstrap.trust import branch_subject, environment_subject, pull_request_subject
from lmi_delivery.config import load
from lmi_delivery.config.model import Config
from lmi_delivery.sandbox import Sandbox
from lmi_delivery.sandbox.codebuild.role import service_role_session

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart" / "lmi-delivery.yml"
REPOSITORY = "acme/quickstart"


class SandboxClients:
    """The client factory ``apply_plane`` takes, as the account's own credentials."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def client(self, name: str) -> Any:
        return self.sandbox.client(name)


@dataclass
class Bootstrapped:
    sandbox: Sandbox
    config: Config
    plane: Plane

    def github(self, role_key: str) -> dict[str, str]:
        """Credentials of a GitHub role (review, plan, deploy, prune) for the token GitHub
        gives the job that role trusts."""
        env = self.plane.environment
        branch = self.config.environment(env).branch
        subjects = {"review": pull_request_subject(REPOSITORY),
                    "plan": branch_subject(REPOSITORY, branch),
                    "deploy": environment_subject(REPOSITORY, env),
                    "prune": branch_subject(REPOSITORY, self.config.github.default_branch)}
        return assume(self.sandbox.client("sts"), self.arn(role_key), subjects[role_key])

    def build(self, project_key: str) -> dict[str, str]:
        """Credentials a build of the project gets: a session of its service role."""
        project = next(p for p in self.plane.projects if p.key == project_key)
        arn = f"arn:aws:codebuild:{self.plane.region}:{self.plane.account}:project/{project.name}"
        found = service_role_session(arn, self.arn(project.role), "build", enforce=True)
        assert found is not None
        return {"aws_access_key_id": found.access_key,
                "aws_secret_access_key": found.secret_key,
                "aws_session_token": found.session_token or ""}

    def arn(self, role_key: str) -> str:
        return f"arn:aws:iam::{self.plane.account}:role/{self.plane.role(role_key).name}"

    def client(self, service: str, credentials: dict[str, str]) -> Any:
        return client_as(self.sandbox.endpoint_url, self.sandbox.region, service, credentials)


def bootstrap(sandbox: Sandbox, env_name: str = "dev", config_path: Path = QUICKSTART,
              ) -> Bootstrapped:
    """``bootstrap --apply`` of ``env_name`` on the sandbox's fresh account, as its root."""
    config = load(config_path)
    plane, _ = apply_plane(config, config.environment(env_name), repository=REPOSITORY,
                           account=None, stack=None, shared=True,
                           clients=SandboxClients(sandbox), say=lambda line: None)
    return Bootstrapped(sandbox, config, plane)
