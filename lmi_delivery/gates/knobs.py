"""The knobs post-deploy owns, read from ``lmi-delivery.yml``: one owner per knob.

Post-deploy sets three things on a function that Terraform can also manage:

- ``scaling``: its function scaling config (``PutFunctionScalingConfig``), when
  ``functions.<key>.scaling`` is set and ``post_deploy.steps`` has ``scale``; Terraform's
  ``aws_lambda_function_scaling_config`` (AWS provider 6.54+) sets the same config;
- ``warm``: the EventBridge warm-up rule ``<naming rule of KEY-warm>`` and its target (id
  ``lmi-delivery-warmup``), when ``functions.<key>.warm.schedule`` is set and the steps have
  ``warm``; an ``aws_cloudwatch_event_rule`` of that name, or a target on it, is the same rule;
- ``alias``: where the alias routes (``function_version`` and ``routing_config``), when the
  steps have ``alias``; an ``aws_lambda_alias`` may still create the alias, as long as
  ``lifecycle { ignore_changes = [function_version, routing_config] }`` leaves its routing
  to post-deploy.

Two owners of one knob is a bug: every warm-up fires twice, and each apply puts back what
post-deploy set (or Terraform reports drift). :mod:`lmi_delivery.gates.ownership` (on the plan)
and :mod:`lmi_delivery.doctor.rules_owners` (on the sources) report it, each naming both places.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import Location

Kind = Literal["scaling", "warm", "alias"]
#: The target id post-deploy gives its warm-up target (``postdeploy.schedule.TARGET_ID``).
WARM_TARGET_ID = "lmi-delivery-warmup"
#: What an ``aws_lambda_alias`` must leave to post-deploy.
ALIAS_ROUTING = ("function_version", "routing_config")


@dataclass(frozen=True)
class Knob:
    """One thing post-deploy manages for one function in one environment."""

    kind: Kind
    key: str
    """The function's key in ``functions``."""
    environment: str
    function: str
    """The function's name in that environment (the naming rule)."""
    target: str
    """The rule's name (``warm``), the alias's name (``alias``), ``""`` (``scaling``)."""
    config_key: str
    """Where the config says so: ``functions.clm-router.scaling``."""
    where: Location
    """That key's place in ``lmi-delivery.yml``."""

    def config_place(self) -> str:
        """``lmi-delivery.yml:27:5 functions.clm-router.scaling``."""
        return f"{self.where} {self.config_key}"


def knobs(config: Config, environment: str | None = None) -> list[Knob]:
    """What post-deploy owns in ``environment`` (every environment: ``None``)."""
    envs = _environments(config, environment)
    steps = set(config.post_deploy.steps)
    found: list[Knob] = []
    for env in envs:
        for key, fn in config.functions.items():
            name = naming.function_name(config, env, key)

            def knob(kind: Kind, target: str, *path: str, fn_key: str = key,
                     fn_name: str = name, env_name: str = env.name) -> Knob:
                return Knob(kind, fn_key, env_name, fn_name, target,
                            ".".join(("functions", fn_key, *path)),
                            _located(config, "functions", fn_key, *path))

            if fn.scaling is not None and "scale" in steps:
                found.append(knob("scaling", "", "scaling"))
            if fn.warm is not None and fn.warm.schedule and "warm" in steps:
                found.append(knob("warm", naming.warm_rule_name(config, env, key),
                                  "warm", "schedule"))
            if "alias" in steps and fn.alias:
                written = ("functions", key, "alias") in config.locations
                found.append(knob("alias", fn.alias, *(("alias",) if written else ())))
    return found


def _environments(config: Config, environment: str | None) -> Iterable[Environment]:
    if environment is not None and environment in config.environments:
        return [config.environments[environment]]
    return list(config.environments.values())


def _located(config: Config, *path: str) -> Location:
    """The key's place, the file named as the user wrote it relative to the repository."""
    where = config.location(*path)
    return Location(config.path.name, where.line, where.column)
