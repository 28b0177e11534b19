"""The plan build and the apply build: what ``lmi-delivery terraform plan|apply`` do in CodeBuild.

**Plan build**: ``fmt -check`` (when ``gates.validation.fmt``), ``init``, ``validate``, ``plan
-out=lmi-delivery.tfplan`` (in the working directory), ``show -json``; the gates; then the plan
file and its metadata are stored content-addressed (:mod:`~lmi_delivery.terraform.handoff`): a
*deploy plan* when the build was started for a deploy (``LMI_DELIVERY_MODE=deploy``, a push or
dispatch) in the environment's ``plan`` project, a *review plan* under the review prefix
otherwise. The build exports the plan's sha256 and kind for the orchestrator to read back from
CodeBuild.

**Apply build**: refuse unless the event is a deploy event; read the plan build's record from
CodeBuild and refuse unless it vouches for the sha256 the orchestrator passed
(:mod:`~lmi_delivery.terraform.binding`); refuse unless the object at that sha256's key hashes
to it and its binding (commit, environment, working directory, Terraform version, config digest)
is this build's; take the environment's apply lock; refuse a plan already in the apply history,
a commit that is not the branch's head, or one behind the last applied commit (unless
``--allow-older``); only then ``init`` and ``apply lmi-delivery.tfplan``, and append the apply
to the history. A plan Terraform calls stale is refused too. Nothing is ever re-planned.

Every refusal is :class:`~lmi_delivery.errors.GateRefused` (exit 3) and leaves the state as it
was. :func:`make_services` is the factory the CLI calls: it reads the environment mapping handed
in at the edge, once.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lmi_delivery import process
from lmi_delivery.config import load, naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import GateRefused, UsageError
from lmi_delivery.events import is_pull_request_event
from lmi_delivery.planner import PLAN_FILE
from lmi_delivery.terraform import lineage
from lmi_delivery.terraform.binding import DEPLOY_EVENTS, PlanClaim, verify_plan_build
from lmi_delivery.terraform.handoff import (
    ApplyRecord,
    PlanBinding,
    PlanKind,
    PlanLocation,
    PlanMetadata,
    PlanStore,
    StoreSettings,
    history_prefix,
    record_key,
    sha256_hex,
    verify,
)
from lmi_delivery.terraform.runner import StalePlan, TerraformRunner
from lmi_delivery.terraform.summary import PlanSummary, summarize

Clock = Callable[[], datetime]
LockFactory = Callable[["Services"], AbstractContextManager[object]]
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
class Services:
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
                  stream: process.LineCallback | None = None) -> Services:
    """Load the config, resolve the commit, build the AWS clients and the Terraform runner."""
    from lmi_delivery.aws.clients import clients_for

    config = load(request.config_path)
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
    return Services(config, env, commit, PlanStore(s3, StoreSettings.of(config)), runner,
                    event=event, mode=mode_of(event, environ.get("LMI_DELIVERY_MODE") or None),
                    build_id=environ.get("CODEBUILD_BUILD_ID") or None, environ=dict(environ),
                    say=stream, codebuild=factory.client("codebuild"),
                    lambda_client=factory.client("lambda"),
                    lock=_s3_lock(s3), allow_older=request.allow_older)


def _s3_lock(s3: Any) -> LockFactory:
    """The environment's apply lock in the artifacts bucket, held by this build."""

    def lock(svc: Services) -> AbstractContextManager[object]:
        from lmi_delivery.terraform.lock import ApplyLock

        return ApplyLock(s3, naming.artifact_location(svc.config).bucket,
                         naming.environment_key(svc.config, svc.env, "locks", "apply.lock"),
                         svc.build_id or "a local apply", environment=svc.env.name,
                         commit=svc.commit,
                         timeout_minutes=svc.config.codebuild.timeout_minutes, say=svc.say)

    return lock


