"""``run --sandbox``: the embedded sandbox, provisioned for one config, for the real code path.

It starts the sandbox in-process, creates what the config names (capacity providers, functions,
the artifacts bucket, as Terraform would have), snapshots the working copy into a git commit the
CodeBuild projects build from, and creates the plan, apply and post-deploy projects with the
buildspecs shipped in the package. ``lmi-delivery run`` then executes as it would against AWS.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from lmi_delivery import process
from lmi_delivery.config import naming
from lmi_delivery.config.model import PROJECT_KEYS, Config, Environment
from lmi_delivery.errors import OperationFailed
from lmi_delivery.plan.planner import secret_env

#: Seconds between build polls against the sandbox: its builds take seconds, not minutes.
SANDBOX_POLL_SECONDS = 1.0
BUILDSPEC_FILES = {"plan": "plan.yml", "apply": "apply.yml", "post_deploy": "post-deploy.yml",
                   "review": "plan.yml"}
_SKIP = shutil.ignore_patterns(".git", ".terraform", ".venv*", ".lmi-delivery", "__pycache__",
                               "*.tfstate", "*.tfstate.backup", "*.tfplan")
_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "lmi-delivery sandbox", "GIT_AUTHOR_EMAIL": "sandbox@localhost",
                 "GIT_COMMITTER_NAME": "lmi-delivery sandbox",
                 "GIT_COMMITTER_EMAIL": "sandbox@localhost"}


@dataclass(frozen=True)
class SandboxRun:
    environ: dict[str, str]
    """What the run's AWS clients read: the sandbox endpoint, fake credentials, the region."""
    commit: str
    """The snapshot commit the builds check out."""
    sandbox: Any


def buildspec_text(key: str) -> str:
    return (files("lmi_delivery") / "buildspecs" / BUILDSPEC_FILES[key]).read_text("utf-8")


def snapshot(root: Path, dest: Path, environ: Mapping[str, str],
             branches: Sequence[str] = ()) -> str:
    """Copy the working copy to ``dest`` as a one-commit git repository whose ``branches`` all
    point at that commit (it is their head, as after a push); return the commit."""
    shutil.copytree(root, dest, ignore=_SKIP)
    env = {"PATH": environ.get("PATH", "/usr/bin:/bin"), "HOME": str(dest), **_GIT_IDENTITY}
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                 ["git", "commit", "-q", "--no-gpg-sign", "-m", "lmi-delivery sandbox snapshot"]):
        process.run(argv, cwd=dest, env=env)
    sha = process.run(["git", "rev-parse", "HEAD"], cwd=dest, env=env).stdout.strip()
    if len(sha) != 40:
        raise OperationFailed(f"could not snapshot {root} as a git commit")
    for branch in sorted(set(branches) - {"main"}):
        process.run(["git", "branch", "-f", branch, sha], cwd=dest, env=env)
    return sha


def create_projects(codebuild: Any, config: Config, env: Environment, source: Path,
                    account: str) -> list[str]:
    names = []
    for key in PROJECT_KEYS:
        name = naming.project_name(config, env, key)
        codebuild.create_project(
            name=name,
            source={"type": "NO_SOURCE", "location": str(source), "buildspec": buildspec_text(key)},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={"type": "ARM_CONTAINER", "computeType": "BUILD_GENERAL1_SMALL",
                         "image": "aws/codebuild/amazonlinux-aarch64-standard:3.0"},
            serviceRole=f"arn:aws:iam::{account}:role/{config.service}-{env.name}-codebuild",
        )
        names.append(name)
    return names


def sandbox_secret_value(reference: str) -> str:
    """The made-up value the sandbox stores for a secret reference (a canary for tests)."""
    return "sandbox-secret-" + hashlib.sha256(reference.encode()).hexdigest()[:20]


def provision_secrets(sandbox: Any, config: Config, envs: Sequence[Environment]) -> list[str]:
    """Create every parameter and secret ``codebuild.secrets`` references, with made-up values."""
    ssm = sandbox.client("ssm")
    secrets = sandbox.client("secretsmanager")
    made = []
    for env in envs:
        for var in secret_env(config, env):
            value = sandbox_secret_value(var.value)
            if var.type == "PARAMETER_STORE":
                ssm.put_parameter(Name=var.value, Value=value, Type="SecureString",
                                  Overwrite=True)
            else:
                parts = var.value.split(":")
                cut = 7 if var.value.startswith("arn:") else 1
                name, rest = ":".join(parts[:cut]), parts[cut:]
                body = json.dumps({rest[0]: value}) if rest and rest[0] else value
                try:
                    secrets.create_secret(Name=name, SecretString=body)
                except secrets.exceptions.ResourceExistsException:
                    secrets.put_secret_value(SecretId=name, SecretString=body)
            made.append(var.value)
    return made


@contextmanager
def sandbox_session(config: Config, envs: Sequence[Environment], environ: Mapping[str, str],
                    *, say: Any) -> Iterator[SandboxRun]:
    """The sandbox, provisioned for ``envs``, and the environment that points clients at it."""
    from lmi_delivery.sandbox import Sandbox, SandboxOptions

    region = config.region_for(envs[0])
    with Sandbox(SandboxOptions(region=region)) as sandbox:
        say(f"sandbox: {sandbox.endpoint_url} (embedded, nothing leaves this machine)")
        sandbox.seed_from_config(config, [env.name for env in envs])
        referenced = provision_secrets(sandbox, config, envs)
        if referenced:
            say(f"sandbox: {len(referenced)} secret reference(s) provisioned with made-up values")
        commit = snapshot(config.root, sandbox.workdir / "source", environ,
                          [env.branch for env in envs])
        say(f"sandbox: working copy of {config.root} snapshotted as commit {commit[:12]}")
        projects = [name for env in envs for name in create_projects(
            sandbox.client("codebuild"), config, env, sandbox.workdir / "source",
            sandbox.account_id)]
        say(f"sandbox: CodeBuild projects {', '.join(projects)}")
        yield SandboxRun(
            environ={"AWS_ENDPOINT_URL": sandbox.endpoint_url, "AWS_ACCESS_KEY_ID": "sandbox",
                     "AWS_SECRET_ACCESS_KEY": "sandbox", "AWS_REGION": region},
            commit=commit,
            sandbox=sandbox,
        )


@contextmanager
def sandboxed(config: Config, envs: Sequence[Environment], environ: Mapping[str, str],
              say: Callable[[str], None]) -> Iterator[tuple[dict[str, str], str]]:
    """A fresh sandbox for ``envs``: the environment that points a run at it (the caller's own
    ``AWS_*`` variables dropped) and the snapshot commit its builds check out."""
    local = {k: v for k, v in environ.items() if not k.startswith("AWS_")}
    with sandbox_session(config, envs, local, say=say) as session:
        yield {**local, **session.environ}, session.commit
