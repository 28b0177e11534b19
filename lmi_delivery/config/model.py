"""The typed configuration model: what ``lmi-delivery.yml`` means once loaded and checked.

Values are frozen; every part of lmi-delivery reads configuration only through these types.
Source positions are kept beside the values (``Config.locations``) so that later checks can
point at the line a value came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lmi_delivery.errors import Location, UsageError

ApplyMode = Literal["auto", "approval", "never"]
Severity = Literal["low", "medium", "high", "critical"]
PostDeployStep = Literal["publish", "alias", "scale", "warm", "prune"]
PruneScope = Literal["config", "capacity-provider"]
PRUNE_SCOPES: tuple[PruneScope, ...] = ("config", "capacity-provider")

#: Capacity first, then traffic: the new version is scaled to the live one's environments and
#: primed before the alias moves, and the version it leaves is scaled down before the prune.
DEFAULT_POST_DEPLOY_STEPS: tuple[PostDeployStep, ...] = (
    "publish", "scale", "warm", "alias", "prune",
)
STAGES: tuple[str, ...] = ("security", "validate", "plan", "apply", "post-deploy")
#: Config keys of ``codebuild.projects`` for the stages that run in CodeBuild.
PROJECT_KEYS: tuple[str, ...] = ("plan", "apply", "post_deploy", "review")


#: Kinds of resources ``terraform.manages.resources`` may name.
MANAGED_KINDS: tuple[str, ...] = ("capacity_providers", "functions", "log_groups")


@dataclass(frozen=True)
class TerraformManages:
    """``terraform.manages``: what the Terraform root changes, for the apply build's role."""

    resources: tuple[str, ...] = ()
    """Kinds among :data:`MANAGED_KINDS`, of this config's resources by their derived names."""
    pass_roles: tuple[str, ...] = ()
    """Name templates of the IAM roles the root passes to Lambda."""


@dataclass(frozen=True)
class TerraformRoot:
    """One entry of ``terraform.roots``: a root module of its own, with its own state."""

    key: str
    working_directory: str
    var_files: tuple[str, ...] | None = None
    """``None``: the ``terraform.var_files`` every root shares."""
    backend_config: tuple[str, ...] | None = None
    """``None``: the ``terraform.backend_config`` every root shares."""
    environments: tuple[str, ...] | None = None
    """The environments the root deploys to; ``None``: every environment."""
    depends_on: tuple[str, ...] = ()
    """Keys of the roots applied before this one."""
    functions: tuple[str, ...] = ()
    """Keys of the functions whose post-deploy follows this root's apply."""
    watch: tuple[str, ...] = ()
    """Repository-relative globs whose changes run this root too."""

    def deploys_to(self, env: str) -> bool:
        return self.environments is None or env in self.environments


@dataclass(frozen=True)
class TerraformSettings:
    version: str
    working_directory: str
    """The root module's directory; with ``roots``, the directory of the root this settings
    was projected for (:func:`lmi_delivery.config.roots.for_root`), empty before that."""
    var_files: tuple[str, ...] = ()
    backend_config: tuple[str, ...] = ()
    """``-backend-config`` values: files or ``key=value`` pairs; may use ``{env}`` etc."""
    manages: TerraformManages = field(default_factory=TerraformManages)
    roots: Mapping[str, TerraformRoot] = field(default_factory=dict)
    """``terraform.roots`` by key; empty for the one-root ``working_directory`` form."""
    root: str | None = None
    """The key of the root these settings are projected for; ``None`` for the one-root form."""


@dataclass(frozen=True)
class GitHubSettings:
    """``github``: the repository the delivery runs from (the roles' OIDC trust)."""

    repository: str | None = None
    """``OWNER/REPO``; None when the config does not say."""
    default_branch: str = "main"


