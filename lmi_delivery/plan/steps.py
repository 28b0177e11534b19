"""The delivery plan: an ordered list of typed steps, grouped by stage. No I/O here.

The same steps are printed by ``lmi-delivery plan`` and executed: the runner's steps by
``lmi-delivery run`` (:mod:`lmi_delivery.execute.executor`), a build's steps by the build itself
(the plan and apply builds in :mod:`lmi_delivery.terraform`, post-deploy in
:mod:`lmi_delivery.postdeploy.sequence`), all built by :mod:`lmi_delivery.plan.planner`. A step
never carries a dry-run flag: whoever executes it decides whether it is only displayed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lmi_delivery.plan.changes import Selection
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
    strategy: str = "all-at-once"
    """``all-at-once``, ``canary`` or ``linear`` (``functions.<f>.rollout``)."""
    weights: tuple[float, ...] = ()
    """Shares of traffic the new version gets, in order, before it takes all of it."""
    interval_minutes: float = 0.0
    """How long each of ``weights`` is watched."""
    bake_minutes: float = 0.0
    """How long the alarms are watched once the new version takes all the traffic."""
    alarms: tuple[str, ...] = ()
    pre_traffic: str | None = None
    post_traffic: str | None = None
    exists: bool | None = None
    """Whether the alias exists now: ``False`` creates it (never through a rollout: nothing
    served before), ``None`` when no AWS state was read."""

    @property
    def canary_weight(self) -> float | None:
        """The canary's share, for a canary rollout."""
        return self.weights[0] if self.strategy == "canary" and self.weights else None

    @property
    def watched(self) -> bool:
        """Whether moving traffic goes through steps, alarms or hooks (a rollout), not a
        single update."""
        return bool(self.weights or self.alarms or self.pre_traffic or self.post_traffic
                    or self.bake_minutes)

    def describe(self) -> str:
        if self.exists is False:
            return f"create alias {self.function}:{self.alias} -> {self.to_version}"
        source = self.from_version or "(current)"
        text = f"move alias {self.function}:{self.alias} {source} -> {self.to_version}"
        if not self.watched:
            return text
        shares = ", ".join(f"{w:.0%}" for w in self.weights)
        if self.strategy == "canary":
            text += (f" through a canary ({shares} for {self.interval_minutes:g} min, then "
                     "100%")
        elif self.strategy == "linear":
            text += (f" linearly ({shares}, then 100%, every {self.interval_minutes:g} min")
        else:
            text += " all at once (100%"
        if self.bake_minutes:
            text += f", baked {self.bake_minutes:g} min"
        text += ")"
        if self.alarms:
            text += f" watching alarm(s) {', '.join(self.alarms)}"
        hooks = [f"{label} hook {name}" for label, name in
                 (("pre-traffic", self.pre_traffic), ("post-traffic", self.post_traffic))
                 if name]
        if hooks:
            text += f" with {' and '.join(hooks)}"
        text += "; the previous routing is restored if an alarm fires or a hook fails"
        if self.exists is None:
            text += "; created without a rollout if the alias does not exist yet"
        return text


@dataclass(frozen=True)
class CapacityCheck(Step):
    kind: ClassVar[str] = "headroom"
    capacity_provider: str
    functions: tuple[str, ...]
    peak: str | None = None
    """The computed peak (:meth:`lmi_delivery.plan.headroom.CutoverPeak.describe`), when AWS
    was read; ``None`` until run time."""

    def describe(self) -> str:
        text = (f"check capacity provider {self.capacity_provider} holds the cutover peak of "
                f"{', '.join(self.functions)} ((live environments + new minimum) x vCPUs per "
                "environment against MaxVCpuCount); over it, stop before any traffic moves "
                "(exit 3)")
        if self.peak is not None:
            return f"{text}: {self.peak}"
        return f"{text}; the peak is read at run time (not read here)"


@dataclass(frozen=True)
class Scale(Step):
    kind: ClassVar[str] = "scale"
    function: str
    qualifier: str
    min: int
    max: int
    match_live: bool = False
    """Raise ``min`` to the live version's applied environments (up to ``max``): the new
    version gets the capacity of the one it replaces before traffic moves."""

    def describe(self) -> str:
        low = (f"min {self.min} or the live version's applied environments if more (up to "
               f"{self.max})" if self.match_live else f"min {self.min}")
        return (f"set {self.function}:{self.qualifier} execution environments "
                f"{low}, max {self.max}" + (", wait until applied" if self.match_live else ""))


@dataclass(frozen=True)
class Warm(Step):
    kind: ClassVar[str] = "warm"
    function: str
    alias: str
    concurrency: int
    schedule: str | None = None
    qualifier: str | None = None
    """The version to invoke (``new``: the one this run publishes); ``None`` invokes the
    alias."""

    def describe(self) -> str:
        target = (f"{self.function}:{self.qualifier} (by version, before traffic moves)"
                  if self.qualifier else f"{self.function}:{self.alias}")
        text = f"prime {self.concurrency} environment(s) of {target} with warm-up invocations"
        if self.schedule:
            text += f"; schedule {self.schedule} targets the alias"
        return text


@dataclass(frozen=True)
class ScaleDown(Step):
    kind: ClassVar[str] = "scale-down"
    function: str
    alias: str
    version: str | None
    """The version the alias leaves; ``None`` until the alias step ran."""
    min: int
    max: int

    def describe(self) -> str:
        what = (f"{self.function}:{self.version}" if self.version
                else f"the version {self.function}:{self.alias} leaves")
        if self.max == 0:
            return f"deactivate {what} (min 0, max 0) once no alias routes to it"
        return f"scale {what} down to min {self.min}, max {self.max} once no alias routes to it"


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
    capacity: Mapping[str, str] = field(default_factory=dict)
    """Capacity provider name → the cutover peak of this environment's next deploy against the
    provider's ``MaxVCpuCount`` (:meth:`~lmi_delivery.plan.headroom.CutoverPeak.describe`), read
    from AWS; shown whether or not post-deploy runs now (a pull request's review shows what the
    merge's deploy will need). Empty when AWS was not read."""
    root: str | None = None
    """The Terraform root (``terraform.roots``) this plan delivers; ``None`` for the one-root
    form."""
    depends_on: tuple[str, ...] = ()
    """The roots whose apply this root's apply waits for."""
    selection: tuple[Selection, ...] = ()
    """Change detection's answer for every root of the environment: which run, and why."""

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
            "capacity": dict(self.capacity),
            "stages": [s.to_dict() for s in self.stages],
            **({} if self.root is None else {
                "root": {"key": self.root, "depends_on": list(self.depends_on)},
                "roots": [{"key": s.key, "runs": s.runs, "reasons": list(s.reasons)}
                          for s in self.selection]}),
        }

    @property
    def label(self) -> str:
        """``service / env``, with ``/ root`` when the plan is for one of several roots."""
        text = f"{self.service} / {self.environment}"
        return text if self.root is None else f"{text} / {self.root}"
