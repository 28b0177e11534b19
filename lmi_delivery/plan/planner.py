"""Build the delivery plan for one environment and CI context. Reads nothing but its inputs.

Live AWS state (where an alias points, which versions exist) can be folded in by the caller
through :class:`LiveState`; offline, the post-deploy steps say what they will resolve at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.config.roots import ROOT_VARIABLE
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.policy import Mode, StagePolicy, in_build
from lmi_delivery.plan.release_steps import post_deploy_steps
from lmi_delivery.plan.steps import (
    RUNNER,
    AwaitApproval,
    DeliveryPlan,
    EnvVar,
    GateCheck,
    RecordApply,
    StagePlan,
    StartBuild,
    Step,
    StorePlan,
    TerraformCommand,
    VerifyPlan,
    in_codebuild,
)
from lmi_delivery.terraform import argv

UNKNOWN_COMMIT = "<commit>"
BUILDSPECS = {"plan": "buildspecs/plan.yml", "apply": "buildspecs/apply.yml",
              "post_deploy": "buildspecs/post-deploy.yml", "review": "buildspecs/plan.yml"}


@dataclass(frozen=True)
class LiveState:
    """Read-only facts from AWS that make post-deploy steps concrete."""

    alias_versions: Mapping[tuple[str, str], str | None] = field(default_factory=dict)
    """(function name, alias) → the version the alias routes to now (``None``: no alias yet)."""
    peaks: Mapping[str, str] = field(default_factory=dict)
    """Capacity provider name → its cutover peak against its ``MaxVCpuCount``
    (:meth:`lmi_delivery.plan.headroom.CutoverPeak.describe`)."""

    def current(self) -> dict[str, str | None]:
        return {name: version for (name, _), version in self.alias_versions.items()}


def terraform_argv(config: Config, env: Environment, command: str, *,
                   lock: bool = True) -> tuple[str, ...]:
    """The argv of one Terraform command for ``env``, as the build runs it."""
    return argv.terraform_argv(config.terraform, naming.values(config, env), command, lock=lock)


SECRET_TYPES = {"ssm:": "PARAMETER_STORE", "secretsmanager:": "SECRETS_MANAGER"}


def secret_env(config: Config, env: Environment, *, review: bool = False) -> tuple[EnvVar, ...]:
    """``codebuild.secrets`` as secret-typed overrides: references only, never values.

    Review builds (``review``) run a pull request's code: they get only the secrets marked
    ``review: true``.
    """
    found = []
    for name, reference in sorted(config.codebuild.secrets.items()):
        if review and name not in config.codebuild.review_secrets:
            continue
        for prefix, kind in SECRET_TYPES.items():
            if reference.startswith(prefix):
                value = naming.render(reference.removeprefix(prefix), **naming.values(config, env))
                found.append(EnvVar(name, value, kind))
    return tuple(found)


def _build_env(config: Config, env: Environment, context: CiContext, stage: str,
               mode: str) -> tuple[EnvVar, ...]:
    return (
        EnvVar("LMI_DELIVERY_ENV", env.name),
        EnvVar("LMI_DELIVERY_STAGE", stage),
        EnvVar("LMI_DELIVERY_EVENT", context.event),
        EnvVar("LMI_DELIVERY_MODE", mode),
        EnvVar("LMI_DELIVERY_COMMIT", context.commit or ""),
        *((EnvVar(ROOT_VARIABLE, config.terraform.root),) if config.terraform.root else ()),
        *secret_env(config, env, review=mode != "deploy"),
    )


class _Planner:
    def __init__(self, config: Config, env: Environment, context: CiContext,
                 policy: StagePolicy, live: LiveState | None) -> None:
        self.config, self.env, self.context, self.policy = config, env, context, policy
        self.live = live
        self.names = naming.derived_names(config, env)

    def tf(self, where: str, command: str, *, lock: bool = True) -> TerraformCommand:
        argv = terraform_argv(self.config, self.env, command, lock=lock)
        return TerraformCommand(where, argv, self.config.terraform.working_directory)

    @property
    def plan_project(self) -> str:
        """Deploy plans come from the ``plan`` project; every other plan from ``review``."""
        return "plan" if self.policy.mode == "deploy" else "review"

    def start(self, project_key: str, stage: str, *, bind_plan: bool = False) -> StartBuild:
        return StartBuild(
            RUNNER,
            project=self.names.projects[project_key],
            buildspec=BUILDSPECS[project_key],
            source_version=self.context.commit,
            environment_variables=_build_env(self.config, self.env, self.context, stage,
                                             self.policy.mode),
            timeout_minutes=self.config.codebuild.timeout_minutes,
            bind_plan=bind_plan,
        )

    def plan_location(self, kind: str) -> str:
        bucket = naming.artifact_location(self.config).bucket
        prefix = naming.plan_prefix(self.config, self.env, self.context.commit or UNKNOWN_COMMIT,
                                    kind)
        return f"s3://{bucket}/{prefix}"

    def security(self) -> list[Step]:
        """On the runner, before any build: the delivery setup. The security rules run on the
        plan, in the plan stage (:meth:`plan`), once there is a plan to read."""
        return [GateCheck(RUNNER, "setup", "delivery setup",
                          "workflows, buildspecs and names against the naming rule")]

    def validate(self) -> list[Step]:
        where = in_codebuild(self.names.projects[self.plan_project])
        validation = self.config.gates.validation
        steps: list[Step] = [self.start(self.plan_project, "validate")]
        if validation.enabled and validation.fmt:
            steps.append(self.tf(where, "fmt"))
        steps += [self.tf(where, "init"), self.tf(where, "validate")]
        return steps

    def gates(self, where: str) -> list[Step]:
        """The gates on the plan, for the stages that run and the gates that are enabled."""
        steps: list[Step] = []
        if self.policy.runs("validate") and self.config.gates.validation.enabled:
            steps.append(GateCheck(where, "lmi", "LMI constraints on the plan",
                                   "memory per vCPU, concurrency, memory, vCPU bounds, "
                                   "instance types, capacity providers with bound versions"))
        gate = self.config.gates.security
        if self.policy.runs("security") and gate.enabled:
            scanners = f"; scanners {', '.join(gate.scanners)}" if gate.scanners else ""
            steps.append(GateCheck(
                where, "security", "security rules on the plan",
                f"IAM wildcards, open ingress, default VPC, plain-text secrets"
                f"{', KMS required' if gate.require_kms else ''}{scanners}; "
                f"fail on {gate.fail_on}"))
        return steps

    def plan(self) -> list[Step]:
        where = in_codebuild(self.names.projects[self.plan_project])
        steps: list[Step] = []
        if not self.policy.runs("validate"):
            steps += [self.start(self.plan_project, "plan"), self.tf(where, "init")]
        kind = "deploy" if self.policy.mode == "deploy" else "review"
        # A review plan never writes state: it plans without the state lock, so the review
        # build (a pull request's code) needs no write to it.
        steps += [self.tf(where, "plan", lock=self.plan_project == "plan"),
                  self.tf(where, "show"), *self.gates(where),
                  StorePlan(where, kind, self.plan_location(kind))]
        return steps

    def apply(self) -> list[Step]:
        where = in_codebuild(self.names.projects["apply"])
        steps: list[Step] = []
        if self.policy.decision("apply").status == "awaits-approval":
            steps.append(AwaitApproval(RUNNER, self.env.name, self.env.require_distinct_approver))
        bucket = naming.artifact_location(self.config).bucket
        history = naming.environment_key(self.config, self.env, "applied")
        steps += [
            self.start("apply", "apply", bind_plan=True),
            VerifyPlan(where, self.plan_location("deploy"), self.context.commit, self.env.name,
                       self.env.branch, self.names.projects["plan"]),
            self.tf(where, "init"),
            self.tf(where, "apply"),
            RecordApply(where, f"s3://{bucket}/{history}"),
        ]
        return steps

    def post_deploy(self) -> list[Step]:
        where = in_codebuild(self.names.projects["post_deploy"])
        current = self.live.current() if self.live else None
        peaks = self.live.peaks if self.live else None
        return [self.start("post_deploy", "post-deploy"),
                *post_deploy_steps(self.config, self.env, where, current=current, peaks=peaks)]


STAGE_BUILDERS = {"security": _Planner.security, "validate": _Planner.validate,
                  "plan": _Planner.plan, "apply": _Planner.apply,
                  "post-deploy": _Planner.post_deploy}


def build_plan(config: Config, env: Environment, context: CiContext, policy: StagePolicy, *,
               offline: bool, live: LiveState | None = None,
               notes: tuple[str, ...] = ()) -> DeliveryPlan:
    planner = _Planner(config, env, context, policy, live)
    stages = tuple(
        StagePlan(d.stage, d.status, d.reason,
                  tuple(STAGE_BUILDERS[d.stage](planner)) if d.runs else ())
        for d in policy.stages)
    return DeliveryPlan(
        service=config.service,
        environment=env.name,
        mode=policy.mode,
        reason=policy.reason,
        context=context.to_dict(),
        offline=offline,
        stages=stages,
        notes=notes,
        capacity=dict(live.peaks) if live is not None else {},
        root=config.terraform.root,
        depends_on=(config.terraform.roots[config.terraform.root].depends_on
                    if config.terraform.root else ()),
    )


def build_steps(config: Config, env: Environment, *, project: str, mode: str,
                event: str, commit: str) -> tuple[Step, ...]:
    """The steps a build of ``project`` executes, in order: exactly those the dry run places
    in that project for the same mode (:func:`~lmi_delivery.plan.policy.in_build`)."""
    context = CiContext(source="codebuild", event=event, sha=commit)
    known = cast(Mode, mode) if mode in ("deploy", "review", "drift") else "none"
    plan = build_plan(config, env, context, in_build(context, env, known, project), offline=True)
    where = in_codebuild(naming.project_name(config, env, project))
    return tuple(step for stage in plan.stages for step in stage.steps if step.where == where)
