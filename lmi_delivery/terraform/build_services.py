"""What the plan and apply builds run with: the request, the services, the commit and the mode.

The builds themselves are :mod:`~lmi_delivery.terraform.plan_build` and
:mod:`~lmi_delivery.terraform.apply_build`; both execute the steps the planner places in their
project (:func:`lmi_delivery.plan.planner.build_steps`), the very steps ``lmi-delivery plan``
shows.

Every refusal is :class:`~lmi_delivery.errors.GateRefused` (exit 3) and leaves the state as it
was. :func:`make_services` is the factory the CLI calls: it reads the environment mapping handed
in at the edge, once.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lmi_delivery import process
from lmi_delivery.config import load, naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.config.roots import ROOT_VARIABLE, for_root
from lmi_delivery.errors import GateRefused, UsageError
from lmi_delivery.plan.context import is_pull_request_event
from lmi_delivery.terraform import lineage
from lmi_delivery.terraform.argv import PLAN_FILE
from lmi_delivery.terraform.binding import DEPLOY_EVENTS
from lmi_delivery.terraform.handoff import (
    PlanBinding,
    PlanKind,
    PlanLocation,
    PlanStore,
    StoreSettings,
)
from lmi_delivery.terraform.invoke import TerraformRunner

Clock = Callable[[], datetime]
LockFactory = Callable[["BuildServices"], AbstractContextManager[object]]
_COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
#: Where CodeBuild says which commit it checked out, and where the orchestrator says which it meant.
CHECKED_OUT = "CODEBUILD_RESOLVED_SOURCE_VERSION"
REQUESTED = "LMI_DELIVERY_COMMIT"
MODES = ("deploy", "review", "drift")


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_commit(flag: str | None, environ: Mapping[str, str]) -> str:
    """The commit this build is for: the one CodeBuild checked out, which every other claim
    (``--commit``, ``LMI_DELIVERY_COMMIT``) must equal. A plan bound to the wrong commit is
    worse than no plan."""
    claims = {name: value.strip().lower() for name, value in (
        ("--commit", flag or ""), (REQUESTED, environ.get(REQUESTED, "")),
        (CHECKED_OUT, environ.get(CHECKED_OUT, ""))) if value.strip()}
    if not claims:
        raise UsageError(f"no commit: pass --commit or set {REQUESTED} "
                         f"(CodeBuild sets {CHECKED_OUT})")
    for name, value in claims.items():
        if not _COMMIT.match(value):
            raise UsageError(f"{name} {value!r} is not a full git commit id (40 hex digits)")
    if len(set(claims.values())) > 1:
        said = ", ".join(f"{name}={value}" for name, value in claims.items())
        raise GateRefused(f"conflicting commits ({said}): the checked-out source is not the "
                          "commit this build was started for; refusing to continue")
    return next(iter(claims.values()))


@dataclass(frozen=True)
class BuildRequest:
    config_path: str
    env_name: str
    commit: str | None = None
    terraform: str = "terraform"
    """The Terraform binary: a path, or a name looked up on ``PATH``."""
    allow_older: bool = False
    """Apply a commit behind the last applied one (a deliberate roll-back; recorded)."""


def mode_of(event: str, declared: str | None) -> str:
    """The build's mode: what the orchestrator declared, which the event must allow."""
    implied = ("review" if is_pull_request_event(event) or event == "merge_group"
               else "drift" if event == "schedule"
               else "deploy" if event in DEPLOY_EVENTS else "review")
    if declared and declared not in MODES:
        raise UsageError(f"LMI_DELIVERY_MODE {declared!r} is not one of {', '.join(MODES)}")
    if declared == "deploy" and implied != "deploy":
        raise GateRefused(f"a {event or 'missing'} event never makes a deploy plan: only a push "
                          "or a dispatch on the environment's branch does")
    return declared or implied


def project_of(build_id: str | None) -> str | None:
    """CodeBuild build ids are ``PROJECT:UUID``."""
    return build_id.rpartition(":")[0] or None if build_id else None