#: What a notification is sent for (``notifications[].events``; all of them by default).
NOTIFY_EVENTS: tuple[str, ...] = (
    "apply-started", "apply-succeeded", "apply-failed", "rollback", "canary-rolled-back",
    "drift-opened", "drift-closed", "prune-refused",
)
NotifyKind = Literal["slack", "webhook"]


@dataclass(frozen=True)
class Notification:
    """One ``notifications`` entry: where to tell people about deliveries, and what."""

    kind: NotifyKind
    """``slack`` (an incoming webhook: ``{"text": ...}``) or ``webhook`` (the event as JSON)."""
    url: str
    """A reference to the URL, never the URL: ``ssm:/name`` or ``secretsmanager:id``."""
    events: tuple[str, ...] = NOTIFY_EVENTS


@dataclass(frozen=True)
class LmiDeliveryIndex:
    """``codebuild.lmi_delivery``: builds install this release from the team's own index."""

    index_url: str
    version: str
    """Exact; the orchestrator must run the same version."""
    sha256: str
    """Of that version's wheel on the index: builds refuse any other bytes."""


@dataclass(frozen=True)
class CodeBuildSettings:
    projects: Mapping[str, str]
    """Name templates per stage key (``plan``, ``apply``, ``post_deploy``)."""
    artifacts: str
    """``s3://bucket/prefix`` where plan files and their metadata live."""
    timeout_minutes: int = 60
    queued_timeout_minutes: int = 480
    poll_interval_seconds: float = 5.0
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Variable name -> ``ssm:/name`` or ``secretsmanager:id``: passed to builds as references."""
    review_secrets: frozenset[str] = frozenset()
    """The names of ``secrets`` that review builds receive too (``review: true``)."""
    review_prefix: str = "reviews"
    """Key prefix of review plans in the artifacts bucket, apart from the deploy plans."""
    artifacts_kms_key: str | None = None
    """KMS key stored plans are encrypted with (SSE-KMS); None: the bucket's default."""
    plan_retention_days: int = 30
    lmi_delivery: LmiDeliveryIndex | None = None
    """Where builds get lmi-delivery; None: the orchestrator hands them its own wheel."""


@dataclass(frozen=True)
class Environment:
    name: str
    branch: str
    apply: ApplyMode = "approval"
    account_id: str | None = None
    region: str | None = None
    role_arn: str | None = None
    require_distinct_approver: bool = False


@dataclass(frozen=True)
class CapacityProvider:
    key: str
    name: str | None = None
    """Explicit name; when absent the naming rule derives it from ``key``."""


@dataclass(frozen=True)
class Scaling:
    min: int
    max: int
    floor: int | None = None
    """Minimum execution environments a version keeps once no alias routes to it; 0
    deactivates it (min 0 / max 0). Unset: 1 (0 when ``max`` is 0)."""

    @property
    def superseded_min(self) -> int:
        """:attr:`floor`, or its default."""
        return self.floor if self.floor is not None else min(1, self.max)


@dataclass(frozen=True)
class Warm:
    concurrency: int = 1
    schedule: str | None = None


@dataclass(frozen=True)
class Canary:
    """Route ``weight`` of the alias to the new version for ``minutes`` while watching alarms."""

    weight: float = 0.1
    minutes: float = 5.0
    alarms: tuple[str, ...] = ()


RolloutStrategy = Literal["all-at-once", "canary", "linear"]


