"""The naming rule: the one function every derived name comes from.

Capacity providers, functions, CodeBuild projects and artifact keys are all rendered here from
templates with ``{placeholders}``, so a name cannot drift between a workflow, a buildspec and
Terraform.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from lmi_delivery.config.model import PROJECT_KEYS, Config, Environment

#: Placeholders a template may use. ``name`` is the key of the thing being named.
PLACEHOLDERS: frozenset[str] = frozenset({"service", "env", "name", "region", "account"})


def placeholders(template: str) -> list[str]:
    """The placeholder names a template uses, in order (raises ValueError on bad braces)."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def render(template: str, **fields: str) -> str:
    """Render ``template``; unknown placeholders raise KeyError naming the placeholder."""
    return template.format_map(_Strict(fields))


class _Strict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def values(config: Config, env: Environment, name: str = "") -> dict[str, str]:
    """The placeholder values of ``env`` (``name`` is the key of the thing being named)."""
    return {
        "service": config.service,
        "env": env.name,
        "name": name,
        "region": config.region_for(env),
        "account": env.account_id or "",
    }


def capacity_provider_name(config: Config, env: Environment, key: str) -> str:
    provider = config.capacity_providers[key]
    if provider.name:
        return render(provider.name, **values(config, env, key))
    return render(config.naming, **values(config, env, key))


def function_name(config: Config, env: Environment, key: str) -> str:
    function = config.functions[key]
    if function.name:
        return render(function.name, **values(config, env, key))
    return render(config.naming, **values(config, env, key))


#: EventBridge rule names hold at most 64 characters.
MAX_RULE_NAME = 64


def warm_rule_name(config: Config, env: Environment, key: str) -> str:
    """The EventBridge rule of a function's scheduled warm-up: the naming rule with the
    function's key plus ``-warm`` (``shop-dev-router-warm``), cut to 64 characters."""
    return render(config.naming, **values(config, env, f"{key}-warm"))[:MAX_RULE_NAME]


def project_name(config: Config, env: Environment, stage_key: str) -> str:
    """CodeBuild project name for a stage key (``plan``, ``apply``, ``post_deploy``)."""
    return render(config.codebuild.projects[stage_key], **values(config, env, stage_key))


@dataclass(frozen=True)
class ArtifactLocation:
    bucket: str
    prefix: str

    def key(self, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p.strip("/"))

    def url(self, *parts: str) -> str:
        return f"s3://{self.bucket}/{self.key(*parts)}"


def artifact_location(config: Config) -> ArtifactLocation:
    url = config.codebuild.artifacts
    rest = url.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    return ArtifactLocation(bucket, prefix.strip("/"))


def plan_prefix(config: Config, env: Environment, commit: str, kind: str = "deploy") -> str:
    """Where one environment's plans for one commit live: deploy plans under ``artifacts``,
    review plans under ``codebuild.review_prefix``, so that a role can be granted one of them."""
    where = artifact_location(config)
    if kind == "review":
        where = ArtifactLocation(where.bucket, config.codebuild.review_prefix.strip("/"))
    return where.key(config.service, env.name, *_root_part(config), commit)


def _root_part(config: Config) -> tuple[str, ...]:
    """``roots/<key>`` for a config projected onto one of several roots: two roots' plans,
    locks and records never share a key."""
    return ("roots", config.terraform.root) if config.terraform.root else ()


def plan_keys(config: Config, env: Environment, commit: str, sha256: str,
              kind: str = "deploy") -> tuple[str, str]:
    """S3 keys of a plan file and its metadata: content-addressed by the plan's sha256."""
    prefix = plan_prefix(config, env, commit, kind)
    return f"{prefix}/{sha256}.tfplan", f"{prefix}/{sha256}.json"


def environment_key(config: Config, env: Environment, *parts: str) -> str:
    """A key of the environment's own records (apply history, the apply lock)."""
    return artifact_location(config).key(config.service, env.name, *_root_part(config), *parts)


@dataclass(frozen=True)
class DerivedNames:
    environment: str
    capacity_providers: dict[str, str]
    functions: dict[str, str]
    projects: dict[str, str]
    artifacts: str


def derived_names(config: Config, env: Environment) -> DerivedNames:
    """Every name the configuration derives for one environment."""
    return DerivedNames(
        environment=env.name,
        capacity_providers={
            k: capacity_provider_name(config, env, k) for k in config.capacity_providers
        },
        functions={k: function_name(config, env, k) for k in config.functions},
        projects={
            k: project_name(config, env, k) for k in PROJECT_KEYS if k in config.codebuild.projects
        },
        artifacts=artifact_location(config).url(config.service, env.name),
    )
