"""The plan build and the apply build: what ``lmi-delivery terraform plan|apply`` do in CodeBuild.

**Plan build**: ``fmt -check`` (when ``gates.validation.fmt``), ``init``, ``validate``,
``plan -out=lmi-delivery.tfplan`` (in the working directory), ``show -json``; the plan summary;
then the plan file and its metadata are stored under the keys of this service, environment and
commit (:mod:`lmi_delivery.terraform.handoff`).

**Apply build**: load the metadata and the plan file for exactly this commit and environment,
refuse if there is none, if it was already applied, if the file does not hash to the recorded
sha256 or if its binding (commit, environment, working directory, Terraform version, config
digest) differs from this build's; only then ``init`` and ``apply lmi-delivery.tfplan``. A plan
Terraform calls stale is refused too. Nothing is ever re-planned. After a successful apply an
``applied.json`` marker is written beside the plan (the metadata is left as it was).

:func:`make_services` is the factory the CLI calls: it loads the configuration and builds the S3
client and the Terraform runner from the environment mapping handed in at the edge.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lmi_delivery import process
from lmi_delivery.config import load
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import GateRefused, UsageError
from lmi_delivery.planner import PLAN_FILE
from lmi_delivery.terraform.handoff import (
    AppliedMarker,
    PlanBinding,
    PlanKeys,
    PlanMetadata,
    PlanStore,
    verify,
)
from lmi_delivery.terraform.runner import StalePlan, TerraformRunner
from lmi_delivery.terraform.summary import PlanSummary, summarize

Clock = Callable[[], datetime]
_COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
#: Where CodeBuild says which commit it checked out, and where the orchestrator says which it meant.
CHECKED_OUT = "CODEBUILD_RESOLVED_SOURCE_VERSION"
REQUESTED = "LMI_DELIVERY_COMMIT"


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


@dataclass
class Services:
    config: Config
    env: Environment
    commit: str
    store: PlanStore
    runner: TerraformRunner
    keys: PlanKeys
    build_id: str | None = None
    clock: Clock = utc_now
    environ: Mapping[str, str] = field(default_factory=dict)
    """The environment scanners run with (PATH); read once by :func:`make_services`."""
    say: Callable[[str], None] | None = None
    """Where gate findings are written (stderr in the CLI)."""

    @property
    def binding(self) -> PlanBinding:
        return PlanBinding.of(self.config, self.env, self.commit)

    @property
    def planfile(self) -> Path:
        """``lmi-delivery.tfplan`` in the working directory, as the dry run shows it."""
        return self.runner.working_dir / PLAN_FILE


def make_services(request: BuildRequest, environ: Mapping[str, str], *,
                  stream: process.LineCallback | None = None) -> Services:
    """Load the config, resolve the commit, build the S3 client and the Terraform runner."""
    from lmi_delivery.aws import AwsSettings, ClientFactory

    config = load(request.config_path)
    env = config.environment(request.env_name)
    commit = resolve_commit(request.commit, environ)
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None
    settings = AwsSettings.from_environ(environ, region=region or config.region_for(env))
    runner = TerraformRunner(
        request.terraform, config.terraform, config.root, environ, env.name, stream=stream,
        placeholders={"service": config.service, "region": config.region_for(env),
                      "account": env.account_id or "", "name": ""})
    return Services(config, env, commit, PlanStore(ClientFactory(settings).client("s3")),
                    runner, PlanKeys.of(config, env, commit),
                    build_id=environ.get("CODEBUILD_BUILD_ID") or None, environ=dict(environ),
                    say=stream)


# -- the plan build ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOutcome:
    metadata: PlanMetadata
    summary: PlanSummary
    keys: PlanKeys

    def exports(self) -> dict[str, str]:
        """What the buildspec exports for the orchestrator (``exported-variables``)."""
        return {
            "LMI_PLAN_URL": self.metadata.plan_url,
            "LMI_PLAN_METADATA_URL": self.keys.url(self.keys.metadata),
            "LMI_PLAN_SHA256": self.metadata.plan_sha256,
            "LMI_PLAN_SUMMARY": self.summary.text(),
            "LMI_PLAN_HAS_CHANGES": "true" if self.summary.has_changes else "false",
        }

    def report(self) -> str:
        m = self.metadata
        lines = [f"{m.service} {m.environment} at {m.commit}: {self.summary.text()}"]
        lines += [f"  {r.action:<8} {r.address}" for r in self.summary.resources]
        lines += [f"  {action:<8} output.{name}" for name, action in
                  sorted(self.summary.outputs.items())]
        lines.append(f"stored {m.plan_url} (sha256 {m.plan_sha256})")
        return "\n".join(lines) + "\n"


def plan_build(svc: Services) -> PlanOutcome:
    runner, planfile = svc.runner, svc.planfile
    validation = svc.config.gates.validation
    if validation.enabled and validation.fmt:
        unformatted = runner.fmt_check()
        if unformatted:
            raise GateRefused(f"terraform fmt would change {len(unformatted)} file(s) in "
                              f"{svc.config.terraform.working_directory}: "
                              f"{', '.join(unformatted)} (gates.validation.fmt)")
    runner.init()
    runner.validate()
    runner.plan(planfile)
    plan_json = runner.show_json(planfile)
    _run_gates(svc, plan_json)
    summary = summarize(plan_json)
    plan = planfile.read_bytes()
    metadata = PlanMetadata.build(
        svc.binding, plan, svc.keys.url(svc.keys.plan), created_at=timestamp(svc.clock()),
        summary=summary.to_dict(), build_id=svc.build_id)
    svc.store.save(svc.keys, plan, metadata)
    return PlanOutcome(metadata, summary, svc.keys)


def _run_gates(svc: Services, plan_json: Mapping[str, Any]) -> None:
    """The LMI constraint checks and the security rules on the plan, before it is stored.

    A plan either gate refuses is never stored, so it can never be applied.
    """
    from lmi_delivery.gates.plan_json import Plan
    from lmi_delivery.gates.render import text
    from lmi_delivery.gates.runner import security_report, validation_report

    plan = Plan(plan_json, str(svc.planfile.name))
    reports = [
        validation_report(svc.config, plan, environment=svc.env.name),
        security_report(svc.config, plan, env=svc.environ, today=svc.clock().date(),
                        environment=svc.env.name),
    ]
    for report in reports:
        if svc.say is not None and report.enabled:
            for line in text(report).splitlines():
                svc.say(line)
    for report in reports:
        report.enforce()


# -- the apply build -----------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyOutcome:
    metadata: PlanMetadata
    marker: AppliedMarker

    def exports(self) -> dict[str, str]:
        return {
            "LMI_APPLIED_PLAN_SHA256": self.marker.plan_sha256,
            "LMI_APPLIED_AT": self.marker.applied_at,
            "LMI_PLAN_SUMMARY": str(self.metadata.summary.get("text", "")),
        }

    def report(self) -> str:
        m = self.metadata
        return (f"applied the reviewed plan for {m.service} {m.environment} at {m.commit} "
                f"(sha256 {m.plan_sha256}, made {m.created_at}): "
                f"{m.summary.get('text', '')}\n")


def apply_build(svc: Services) -> ApplyOutcome:
    """Apply the reviewed plan of this commit and environment, or refuse (exit 3)."""
    env, commit, keys = svc.env, svc.commit, svc.keys
    if env.apply == "never":
        raise GateRefused(f"environment {env.name} has apply: never in {svc.config.path.name}")
    metadata = svc.store.metadata(keys)
    if metadata is None:
        raise GateRefused(
            f"no reviewed plan for {env.name} at {commit}: the plan build for this commit has "
            f"not run or its artifact expired (looked for {keys.url(keys.metadata)})")
    _refuse_if_applied(svc, metadata)
    plan = svc.store.plan(keys)
    if plan is None:
        raise GateRefused(f"the reviewed plan for {env.name} at {commit} has metadata but no "
                          f"plan file at {keys.url(keys.plan)}; run the plan build again")
    verify(metadata, plan, svc.binding)
    _write(svc.planfile, plan)
    svc.runner.init()
    try:
        svc.runner.apply(svc.planfile)
    except StalePlan as exc:
        raise GateRefused(
            f"Terraform refused the plan for {env.name} at {commit} as stale: the state changed "
            "after it was made (another apply ran). Nothing was applied; run the plan build "
            "again and review the new plan.", context={"plan_url": metadata.plan_url}) from exc
    marker = AppliedMarker(metadata.plan_sha256, commit, env.name, timestamp(svc.clock()),
                           svc.build_id)
    svc.store.mark_applied(keys, marker)
    return ApplyOutcome(metadata, marker)


def _refuse_if_applied(svc: Services, metadata: PlanMetadata) -> None:
    marker = svc.store.applied(svc.keys)
    if marker is not None and marker.plan_sha256 == metadata.plan_sha256:
        by = f" by build {marker.build_id}" if marker.build_id else ""
        raise GateRefused(
            f"the plan for {svc.env.name} at {svc.commit} (sha256 {metadata.plan_sha256}) was "
            f"already applied at {marker.applied_at}{by}; a plan is applied once. Run the plan "
            "build again to plan from the current state.")


def _write(path: Path, data: bytes) -> None:
    """Write the verified bytes atomically: Terraform never sees a half-written plan."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".lmi-plan-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def exports_text(values: Mapping[str, str]) -> str:
    """``KEY=VALUE`` lines, values quoted for a POSIX shell (the buildspec sources the file)."""
    return "".join(f"{key}={shlex.quote(' '.join(value.split()))}\n"
                   for key, value in values.items())


def write_exports(path: Path, values: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(exports_text(values), encoding="utf-8")
