"""The delivery plan: an ordered list of typed steps, grouped by stage. No I/O here.

The same steps are printed by ``lmi-delivery plan`` and executed: the runner's steps by
``lmi-delivery run`` (:mod:`lmi_delivery.execute.executor`), a build's steps by the build itself
(the plan and apply builds in :mod:`lmi_delivery.terraform`, post-deploy in
:mod:`lmi_delivery.postdeploy.sequence`), all built by :mod:`lmi_delivery.plan.planner`. A step
never carries a dry-run flag: whoever executes it decides whether it is only displayed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lmi_delivery.plan.policy import Status

RUNNER = "runner"


def in_codebuild(project: str) -> str:
    return f"codebuild:{project}"


@dataclass(frozen=True)
class Step:
    """Base of every step. ``where`` says what executes it: the CI runner or a CodeBuild project."""

    kind: ClassVar[str] = "step"
    where: str

    def describe(self) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return {"kind": self.kind, "description": self.describe(), **data}


#: Gates a :class:`GateCheck` names: the delivery setup (on the runner), and the two gates a
#: plan build runs on the plan it made.
GATES = ("setup", "lmi", "security")


@dataclass(frozen=True)
class GateCheck(Step):
    kind: ClassVar[str] = "gate-check"
    gate: str
    """One of :data:`GATES`: what the executor runs."""
    check: str
    detail: str

    def describe(self) -> str:
        return f"check {self.check}: {self.detail}"


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str
    type: str = "PLAINTEXT"
    """PLAINTEXT, PARAMETER_STORE or SECRETS_MANAGER (then the value is a reference)."""


@dataclass(frozen=True)
class StartBuild(Step):
    kind: ClassVar[str] = "start-build"
    project: str
    buildspec: str
    source_version: str | None
    environment_variables: tuple[EnvVar, ...] = ()
    timeout_minutes: int = 60
    bind_plan: bool = False
    """Hand the build the plan build's id and exported sha256 (``LMI_PLAN_BUILD_ID``,
    ``LMI_PLAN_SHA256``), read from CodeBuild when the plan build ends."""

    def describe(self) -> str:
        commit = self.source_version or "the current commit"
        text = f"start CodeBuild project {self.project} ({self.buildspec}) at {commit}"
        if self.bind_plan:
            text += ", bound to the plan build's id and exported sha256"
        return text


@dataclass(frozen=True)
class TerraformCommand(Step):
    kind: ClassVar[str] = "terraform"
    argv: tuple[str, ...]
    working_directory: str

    def describe(self) -> str:
        return " ".join(self.argv)


@dataclass(frozen=True)
class StorePlan(Step):
    kind: ClassVar[str] = "store-plan"
    plan_kind: str
    """``deploy`` (applicable, under the artifacts prefix) or ``review`` (never applicable)."""
    location: str
    """``s3://bucket/prefix``: the plan goes to ``<location>/<sha256>.tfplan``."""

    def describe(self) -> str:
        return (f"store the {self.plan_kind} plan at {self.location}/<sha256>.tfplan (never "
                "overwritten) and export its sha256 to the build's CodeBuild record")


@dataclass(frozen=True)
class VerifyPlan(Step):
    kind: ClassVar[str] = "verify-plan"
    location: str
    commit: str | None
    environment: str
    branch: str
    plan_project: str

    def describe(self) -> str:
        commit = self.commit or "this commit"
        return (f"verify the plan build in CodeBuild ({self.plan_project}, SUCCEEDED, {commit}, "
                f"a deploy event, its exported sha256), then the plan at {self.location}/"
                "<sha256>.tfplan: sha256, commit, environment, Terraform version, config digest; "
                f"take the {self.environment} apply lock; refuse a plan already applied or a "
                f"commit that is not the head of {self.branch} or is behind the last applied")


@dataclass(frozen=True)
class AwaitApproval(Step):
    kind: ClassVar[str] = "await-approval"
    environment: str
    distinct_approver: bool = False

    def describe(self) -> str:
        who = " by someone other than the commit's author" if self.distinct_approver else ""
        return f"require an approved deployment to GitHub environment {self.environment}{who}"


