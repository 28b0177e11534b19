"""The delivery plane of one environment as data: roles → statements → resources.

Every renderer (CloudFormation, Terraform, the GitHub commands) reads this one model, and every
IAM document in it is rendered once, by :meth:`Document.canonical`, so the formats embed the same
bytes. ``doctor --aws`` can compare what is deployed against the same documents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Effect = Literal["Allow", "Deny"]
#: ``{operator: {key: value or values}}``, as IAM writes a ``Condition``.
Conditions = Mapping[str, Mapping[str, str | tuple[str, ...]]]

POLICY_VERSION = "2012-10-17"


@dataclass(frozen=True)
class Statement:
    """One IAM statement. ``principal`` only in resource and trust policies."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    effect: Effect = "Allow"
    conditions: Conditions = field(default_factory=dict)
    principal: Mapping[str, str] | Literal["*"] | None = None

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"Sid": self.sid, "Effect": self.effect}
        if self.principal is not None:
            body["Principal"] = (self.principal if self.principal == "*"
                                 else dict(self.principal))
        body["Action"] = sorted(set(self.actions))
        if self.resources:
            body["Resource"] = sorted(set(self.resources))
        if self.conditions:
            body["Condition"] = {
                op: {k: (sorted(set(v)) if isinstance(v, tuple) else v)
                     for k, v in values.items()}
                for op, values in self.conditions.items()}
        return body


@dataclass(frozen=True)
class Document:
    """An IAM policy document (identity, trust, bucket or key policy)."""

    statements: tuple[Statement, ...]

    def to_dict(self) -> dict[str, object]:
        return {"Version": POLICY_VERSION, "Statement": [s.to_dict() for s in self.statements]}

    def canonical(self) -> str:
        """The one byte form every renderer embeds: sorted keys, no whitespace."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


RoleKind = Literal["github", "service"]


@dataclass(frozen=True)
class Role:
    """An IAM role: who may assume it (``trust``) and what it may do (``policy``)."""

    key: str
    """Stable key of the role in the plane, e.g. ``review`` or ``plan-build``."""
    name: str
    kind: RoleKind
    description: str
    trust: Document
    policy: Document


@dataclass(frozen=True)
class Project:
    """A CodeBuild project whose buildspec is inline (taken from the package)."""

    key: str
    """Config key of the project: ``review``, ``plan``, ``apply``, ``post_deploy``."""
    name: str
    role: str
    """Key of its service role."""
    buildspec: str
    buildspec_file: str
    timeout_minutes: int
    queued_timeout_minutes: int
    concurrent_build_limit: int | None
    source_url: str
    image: str = "aws/codebuild/standard:7.0"
    compute_type: str = "BUILD_GENERAL1_SMALL"


@dataclass(frozen=True)
class LifecycleRule:
    """Expire the current (and noncurrent) versions of objects carrying a tag."""

    rule_id: str
    tag_key: str
    tag_value: str
    days: int


@dataclass(frozen=True)
class Bucket:
    key: str
    """``artifacts`` or ``state``."""
    name: str
    policy: Document
    lifecycle: tuple[LifecycleRule, ...] = ()


@dataclass(frozen=True)
class KmsKey:
    """The key the buckets are encrypted with: given (``arn``) or created with ``alias``."""

    alias: str
    """``alias/...``: roles are granted the key through it (``kms:ResourceAliases``)."""
    arn: str | None = None
    """A key given in the config; None: the plane creates one."""
    policy: Document | None = None
    """The policy of a created key."""

    @property
    def created(self) -> bool:
        return self.arn is None


@dataclass(frozen=True)
class GitHubEnvironment:
    """The GitHub side of one environment: its deployment branch, reviewers and variables."""

    name: str
    branch: str
    required_reviewers: bool
    prevent_self_review: bool


@dataclass(frozen=True)
class Plane:
    """Everything ``lmi-delivery bootstrap`` renders for one environment."""

    service: str
    environment: str
    account: str
    region: str
    repository: str
    oidc_provider_arn: str
    roles: tuple[Role, ...]
    projects: tuple[Project, ...]
    artifacts: Bucket
    state: Bucket | None
    """None when the state lives in the artifacts bucket (``backend_config`` names it)."""
    kms: KmsKey
    backend_config: tuple[str, ...]
    github: GitHubEnvironment

    @property
    def buckets(self) -> tuple[Bucket, ...]:
        return (self.artifacts,) if self.state is None else (self.artifacts, self.state)

    def role(self, key: str) -> Role:
        for role in self.roles:
            if role.key == key:
                return role
        raise KeyError(key)

    def documents(self) -> dict[str, str]:
        """Every IAM document of the plane, canonical, by a stable name."""
        found: dict[str, str] = {}
        for role in self.roles:
            found[f"role/{role.key}/trust"] = role.trust.canonical()
            found[f"role/{role.key}/policy"] = role.policy.canonical()
        for bucket in self.buckets:
            found[f"bucket/{bucket.key}/policy"] = bucket.policy.canonical()
        if self.kms.policy is not None:
            found["kms/policy"] = self.kms.policy.canonical()
        return found
