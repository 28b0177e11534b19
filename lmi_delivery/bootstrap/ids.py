"""Stable identifiers of the plane's resources in the renderings (CloudFormation logical ids,
Terraform resource names), derived from the model's keys."""

from __future__ import annotations


def logical_id(key: str, suffix: str) -> str:
    """``plan-build`` + ``Role`` → ``PlanBuildRole`` (CloudFormation: alphanumeric)."""
    return "".join(part.capitalize() for part in key.replace("_", "-").split("-")) + suffix


def tf_name(key: str) -> str:
    """``plan-build`` → ``plan_build`` (a Terraform identifier)."""
    return key.replace("-", "_")
