"""Turning a schema-valid document into the typed, frozen :class:`Config`.

Defaults live in the model's dataclasses; the few the model leaves open (the naming rule, the
Terraform pin, the project name templates) are here, and a test holds them equal to the schema's
``default`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from lmi_delivery.config.model import (
    Canary,
    CapacityProvider,
    CodeBuildSettings,
    Config,
    Environment,
    Function,
    Gates,
    GitHubSettings,
    LmiDeliveryIndex,
    Notification,
    PostDeploy,
    Rollout,
    Scaling,
    SecurityGate,
    TerraformManages,
    TerraformRoot,
    TerraformSettings,
    ValidationGate,
    Waiver,
    Warm,
)
from lmi_delivery.config.yamlpos import PathKey
from lmi_delivery.errors import Location

DEFAULT_NAMING = "{service}-{env}-{name}"
DEFAULT_TERRAFORM_VERSION = "1.12.2"
DEFAULT_PROJECTS: Mapping[str, str] = {
    "plan": "{service}-{env}-tf-plan",
    "apply": "{service}-{env}-tf-apply",
    "post_deploy": "{service}-{env}-post-deploy",
    "review": "{service}-{env}-tf-review",
}

Data = Mapping[str, Any]


def _only(data: Data, *keys: str) -> dict[str, Any]:
    """The entries of ``data`` among ``keys``, so absent keys keep the model's defaults."""
    return {k: data[k] for k in keys if k in data}


def build(data: Data, *, path: Path, root: Path, digest: str,
          locations: Mapping[PathKey, Location]) -> Config:
    """The typed configuration of a document that passed schema validation."""
    terraform = data["terraform"]
    codebuild = data["codebuild"]
    return Config(
        path=path,
        root=root,
        digest=digest,
        version=int(data["version"]),
        service=str(data["service"]),
        region=str(data["region"]),
        naming=str(data.get("naming", DEFAULT_NAMING)),
        terraform=TerraformSettings(
            version=str(terraform.get("version", DEFAULT_TERRAFORM_VERSION)),
            working_directory=str(terraform.get("working_directory", "")),
            var_files=tuple(terraform.get("var_files", ())),
            backend_config=tuple(terraform.get("backend_config", ())),
            manages=TerraformManages(
                resources=tuple(terraform.get("manages", {}).get("resources", ())),
                pass_roles=tuple(terraform.get("manages", {}).get("pass_roles", ()))),
            roots={key: _root(key, root) for key, root in terraform.get("roots", {}).items()},
        ),
        codebuild=_codebuild(codebuild),
        environments={
            name: Environment(name=name, **_only(
                env, "branch", "apply", "account_id", "region", "role_arn",
                "require_distinct_approver"))
            for name, env in data["environments"].items()
        },
        capacity_providers={
            key: CapacityProvider(key=key, **_only(provider or {}, "name"))
            for key, provider in data.get("capacity_providers", {}).items()
        },
        functions={key: _function(key, fn) for key, fn in data.get("functions", {}).items()},
        post_deploy=_post_deploy(data.get("post_deploy", {})),
        gates=_gates(data.get("gates", {})),
        github=GitHubSettings(**_only(data.get("github", {}), "repository", "default_branch")),
        notifications=tuple(_notification(n) for n in data.get("notifications", ())),
        locations=dict(locations),
    )


def _codebuild(data: Data) -> CodeBuildSettings:
    projects = {**DEFAULT_PROJECTS, **data.get("projects", {})}
    extra = _only(data, "timeout_minutes", "queued_timeout_minutes", "review_prefix",
                  "artifacts_kms_key", "plan_retention_days")
    if "poll_interval_seconds" in data:
        extra["poll_interval_seconds"] = float(data["poll_interval_seconds"])
    secrets = {name: value if isinstance(value, str) else str(value["ref"])
               for name, value in data.get("secrets", {}).items()}
    review = frozenset(name for name, value in data.get("secrets", {}).items()
                       if isinstance(value, Mapping) and value.get("review") is True)
    index = data.get("lmi_delivery")
    if index is not None:
        extra["lmi_delivery"] = LmiDeliveryIndex(
            index_url=str(index["index_url"]), version=str(index["version"]),
            sha256=str(index["sha256"]))
    return CodeBuildSettings(projects=projects, artifacts=str(data["artifacts"]),
                             secrets=secrets, review_secrets=review, **extra)