@dataclass(frozen=True)
class Rollout:
    """How an existing alias's traffic moves to the new version, alarms watched all along.

    ``all-at-once`` moves every invocation at once; ``canary`` first sends ``weight`` for
    ``interval_minutes`` (its ``bake_minutes``); ``linear`` adds ``step`` every
    ``interval_minutes`` (its ``every_minutes``). Once the new version takes all the traffic
    the alarms are watched for ``bake_minutes`` more. A firing alarm or a failing
    ``pre_traffic``/``post_traffic`` hook function restores the previous routing.
    """

    strategy: RolloutStrategy = "all-at-once"
    weight: float = 0.1
    step: float = 0.25
    interval_minutes: float = 5.0
    bake_minutes: float = 0.0
    alarms: tuple[str, ...] = ()
    pre_traffic: str | None = None
    post_traffic: str | None = None

    def weights(self) -> tuple[float, ...]:
        """The shares of traffic the new version gets, in order, before it takes all of it."""
        if self.strategy == "canary":
            return (self.weight,)
        if self.strategy == "linear":
            permille = round(self.step * 1000)
            return tuple(i * permille / 1000 for i in range(1, -(-1000 // permille)))
        return ()


@dataclass(frozen=True)
class Function:
    key: str
    name: str | None = None
    capacity_provider: str | None = None
    """Key into ``Config.capacity_providers``; ``None`` for a standard (non-LMI) function."""
    alias: str = "live"
    scaling: Scaling | None = None
    warm: Warm | None = None
    canary: Canary | None = None
    """The deprecated ``canary:`` key, as written; :attr:`rollout` carries its meaning."""
    rollout: Rollout = field(default_factory=Rollout)


@dataclass(frozen=True)
class PostDeploy:
    steps: tuple[PostDeployStep, ...] = DEFAULT_POST_DEPLOY_STEPS
    prune_keep: int = 3
    prune_scope: PruneScope = "config"
    """``config``: prune the functions of the config; ``capacity-provider``: every function
    bound to the config's capacity providers, whoever owns it."""
    history_keep: int = 2
    """Per alias, the newest versions that served through it (the current one included)
    that pruning keeps as rollback targets."""


@dataclass(frozen=True)
class Waiver:
    rule: str
    address: str
    reason: str
    expires: str
    """ISO date (YYYY-MM-DD) after which the waiver no longer applies."""


@dataclass(frozen=True)
class SecurityGate:
    enabled: bool = True
    fail_on: Severity = "high"
    require_kms: bool = False
    scanners: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    severities: Mapping[str, Severity] = field(default_factory=dict)
    """Scanner rule id (e.g. ``CKV_AWS_18``) -> severity, over the shipped table."""


@dataclass(frozen=True)
class ValidationGate:
    enabled: bool = True
    fmt: bool = True
    unsupported_azs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gates:
    security: SecurityGate = field(default_factory=SecurityGate)
    validation: ValidationGate = field(default_factory=ValidationGate)


@dataclass(frozen=True)
class Config:
    path: Path
    """The configuration file."""
    root: Path
    """The repository root: the directory holding the configuration file."""
    digest: str
    """sha256 of the configuration file's bytes; binds plans to the config they were made with."""
    version: int
    service: str
    region: str
    naming: str
    terraform: TerraformSettings
    codebuild: CodeBuildSettings
    environments: Mapping[str, Environment]
    capacity_providers: Mapping[str, CapacityProvider] = field(default_factory=dict)
    functions: Mapping[str, Function] = field(default_factory=dict)
    post_deploy: PostDeploy = field(default_factory=PostDeploy)
    gates: Gates = field(default_factory=Gates)
    github: GitHubSettings = field(default_factory=GitHubSettings)
    notifications: tuple[Notification, ...] = ()
    locations: Mapping[tuple[str | int, ...], Location] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Source position of every node, keyed by its path from the document root."""

    def environment(self, name: str) -> Environment:
        try:
            return self.environments[name]
        except KeyError:
            known = ", ".join(sorted(self.environments)) or "none"
            raise UsageError(
                f"unknown environment {name!r} in {self.path.name} (known: {known})"
            ) from None

    def location(self, *path: str | int) -> Location:
        """The position of the node at ``path``, or of its nearest ancestor that has one."""
        key: tuple[str | int, ...] = tuple(path)
        while key:
            if key in self.locations:
                return self.locations[key]
            key = key[:-1]
        return self.locations.get((), Location(str(self.path)))

    def region_for(self, env: Environment) -> str:
        return env.region or self.region
