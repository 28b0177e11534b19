"""The hand-off of a reviewed plan from the plan build to the apply build, through S3.

S3 holds bytes, not truth. A plan is stored **content-addressed**: its key holds its sha256,
under the environment's deploy prefix (``codebuild.artifacts``) or, for pull requests, merge
groups and drift, under the review prefix (``codebuild.review_prefix``):

``<prefix>/<service>/<env>/<commit>/<sha256>.tfplan``
    the binary plan file, byte for byte;
``<prefix>/<service>/<env>/<commit>/<sha256>.json``
    its metadata (:class:`PlanMetadata`, ``schema_version`` 2): what the plan is bound to
    (:class:`PlanBinding`), whether it is a deploy or a review plan, the build that made it and
    the plan summary.

Both are written with a conditional put (``If-None-Match: *``) that refuses to overwrite, with
SSE-KMS when ``codebuild.artifacts_kms_key`` is set, and tagged for the lifecycle rule that
expires them. Which sha256 the apply build applies does not come from S3 at all: it comes from
the plan build's CodeBuild record (:mod:`lmi_delivery.terraform.binding`); the object must hash
to it.

Every apply appends an :class:`ApplyRecord` to the environment's history
(``<artifacts>/<service>/<env>/applied/<time>-<sha256>.json``), never overwriting one: the newest
entry is the last apply, and a plan whose sha256 is in the history is never applied again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

from lmi_delivery.aws.errors import error_code, translate
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import GateRefused

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PlanKind = Literal["deploy", "review"]
SCHEMA_VERSION = 2
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_EXISTS_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})
#: The tag a bucket lifecycle rule matches to expire stored plans (``bootstrap`` writes it).
EXPIRY_TAG = "lmi-delivery-expires-after-days"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PlanBinding:
    """What a plan is for. The plan build records it; the apply build must present the same."""

    service: str
    environment: str
    commit: str
    working_directory: str
    terraform_version: str
    """The pinned version (``terraform.version``); the runner refuses any other binary."""
    config_digest: str

    @classmethod
    def of(cls, config: Config, env: Environment, commit: str) -> PlanBinding:
        return cls(config.service, env.name, commit, config.terraform.working_directory,
                   config.terraform.version, config.digest)


@dataclass(frozen=True)
class PlanLocation:
    """Where one environment's plans of one kind for one commit live."""

    bucket: str
    prefix: str
    kind: PlanKind

    @classmethod
    def of(cls, config: Config, env: Environment, commit: str,
           kind: PlanKind = "deploy") -> PlanLocation:
        return cls(naming.artifact_location(config).bucket,
                   naming.plan_prefix(config, env, commit, kind), kind)

    def plan_key(self, sha256: str) -> str:
        return f"{self.prefix}/{sha256}.tfplan"

    def metadata_key(self, sha256: str) -> str:
        return f"{self.prefix}/{sha256}.json"

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    @property
    def base_url(self) -> str:
        """``s3://bucket/prefix``: where the planner says this commit's plans go."""
        return self.url(self.prefix)


@dataclass(frozen=True)
class StoreSettings:
    """How plan objects are written: encryption and expiry (from ``codebuild``)."""

    kms_key: str | None = None
    retention_days: int = 30

    @classmethod
    def of(cls, config: Config) -> StoreSettings:
        return cls(config.codebuild.artifacts_kms_key, config.codebuild.plan_retention_days)


