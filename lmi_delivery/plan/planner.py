"""Build the delivery plan for one environment and CI context. Reads nothing but its inputs.

Live AWS state (where an alias points, which versions exist) can be folded in by the caller
through :class:`LiveState`; offline, the post-deploy steps say what they will resolve at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.plan.events import CiContext
from lmi_delivery.plan.policy import StagePolicy
from lmi_delivery.plan.steps import (
    RUNNER,
    AliasMove,
    AwaitApproval,
    DeliveryPlan,
    EnvVar,
    GateCheck,
    Prune,
    Publish,
    Scale,
    StagePlan,
    StartBuild,
    Step,
    StorePlan,
    TerraformCommand,
    VerifyPlan,
    Warm,
    in_codebuild,
)

PLAN_FILE = "lmi-delivery.tfplan"
#: How long plan and apply wait for the state lock another run holds (Terraform's -lock-timeout;
#: its default, 0s, fails at once). init takes the state lock only to migrate state, which
#: -input=false never does, so it goes without.
LOCK_TIMEOUT = "300s"
UNKNOWN_COMMIT = "<commit>"
BUILDSPECS = {"plan": "buildspecs/plan.yml", "apply": "buildspecs/apply.yml",
              "post_deploy": "buildspecs/post-deploy.yml", "review": "buildspecs/plan.yml"}


@dataclass(frozen=True)
class LiveState:
    """Read-only facts from AWS that make post-deploy steps concrete."""

    alias_versions: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """(function name, alias) → the version the alias routes to now."""


def terraform_argv(config: Config, env: Environment, command: str) -> tuple[str, ...]:
    """The argv of one Terraform command as the runner will build it for ``env``."""
    tf = config.terraform
    values = naming.values(config, env)
    base = ("terraform", f"-chdir={tf.working_directory}")
    if command == "fmt":
        return (*base, "fmt", "-check", "-recursive", "-list=true", "-no-color")
    if command == "init":
        backend = tuple(f"-backend-config={naming.render(b, **values)}" for b in tf.backend_config)
        return (*base, "init", "-input=false", "-no-color", *backend)
    if command == "validate":
        return (*base, "validate", "-no-color")
    if command in ("plan", "drift"):
        var_files = tuple(f"-var-file={naming.render(v, **values)}" for v in tf.var_files)
        extra = ("-detailed-exitcode",) if command == "drift" else ()
        return (*base, "plan", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}",
                *var_files, f"-out={PLAN_FILE}", *extra)
    if command == "show":
        return (*base, "show", "-json", "-no-color", PLAN_FILE)
    if command == "apply":
        return (*base, "apply", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}",
                PLAN_FILE)
    raise ValueError(f"unknown terraform command {command!r}")


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
        *secret_env(config, env, review=mode != "deploy"),
    )


class _Planner:
    def __init__(self, config: Config, env: Environment, context: CiContext,
                 policy: StagePolicy, live: LiveState | None) -> None:
        self.config, self.env, self.context, self.policy = config, env, context, policy
        self.live = live
        self.names = naming.derived_names(config, env)

    def tf(self, where: str, command: str) -> TerraformCommand:
        argv = terraform_argv(self.config, self.env, command)
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
        plan_build = in_codebuild(self.names.projects[self.plan_project])
        gate = self.config.gates.security
        steps: list[Step] = [
            GateCheck(RUNNER, "delivery setup",
                      "workflows, buildspecs and names against the naming rule"),
            GateCheck(plan_build, "security rules on the plan",
                      f"IAM wildcards, open ingress, default VPC, plain-text secrets"
                      f"{', KMS required' if gate.require_kms else ''}; fail on {gate.fail_on}"),
        ]
        steps += [GateCheck(plan_build, f"scanner {s}", "merged into the findings (SARIF)")
                  for s in gate.scanners]
        return steps

    def validate(self) -> list[Step]:
        where = in_codebuild(self.names.projects[self.plan_project])
        steps: list[Step] = [self.start(self.plan_project, "validate")]
        if self.config.gates.validation.fmt:
            steps.append(self.tf(where, "fmt"))
        steps += [self.tf(where, "init"), self.tf(where, "validate"),
                  GateCheck(where, "LMI constraints on the plan",
                            "memory per vCPU, concurrency, memory, vCPU bounds, instance types")]
        return steps

    def plan(self, drift: bool) -> list[Step]:
        where = in_codebuild(self.names.projects[self.plan_project])
        steps: list[Step] = []
        if not self.policy.runs("validate"):
            steps += [self.start(self.plan_project, "plan"), self.tf(where, "init")]
        kind = "deploy" if self.policy.mode == "deploy" else "review"
        steps += [self.tf(where, "plan"), self.tf(where, "show"),
                  StorePlan(where, kind, self.plan_location(kind))]
        return steps

    def apply(self) -> list[Step]:
        where = in_codebuild(self.names.projects["apply"])
        steps: list[Step] = []
        if self.policy.decision("apply").status == "awaits-approval":
            steps.append(AwaitApproval(RUNNER, self.env.name, self.env.require_distinct_approver))
        steps += [
            self.start("apply", "apply", bind_plan=True),
            VerifyPlan(where, self.plan_location("deploy"), self.context.commit, self.env.name,
                       self.env.branch, self.names.projects["plan"]),
            self.tf(where, "init"),
            self.tf(where, "apply"),
        ]
        return steps

    def post_deploy(self) -> list[Step]:
        where = in_codebuild(self.names.projects["post_deploy"])
        steps: list[Step] = [self.start("post_deploy", "post-deploy")]
        cfg, names = self.config, self.names
        providers = sorted({f.capacity_provider for f in cfg.functions.values()
                            if f.capacity_provider})
        for step in cfg.post_deploy.steps:
            for key, fn in cfg.functions.items():
                name = names.functions[key]
                provider = names.capacity_providers.get(fn.capacity_provider or "")
                if step == "publish":
                    steps.append(Publish(where, name, provider))
                elif step == "alias":
                    current = (self.live.alias_versions.get((name, fn.alias))
                               if self.live else None)
                    canary = fn.canary
                    steps.append(AliasMove(where, name, fn.alias, current, "new",
                                           canary.weight if canary else None,
                                           canary.minutes if canary else None))
                elif step == "scale" and fn.scaling and fn.capacity_provider:
                    steps.append(Scale(where, name, "new", fn.scaling.min, fn.scaling.max))
                elif step == "warm" and fn.warm:
                    steps.append(Warm(where, name, fn.alias, fn.warm.concurrency,
                                      fn.warm.schedule))
            if step == "prune":
                steps += [Prune(where, names.capacity_providers[p], cfg.post_deploy.prune_keep)
                          for p in providers]
        return steps


def build_plan(config: Config, env: Environment, context: CiContext, policy: StagePolicy, *,
               offline: bool, live: LiveState | None = None,
               notes: tuple[str, ...] = ()) -> DeliveryPlan:
    planner = _Planner(config, env, context, policy, live)
    stages: list[StagePlan] = []
    for decision in policy.stages:
        steps: list[Step] = []
        if decision.runs:
            if decision.stage == "security":
                steps = planner.security()
            elif decision.stage == "validate":
                steps = planner.validate()
            elif decision.stage == "plan":
                steps = planner.plan(drift=policy.mode == "drift")
            elif decision.stage == "apply":
                steps = planner.apply()
            elif decision.stage == "post-deploy":
                steps = planner.post_deploy()
        stages.append(StagePlan(decision.stage, decision.status, decision.reason, tuple(steps)))
    return DeliveryPlan(
        service=config.service,
        environment=env.name,
        mode=policy.mode,
        reason=policy.reason,
        context=context.to_dict(),
        offline=offline,
        stages=tuple(stages),
        notes=notes,
    )