@dataclass
class BuildServices:
    config: Config
    env: Environment
    commit: str
    store: PlanStore
    runner: TerraformRunner
    event: str = ""
    """``LMI_DELIVERY_EVENT``: the GitHub event the orchestrator started the build for."""
    mode: str = "review"
    build_id: str | None = None
    clock: Clock = utc_now
    environ: Mapping[str, str] = field(default_factory=dict)
    """The environment scanners and git run with; read once by :func:`make_services`."""
    say: Callable[[str], None] | None = None
    """Where gate findings and progress are written (stderr in the CLI)."""
    codebuild: Any = None
    """The CodeBuild client the apply build reads the plan build's record with."""
    lambda_client: Any = None
    """The Lambda client the gates read AWS with (LMI013 lists the versions bound to a
    capacity provider the plan deletes); ``None``: the check only warns."""
    lock: LockFactory | None = None
    """The environment's apply lock (None: none, for tests of what happens inside it)."""
    allow_older: bool = False
    branch_head: Callable[[str], str | None] | None = None
    """The commit a branch of the build's git origin points to (default: git in the checkout)."""
    is_ancestor: Callable[[str, str], bool | None] | None = None
    """Whether the first commit is an ancestor of the second (default: git in the checkout)."""

    def head_of(self, branch: str) -> str | None:
        if self.branch_head is not None:
            return self.branch_head(branch)
        return lineage.branch_head(self.config.root, branch, self.environ)

    def descends(self, older: str, newer: str) -> bool | None:
        if self.is_ancestor is not None:
            return self.is_ancestor(older, newer)
        return lineage.is_ancestor(self.config.root, older, newer, self.environ)

    @property
    def binding(self) -> PlanBinding:
        return PlanBinding.of(self.config, self.env, self.commit)

    @property
    def planfile(self) -> Path:
        """``lmi-delivery.tfplan`` in the working directory, as the dry run shows it."""
        return self.runner.working_dir / PLAN_FILE

    @property
    def project(self) -> str | None:
        return project_of(self.build_id)

    def project_name(self, key: str) -> str:
        return naming.project_name(self.config, self.env, key)

    def location(self, kind: PlanKind) -> PlanLocation:
        return PlanLocation.of(self.config, self.env, self.commit, kind)


def make_services(request: BuildRequest, environ: Mapping[str, str], *,
                  stream: process.LineCallback | None = None) -> BuildServices:
    """Load the config, resolve the commit, build the AWS clients and the Terraform runner."""
    from lmi_delivery.aws.clients import clients_for

    # The root comes from the orchestrator's build variable; its directory, var files and
    # functions come from the config of the checked-out commit, never from a variable.
    config = for_root(load(request.config_path), environ.get(ROOT_VARIABLE, "").strip())
    env = config.environment(request.env_name)
    commit = resolve_commit(request.commit, environ)
    runner = TerraformRunner(
        request.terraform, config.terraform, config.root, environ, env.name, stream=stream,
        placeholders={"service": config.service, "region": config.region_for(env),
                      "account": env.account_id or "", "name": ""})
    event = environ.get("LMI_DELIVERY_EVENT", "").strip()
    # A build acts as its project's role (plan, review or apply), never the environment's.
    factory = clients_for(config, env, environ, assume_role=False)
    s3 = factory.client("s3")
    return BuildServices(config, env, commit, PlanStore(s3, StoreSettings.of(config)), runner,
                    event=event, mode=mode_of(event, environ.get("LMI_DELIVERY_MODE") or None),
                    build_id=environ.get("CODEBUILD_BUILD_ID") or None, environ=dict(environ),
                    say=stream, codebuild=factory.client("codebuild"),
                    lambda_client=factory.client("lambda"),
                    lock=_s3_lock(s3), allow_older=request.allow_older)


def _s3_lock(s3: Any) -> LockFactory:
    """The environment's apply lock in the artifacts bucket, held by this build."""

    def lock(svc: BuildServices) -> AbstractContextManager[object]:
        from lmi_delivery.terraform.lock import ApplyLock

        return ApplyLock(s3, naming.artifact_location(svc.config).bucket,
                         naming.environment_key(svc.config, svc.env, "locks", "apply.lock"),
                         svc.build_id or "a local apply", environment=svc.env.name,
                         commit=svc.commit,
                         timeout_minutes=svc.config.codebuild.timeout_minutes, say=svc.say)

    return lock


def exports_text(values: Mapping[str, str]) -> str:
    """``KEY=VALUE`` lines, values quoted for a POSIX shell (the buildspec sources the file)."""
    return "".join(f"{key}={shlex.quote(' '.join(value.split()))}\n"
                   for key, value in values.items())


def write_exports(path: Path, values: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(exports_text(values), encoding="utf-8")
