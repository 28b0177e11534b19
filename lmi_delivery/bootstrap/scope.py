"""The names one environment's delivery plane is about, derived by the naming rule once."""

from __future__ import annotations

from dataclasses import dataclass

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.postdeploy.report import last_key
from lmi_delivery.postdeploy.schedule import rule_name
from lmi_delivery.selfdist.publish import KEY_PREFIX as WHEEL_PREFIX

#: The project keys the plane creates, in order; ``review`` runs pull requests' code.
PROJECT_KEYS: tuple[str, ...] = ("review", "plan", "apply", "post_deploy")
STATE_KEY = "state/{service}/{env}/terraform.tfstate"


@dataclass(frozen=True)
class Scope:
    """Names of one environment's resources, read by the permission table and the renderers."""

    service: str
    env: str
    repository: str
    default_branch: str
    projects: dict[str, str]
    functions: tuple[str, ...]
    capacity_providers: tuple[str, ...]
    warm_rules: tuple[str, ...]
    alarms: tuple[str, ...]
    bucket: str
    deploy_prefix: str
    """``<artifacts prefix>/<service>/<env>``: deploy plans, the apply lock, records."""
    review_prefix: str
    """``<review prefix>/<service>/<env>``: review plans only."""
    wheel_prefix: str
    last_deploy_key: str
    state_bucket: str
    state_key: str
    kms_alias: str
    kms_key_arn: str | None
    secrets: dict[str, str]
    review_secrets: frozenset[str]
    pass_roles: tuple[str, ...]
    manages: tuple[str, ...]
    own_wheel: bool
    """Whether the orchestrator uploads its own wheel (no ``codebuild.lmi_delivery`` index)."""

    @property
    def lock_key(self) -> str:
        """Terraform 1.12's S3 lockfile (``use_lockfile``) beside the state."""
        return f"{self.state_key}.tflock"


def _backend_values(config: Config, env: Environment) -> dict[str, str]:
    found = {}
    for item in config.terraform.backend_config:
        key, sep, value = item.partition("=")
        if sep:
            found[key.strip()] = naming.render(value.strip(), **naming.values(config, env))
    return found


def scope(config: Config, env: Environment, *, repository: str) -> Scope:
    values = naming.values(config, env)
    where = naming.artifact_location(config)
    backend = _backend_values(config, env)
    secrets = {}
    for name, reference in config.codebuild.secrets.items():
        secrets[name] = naming.render(reference, **values)
    return Scope(
        service=config.service,
        env=env.name,
        repository=repository,
        default_branch=config.github.default_branch,
        projects={k: naming.project_name(config, env, k) for k in PROJECT_KEYS
                  if k in config.codebuild.projects},
        functions=tuple(naming.function_name(config, env, k) for k in config.functions),
        capacity_providers=tuple(naming.capacity_provider_name(config, env, k)
                                 for k in config.capacity_providers),
        warm_rules=tuple(rule_name(config, env, k) for k, f in config.functions.items()
                         if f.warm is not None and f.warm.schedule),
        alarms=tuple(sorted({a for f in config.functions.values() if f.canary
                             for a in f.canary.alarms})),
        bucket=where.bucket,
        deploy_prefix=where.key(config.service, env.name),
        review_prefix="/".join(p.strip("/") for p in (
            config.codebuild.review_prefix, config.service, env.name) if p.strip("/")),
        wheel_prefix=WHEEL_PREFIX,
        last_deploy_key=last_key(config, env)[1],
        state_bucket=backend.get("bucket") or f"{where.bucket}-tfstate",
        state_key=backend.get("key") or naming.render(STATE_KEY, **values),
        kms_alias=f"alias/{where.bucket}",
        kms_key_arn=config.codebuild.artifacts_kms_key,
        secrets=secrets,
        review_secrets=config.codebuild.review_secrets,
        pass_roles=tuple(naming.render(t, **values) for t in config.terraform.manages.pass_roles),
        manages=config.terraform.manages.resources,
        own_wheel=config.codebuild.lmi_delivery is None,
    )