def _root(key: str, data: Data) -> TerraformRoot:
    def listed(name: str) -> tuple[str, ...] | None:
        return tuple(str(v) for v in data[name]) if name in data else None

    return TerraformRoot(
        key=key, working_directory=str(data["working_directory"]),
        var_files=listed("var_files"), backend_config=listed("backend_config"),
        environments=listed("environments"), depends_on=listed("depends_on") or (),
        functions=listed("functions") or (), watch=listed("watch") or ())

def _notification(data: Data) -> Notification:
    extra = {"events": tuple(data["events"])} if "events" in data else {}
    return Notification(kind=cast(Any, str(data["type"])), url=str(data["url"]), **extra)


def _canary(data: Data) -> Canary:
    extra: dict[str, Any] = {k: float(data[k]) for k in ("weight", "minutes") if k in data}
    return Canary(**extra, alarms=tuple(data.get("alarms", ())))


def _rollout(data: Data) -> Rollout:
    """``rollout:`` as written; ``canary`` and ``linear`` together are reported by the
    semantic checks (the canary wins here)."""
    extra: dict[str, Any] = _only(data, "pre_traffic", "post_traffic")
    if "bake_minutes" in data:
        extra["bake_minutes"] = float(data["bake_minutes"])
    if "canary" in data:
        canary = data["canary"] or {}
        extra.update(strategy="canary", weight=float(canary.get("weight", 0.1)),
                     interval_minutes=float(canary.get("bake_minutes", 5.0)))
    elif "linear" in data:
        linear = data["linear"] or {}
        extra.update(strategy="linear", step=float(linear.get("step", 0.25)),
                     interval_minutes=float(linear.get("every_minutes", 5.0)))
    return Rollout(**extra, alarms=tuple(data.get("alarms", ())))


def _legacy_rollout(canary: Canary) -> Rollout:
    """The deprecated ``canary: {weight, minutes, alarms}`` as the rollout it means."""
    return Rollout(strategy="canary", weight=canary.weight, interval_minutes=canary.minutes,
                   alarms=canary.alarms)


def _function(key: str, data: Data) -> Function:
    scaling = data.get("scaling")
    warm = data.get("warm")
    canary = _canary(data["canary"]) if data.get("canary") is not None else None
    rollout = (_rollout(data["rollout"]) if data.get("rollout") is not None
               else _legacy_rollout(canary) if canary is not None else Rollout())
    return Function(
        key=key,
        **_only(data, "name", "capacity_provider", "alias"),
        scaling=Scaling(**_only(scaling, "min", "max", "floor")) if scaling else None,
        warm=Warm(**_only(warm, "concurrency", "schedule")) if warm is not None else None,
        canary=canary,
        rollout=rollout,
    )


def _post_deploy(data: Data) -> PostDeploy:
    extra: dict[str, Any] = {}
    if "steps" in data:
        extra["steps"] = tuple(data["steps"])
    if "keep" in data.get("prune", {}):
        extra["prune_keep"] = data["prune"]["keep"]
    if "scope" in data.get("prune", {}):
        extra["prune_scope"] = str(data["prune"]["scope"])
    if "history_keep" in data:
        extra["history_keep"] = int(data["history_keep"])
    return PostDeploy(**extra)


def _gates(data: Data) -> Gates:
    security = dict(data.get("security", {}))
    if "scanners" in security:
        security["scanners"] = tuple(security["scanners"])
    if "waivers" in security:
        security["waivers"] = tuple(Waiver(**cast(Data, w)) for w in security["waivers"])
    if "severities" in security:
        security["severities"] = dict(security["severities"])
    validation = dict(data.get("validation", {}))
    if "unsupported_azs" in validation:
        validation["unsupported_azs"] = tuple(validation["unsupported_azs"])
    return Gates(security=SecurityGate(**security), validation=ValidationGate(**validation))