# -- the plan build ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOutcome:
    metadata: PlanMetadata
    summary: PlanSummary
    location: PlanLocation

    def exports(self) -> dict[str, str]:
        """What the buildspec exports for the orchestrator (``exported-variables``)."""
        sha = self.metadata.plan_sha256
        return {
            "LMI_VERDICT": "succeeded",
            "LMI_PLAN_KIND": self.location.kind,
            "LMI_PLAN_URL": self.metadata.plan_url,
            "LMI_PLAN_METADATA_URL": self.location.url(self.location.metadata_key(sha)),
            "LMI_PLAN_SHA256": sha,
            "LMI_PLAN_SUMMARY": self.summary.text(),
            "LMI_PLAN_HAS_CHANGES": "true" if self.summary.has_changes else "false",
        }

    def report(self) -> str:
        m = self.metadata
        lines = [f"{m.service} {m.environment} at {m.commit}: {self.summary.text()}"]
        lines += [f"  {r.action:<8} {r.address}" for r in self.summary.resources]
        lines += [f"  {action:<8} output.{name}" for name, action in
                  sorted(self.summary.outputs.items())]
        lines.append(f"stored the {m.kind} plan {m.plan_url} (sha256 {m.plan_sha256})")
        return "\n".join(lines) + "\n"


def _plan_kind(svc: Services) -> PlanKind:
    """Deploy plans only in the plan project, for a deploy; review plans never there."""
    plan_project, review_project = svc.project_name("plan"), svc.project_name("review")
    running = svc.project
    if svc.mode == "deploy":
        if running is not None and running != plan_project:
            raise GateRefused(f"a deploy plan is made only by the plan project {plan_project}, "
                              f"not by {running}")
        return "deploy"
    if running is not None and running == plan_project:
        raise GateRefused(f"a {svc.event or 'review'} build runs in the review project "
                          f"{review_project}, never in the plan project {plan_project}")
    return "review"


def plan_build(svc: Services) -> PlanOutcome:
    kind = _plan_kind(svc)
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
    location = svc.location(kind)
    metadata = PlanMetadata.build(
        svc.binding, plan, location.url(location.plan_key(sha256_hex(plan))),
        created_at=timestamp(svc.clock()), summary=summary.to_dict(), kind=kind,
        event=svc.event, build_id=svc.build_id)
    svc.store.save(location, plan, metadata)
    return PlanOutcome(metadata, summary, location)