@dataclass(frozen=True)
class Publish(Step):
    kind: ClassVar[str] = "publish"
    function: str
    capacity_provider: str | None

    def describe(self) -> str:
        if self.capacity_provider:
            return (f"publish a version of {self.function} to $LATEST.PUBLISHED on capacity "
                    f"provider {self.capacity_provider}, wait until Active")
        return f"publish a version of {self.function}"


@dataclass(frozen=True)
class AliasMove(Step):
    kind: ClassVar[str] = "alias"
    function: str
    alias: str
    from_version: str | None
    to_version: str
    """A version number, or ``new`` for the version the publish step creates."""
    canary_weight: float | None = None
    """When set, the move is a canary: this share of traffic first, alarms watched."""
    canary_minutes: float | None = None
    exists: bool | None = None
    """Whether the alias exists now: ``False`` creates it (never through a canary: nothing
    served before), ``None`` when no AWS state was read."""

    def describe(self) -> str:
        if self.exists is False:
            return f"create alias {self.function}:{self.alias} -> {self.to_version}"
        source = self.from_version or "(current)"
        text = f"move alias {self.function}:{self.alias} {source} -> {self.to_version}"
        if self.canary_weight is not None:
            text += (f" through a canary ({self.canary_weight:.0%} for "
                     f"{self.canary_minutes or 0:g} min, rolled back on an alarm)")
            if self.exists is None:
                text += "; created without a canary if the alias does not exist yet"
        return text


@dataclass(frozen=True)
class Scale(Step):
    kind: ClassVar[str] = "scale"
    function: str
    qualifier: str
    min: int
    max: int

    def describe(self) -> str:
        return (f"set {self.function}:{self.qualifier} execution environments "
                f"min {self.min}, max {self.max}")


@dataclass(frozen=True)
class Warm(Step):
    kind: ClassVar[str] = "warm"
    function: str
    alias: str
    concurrency: int
    schedule: str | None = None

    def describe(self) -> str:
        text = (f"prime {self.concurrency} environment(s) of {self.function}:{self.alias} "
                f"with warm-up invocations")
        if self.schedule:
            text += f"; schedule {self.schedule} targets the alias"
        return text


@dataclass(frozen=True)
class Prune(Step):
    kind: ClassVar[str] = "prune"
    capacity_providers: tuple[str, ...]
    """The capacity providers (AWS names) whose configured functions are pruned."""
    keep: int
    delete: tuple[str, ...] | None = None
    """Versions (``function:version``) to delete, when resolved; ``None`` until run time."""

    def describe(self) -> str:
        what = (f"{len(self.delete)} version(s)" if self.delete is not None
                else "versions beyond the newest")
        where = ", ".join(self.capacity_providers)
        plural = "s" if len(self.capacity_providers) > 1 else ""
        return (f"prune {what} of the configured functions on capacity provider{plural} "
                f"{where}, keeping the {self.keep} newest per function and every protected "
                "version")


@dataclass(frozen=True)
class RecordApply(Step):
    kind: ClassVar[str] = "record-apply"
    location: str
    """``s3://bucket/prefix`` of the environment's apply history."""

    def describe(self) -> str:
        return (f"append the apply (commit, plan sha256, plan and apply builds, approver) to "
                f"the apply history at {self.location}/")


@dataclass(frozen=True)
class StagePlan:
    name: str
    status: Status
    reason: str
    steps: tuple[Step, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "reason": self.reason,
                "steps": [s.to_dict() for s in self.steps]}


@dataclass(frozen=True)
class DeliveryPlan:
    service: str
    environment: str
    mode: str
    reason: str
    context: dict[str, object]
    offline: bool
    stages: tuple[StagePlan, ...]
    notes: tuple[str, ...] = field(default=())

    def stage(self, name: str) -> StagePlan:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "lmi-delivery/report@1",
            "kind": "plan",
            "service": self.service,
            "environment": self.environment,
            "mode": self.mode,
            "reason": self.reason,
            "offline": self.offline,
            "context": self.context,
            "notes": list(self.notes),
            "stages": [s.to_dict() for s in self.stages],
        }
