"""``lmi-delivery names``: every derived name, per environment."""

from __future__ import annotations

import dataclasses
import json

from lmi_delivery.config import load
from lmi_delivery.config.naming import DerivedNames, derived_names


def _text(derived: DerivedNames) -> list[str]:
    lines = [f"[{derived.environment}]"]
    for label, table in (("capacity provider", derived.capacity_providers),
                         ("function", derived.functions),
                         ("codebuild project", derived.projects)):
        lines += [f"  {label:<18} {key:<20} {name}" for key, name in table.items()]
    lines.append(f"  {'artifacts':<18} {'':<20} {derived.artifacts}")
    return lines


def names_report(config_path: str, env_name: str | None, fmt: str) -> str:
    config = load(config_path)
    envs = [config.environment(env_name)] if env_name else list(config.environments.values())
    derived = [derived_names(config, env) for env in envs]
    if fmt == "json":
        return json.dumps([dataclasses.asdict(d) for d in derived], indent=2) + "\n"
    lines: list[str] = []
    for d in derived:
        lines += _text(d)
    return "\n".join(lines) + "\n"