def _run_gates(svc: Services, plan_json: Mapping[str, Any]) -> None:
    """The LMI constraint checks and the security rules on the plan, before it is stored.

    A plan either gate refuses is never stored, so it can never be applied.
    """
    from lmi_delivery.gates.plan_json import Plan
    from lmi_delivery.gates.render import text
    from lmi_delivery.gates.runner import security_report, validation_report

    plan = Plan(plan_json, str(svc.planfile.name))
    reports = [
        validation_report(svc.config, plan, environment=svc.env.name,
                          lambda_client=svc.lambda_client),
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
    record: ApplyRecord

    def exports(self) -> dict[str, str]:
        return {
            "LMI_VERDICT": "succeeded",
            "LMI_APPLIED_PLAN_SHA256": self.record.plan_sha256,
            "LMI_APPLIED_AT": self.record.applied_at,
            "LMI_PLAN_SUMMARY": str(self.metadata.summary.get("text", "")),
        }

    def report(self) -> str:
        m = self.metadata
        return (f"applied the reviewed plan for {m.service} {m.environment} at {m.commit} "
                f"(sha256 {m.plan_sha256}, plan build {self.record.plan_build_id}, made "
                f"{m.created_at}): {m.summary.get('text', '')}\n")


def apply_build(svc: Services) -> ApplyOutcome:
    """Apply the plan the plan build vouches for, or refuse (exit 3) with the state untouched."""
    env, commit = svc.env, svc.commit
    if env.apply == "never":
        raise GateRefused(f"environment {env.name} has apply: never in {svc.config.path.name}")
    if svc.event not in DEPLOY_EVENTS or svc.mode != "deploy":
        raise GateRefused(f"apply never runs for a {svc.event or 'missing'} event "
                          f"({svc.mode} mode): only a push or a dispatch on {env.branch} applies")
    claim = PlanClaim.from_environ(svc.environ)
    if svc.codebuild is None:  # pragma: no cover - make_services always provides one
        raise GateRefused("no CodeBuild client to read the plan build's record with")
    plan_build = verify_plan_build(svc.codebuild, claim, project=svc.project_name("plan"),
                                   commit=commit)
    location = svc.location("deploy")
    metadata = svc.store.metadata(location, claim.sha256)
    plan = svc.store.plan(location, claim.sha256)
    if metadata is None or plan is None:
        what = location.url(location.plan_key(claim.sha256))
        raise GateRefused(f"plan build {plan_build.id} vouches for sha256 {claim.sha256}, but "
                          f"{what} (or its metadata) is missing: expired or never stored; run "
                          "the plan build again")
    verify(metadata, plan, svc.binding, claim.sha256)
    with svc.lock(svc) if svc.lock is not None else contextlib.nullcontext():
        history = svc.store.history(location.bucket, history_prefix(svc.config, env))
        _refuse_by_history(svc, history, claim)
        _refuse_unless_head(svc)
        _write(svc.planfile, plan)
        svc.runner.init()
        try:
            svc.runner.apply(svc.planfile)
        except StalePlan as exc:
            raise GateRefused(
                f"Terraform refused the plan for {env.name} at {commit} as stale: the state "
                "changed after it was made (another apply ran). Nothing was applied; run the "
                "plan build again and review the new plan.",
                context={"plan_url": metadata.plan_url}) from exc
        record = ApplyRecord(env.name, commit, claim.sha256, claim.build_id, svc.build_id,
                             timestamp(svc.clock()),
                             approver=svc.environ.get("LMI_DELIVERY_APPROVER") or None,
                             run_url=svc.environ.get("LMI_DELIVERY_RUN_URL") or None,
                             allow_older=svc.allow_older)
        svc.store.append(location.bucket, record_key(svc.config, env, record), record)
    return ApplyOutcome(metadata, record)


def _refuse_by_history(svc: Services, history: list[ApplyRecord], claim: PlanClaim) -> None:
    for entry in history:
        if entry.plan_sha256 == claim.sha256:
            by = f" by build {entry.apply_build_id}" if entry.apply_build_id else ""
            raise GateRefused(
                f"the plan for {svc.env.name} at {svc.commit} (sha256 {claim.sha256}) was "
                f"already applied at {entry.applied_at}{by}; a plan is applied once. Run the "
                "plan build again to plan from the current state.")
    if not history or svc.allow_older:
        return
    last = history[-1]
    if last.commit == svc.commit:
        return
    descends = svc.descends(last.commit, svc.commit)
    if descends is None:
        raise GateRefused(
            f"cannot prove that {svc.commit} descends from the last applied commit "
            f"{last.commit}: the build's checkout lacks that history (use a git source with "
            "full clone depth); nothing was applied")
    if not descends:
        raise GateRefused(
            f"{svc.commit} is older than (or not a descendant of) the last applied commit "
            f"{last.commit} of {svc.env.name} (applied {last.applied_at}); nothing was applied. "
            "A deliberate roll-back passes --allow-older, which the apply history records.")


def _refuse_unless_head(svc: Services) -> None:
    """Only the head of the environment's branch applies (a re-run of an old deploy does not)."""
    if svc.allow_older:
        return
    head = svc.head_of(svc.env.branch)
    if head is None:
        raise GateRefused(
            f"cannot read the head of branch {svc.env.branch} from the build's git source; "
            "the apply needs a git source whose origin is the repository (nothing was applied)")
    if head != svc.commit:
        raise GateRefused(
            f"{svc.commit} is not the head of {svc.env.branch} ({head} is): a newer commit "
            "superseded it, so its deploy is not applied; nothing was applied")


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