@dataclass(frozen=True)
class PlanMetadata:
    """The metadata document stored beside a plan file (flat JSON, these field names)."""

    service: str
    environment: str
    commit: str
    working_directory: str
    terraform_version: str
    config_digest: str
    plan_sha256: str
    plan_size: int
    plan_url: str
    created_at: str
    """ISO 8601, UTC."""
    kind: str = "deploy"
    """``deploy`` (a push or dispatch on the environment's branch) or ``review``: never applied."""
    event: str = ""
    """The event the plan build was started for."""
    build_id: str | None = None
    """The CodeBuild build that made the plan, when there was one."""
    summary: Mapping[str, Any] = field(default_factory=dict)
    """:meth:`PlanSummary.to_dict` of the plan (no values: outputs may be sensitive)."""
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def build(cls, binding: PlanBinding, plan: bytes, plan_url: str, *, created_at: str,
              summary: Mapping[str, Any], kind: PlanKind = "deploy", event: str = "",
              build_id: str | None = None) -> PlanMetadata:
        return cls(**asdict(binding), plan_sha256=sha256_hex(plan), plan_size=len(plan),
                   plan_url=plan_url, created_at=created_at, kind=kind, event=event,
                   build_id=build_id, summary=dict(summary))

    @property
    def binding(self) -> PlanBinding:
        return PlanBinding(**{f.name: getattr(self, f.name) for f in fields(PlanBinding)})

    def to_json(self) -> bytes:
        data = asdict(self)
        data["summary"] = dict(self.summary)
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, where: str) -> PlanMetadata:
        """Parse a stored document; anything malformed is refused (it cannot be trusted)."""
        document = _json_object(data, where, "plan metadata")
        version = document.get("schema_version")
        if version != SCHEMA_VERSION:
            raise GateRefused(f"{where}: plan metadata schema_version {version!r} is not "
                              f"{SCHEMA_VERSION}; run the plan build again with this version")
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = document.get(item.name)
            kinds = {"plan_size": int, "schema_version": int, "summary": dict}
            kind = kinds.get(item.name, str)
            if value is None and item.name == "build_id":
                values[item.name] = None
            elif isinstance(value, kind) and not isinstance(value, bool):
                values[item.name] = value
            else:
                raise GateRefused(f"{where}: plan metadata field {item.name!r} is missing or "
                                  f"not a {kind.__name__}; refusing the plan")
        return cls(**values)


@dataclass(frozen=True)
class ApplyRecord:
    """One apply of one environment: appended to its history, never rewritten."""

    environment: str
    commit: str
    plan_sha256: str
    plan_build_id: str
    apply_build_id: str | None
    applied_at: str
    """ISO 8601, UTC."""
    approver: str | None = None
    run_url: str | None = None
    allow_older: bool = False
    """The apply was of a commit older than the last applied one, deliberately."""
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, where: str) -> ApplyRecord:
        document = _json_object(data, where, "apply record")
        try:
            return cls(str(document["environment"]), str(document["commit"]),
                       str(document["plan_sha256"]), str(document["plan_build_id"]),
                       _optional(document.get("apply_build_id")), str(document["applied_at"]),
                       _optional(document.get("approver")), _optional(document.get("run_url")),
                       bool(document.get("allow_older", False)))
        except KeyError as exc:
            raise GateRefused(f"{where}: apply record lacks {exc.args[0]!r}; the apply history "
                              "cannot be trusted") from None


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def history_prefix(config: Config, env: Environment) -> str:
    return naming.environment_key(config, env, "applied") + "/"


def record_key(config: Config, env: Environment, record: ApplyRecord) -> str:
    """Sortable by time: ``applied/20261201T120000Z-<sha256>.json``."""
    stamp = record.applied_at.replace("-", "").replace(":", "")
    return f"{history_prefix(config, env)}{stamp}-{record.plan_sha256}.json"


def mismatches(metadata: PlanMetadata, expected: PlanBinding) -> list[str]:
    """Every way the plan's binding differs from the one the apply build expects."""
    found = metadata.binding
    labels = {"service": "service", "environment": "environment", "commit": "commit",
              "working_directory": "working directory",
              "terraform_version": "Terraform version", "config_digest": "config digest"}
    return [f"{label}: the plan is for {getattr(found, name)!r}, this build is for "
            f"{getattr(expected, name)!r}"
            for name, label in labels.items() if getattr(found, name) != getattr(expected, name)]


def verify(metadata: PlanMetadata, plan: bytes, expected: PlanBinding, sha256: str) -> None:
    """Refuse a plan file that is not exactly the plan build's plan for ``expected``.

    ``sha256`` is what the plan build exported to CodeBuild: the file must hash to it, and the
    metadata must describe that file, be a deploy plan and carry the expected binding.
    """
    problems = mismatches(metadata, expected)
    digest = sha256_hex(plan)
    if digest != sha256:
        problems.insert(0, f"plan file sha256 {digest} ({len(plan)} bytes) is not the "
                           f"{sha256} the plan build exported: it changed after the plan build")
    if metadata.plan_sha256 != sha256 or metadata.plan_size != len(plan):
        problems.append(f"the metadata describes sha256 {metadata.plan_sha256} "
                        f"({metadata.plan_size} bytes), not the plan build's {sha256}")
    if metadata.kind != "deploy":
        problems.append(f"it is a {metadata.kind} plan (made for a {metadata.event or 'review'} "
                        "event): only a deploy plan of the environment's plan project applies")
    if problems:
        raise GateRefused(
            f"refusing the plan at {metadata.plan_url}:\n  " + "\n  ".join(problems),
            context={"plan_url": metadata.plan_url, "problems": problems})


class PlanStore:
    """Reads and writes plan artifacts and apply records in S3 (the client is handed in)."""

    def __init__(self, s3: S3Client, settings: StoreSettings | None = None) -> None:
        self.s3 = s3
        self.settings = settings or StoreSettings()

    def save(self, location: PlanLocation, plan: bytes, metadata: PlanMetadata) -> None:
        """The plan file first, then its metadata, each only if its key is new."""
        sha = metadata.plan_sha256
        tags = f"{EXPIRY_TAG}={self.settings.retention_days}&lmi-delivery-plan={location.kind}"
        for key, body, kind in ((location.plan_key(sha), plan, "application/octet-stream"),
                                (location.metadata_key(sha), metadata.to_json(),
                                 "application/json")):
            if not self._put_new(location.bucket, key, body, kind, tags):
                existing = self._get(location.bucket, key)
                if existing != body and key.endswith(".tfplan"):
                    raise GateRefused(f"{location.url(key)} already holds other bytes than this "
                                      "plan: someone wrote at this plan's key; refusing to store")
                # The same plan bytes again: the metadata of the first store stays.

    def put_beside(self, location: PlanLocation, key: str, body: bytes) -> None:
        """A JSON document beside a plan (under its prefix), written like the plan: only if
        its key is new; the first one written stays."""
        if not key.startswith(location.prefix + "/"):
            raise GateRefused(f"{location.url(key)} is not beside the plans at "
                              f"{location.base_url}")
        tags = f"{EXPIRY_TAG}={self.settings.retention_days}&lmi-delivery-plan={location.kind}"
        self._put_new(location.bucket, key, body, "application/json", tags)

    def metadata(self, location: PlanLocation, sha256: str) -> PlanMetadata | None:
        key = location.metadata_key(sha256)
        data = self._get(location.bucket, key)
        return None if data is None else PlanMetadata.from_json(data, location.url(key))

    def plan(self, location: PlanLocation, sha256: str) -> bytes | None:
        return self._get(location.bucket, location.plan_key(sha256))

    def history(self, bucket: str, prefix: str) -> list[ApplyRecord]:
        """The environment's applies, oldest first."""
        from botocore.exceptions import ClientError

        keys: list[str] = []
        try:
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                          Prefix=prefix):
                keys += [item["Key"] for item in page.get("Contents", [])]
        except ClientError as exc:
            raise translate(exc, "ListObjectsV2", where=f"s3://{bucket}/{prefix}") from None
        records = []
        for key in sorted(keys):
            data = self._get(bucket, key)
            if data is not None:
                records.append(ApplyRecord.from_json(data, f"s3://{bucket}/{key}"))
        return records

    def append(self, bucket: str, key: str, record: ApplyRecord) -> None:
        if not self._put_new(bucket, key, record.to_json(), "application/json", None):
            raise GateRefused(f"s3://{bucket}/{key} exists: an apply record is never rewritten")

    def _put_new(self, bucket: str, key: str, body: bytes, content_type: str,
                 tags: str | None) -> bool:
        """Put ``body`` at ``key`` unless an object is there; False when one is."""
        from botocore.exceptions import ClientError

        extra: dict[str, Any] = {}
        if self.settings.kms_key:
            extra.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=self.settings.kms_key)
        if tags:
            extra["Tagging"] = tags
        try:
            # S3 checks the body against this checksum, so a corrupted upload is refused.
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                               ChecksumAlgorithm="SHA256", IfNoneMatch="*", **extra)
        except ClientError as exc:
            if error_code(exc) in _EXISTS_CODES:
                return False
            raise translate(exc, "PutObject", where=f"s3://{bucket}/{key}") from None
        return True

    def _get(self, bucket: str, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.s3.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in _MISSING_CODES:
                return None
            raise translate(exc, "GetObject", where=f"s3://{bucket}/{key}") from None
        return answer["Body"].read()


def _json_object(data: bytes, where: str, what: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise GateRefused(f"{where}: {what} is not valid JSON ({exc}); refusing the plan") from None
    if not isinstance(document, dict):
        raise GateRefused(f"{where}: {what} is not a JSON object; refusing the plan")
    return document


