"""The hand-off of a reviewed plan from the plan build to the apply build, through S3.

The plan build stores two objects under the keys :func:`~lmi_delivery.config.naming.plan_keys`
derives from the service, the environment and the commit:

``plan.tfplan``
    the binary plan file, byte for byte;
``plan.json``
    its metadata (:class:`PlanMetadata`, ``schema_version`` 1): the plan file's sha256 and size,
    what the plan is bound to (:class:`PlanBinding`: service, environment, commit, working
    directory, Terraform version, config digest), when and by which build it was made, and the
    plan summary.

The apply build loads both, and :func:`verify` refuses (:class:`GateRefused`, exit 3) unless the
file hashes to the recorded sha256 and the binding equals the apply build's own. Neither object
is ever rewritten or deleted by an apply: a failed apply can be re-run and finds its plan again.
A successful apply writes a third object beside them, ``applied.json`` (:class:`AppliedMarker`),
which makes a second apply of the same plan file refuse with a clear message.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import AwsError, GateRefused

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SCHEMA_VERSION = 1
APPLIED_MARKER = "applied.json"
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


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
class PlanKeys:
    """Where one environment's plan for one commit lives."""

    bucket: str
    plan: str
    metadata: str
    applied: str

    @classmethod
    def of(cls, config: Config, env: Environment, commit: str) -> PlanKeys:
        plan, metadata = naming.plan_keys(config, env, commit)
        applied = posixpath.join(posixpath.dirname(metadata), APPLIED_MARKER)
        return cls(naming.artifact_location(config).bucket, plan, metadata, applied)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


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
    build_id: str | None = None
    """The CodeBuild build that made the plan, when there was one."""
    summary: Mapping[str, Any] = field(default_factory=dict)
    """:meth:`PlanSummary.to_dict` of the plan (no values: outputs may be sensitive)."""
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def build(cls, binding: PlanBinding, plan: bytes, plan_url: str, *, created_at: str,
              summary: Mapping[str, Any], build_id: str | None = None) -> PlanMetadata:
        return cls(**asdict(binding), plan_sha256=sha256_hex(plan), plan_size=len(plan),
                   plan_url=plan_url, created_at=created_at, build_id=build_id,
                   summary=dict(summary))

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
class AppliedMarker:
    """Written beside a plan once it has been applied; never part of the metadata."""

    plan_sha256: str
    commit: str
    environment: str
    applied_at: str
    build_id: str | None = None
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, where: str) -> AppliedMarker:
        document = _json_object(data, where, "applied marker")
        try:
            return cls(str(document["plan_sha256"]), str(document["commit"]),
                       str(document["environment"]), str(document["applied_at"]),
                       document.get("build_id"))
        except KeyError as exc:
            raise GateRefused(f"{where}: applied marker lacks {exc.args[0]!r}") from None


def mismatches(metadata: PlanMetadata, expected: PlanBinding) -> list[str]:
    """Every way the plan's binding differs from the one the apply build expects."""
    found = metadata.binding
    labels = {"service": "service", "environment": "environment", "commit": "commit",
              "working_directory": "working directory",
              "terraform_version": "Terraform version", "config_digest": "config digest"}
    return [f"{label}: the plan is for {getattr(found, name)!r}, this build is for "
            f"{getattr(expected, name)!r}"
            for name, label in labels.items() if getattr(found, name) != getattr(expected, name)]


def verify(metadata: PlanMetadata, plan: bytes, expected: PlanBinding) -> None:
    """Refuse a plan file that is not exactly the reviewed plan for ``expected``."""
    problems = mismatches(metadata, expected)
    digest = sha256_hex(plan)
    if digest != metadata.plan_sha256 or len(plan) != metadata.plan_size:
        problems.insert(0, f"plan file sha256 {digest} ({len(plan)} bytes) does not match the "
                           f"metadata's {metadata.plan_sha256} ({metadata.plan_size} bytes): "
                           "it changed after the plan build")
    if problems:
        raise GateRefused(
            f"refusing the plan at {metadata.plan_url}:\n  " + "\n  ".join(problems),
            context={"plan_url": metadata.plan_url, "problems": problems})


class PlanStore:
    """Reads and writes plan artifacts in S3 (the client is handed in)."""

    def __init__(self, s3: S3Client) -> None:
        self.s3 = s3

    def save(self, keys: PlanKeys, plan: bytes, metadata: PlanMetadata) -> None:
        """The plan file first, then its metadata: metadata never names a missing file."""
        self._put(keys.bucket, keys.plan, plan, "application/octet-stream")
        self._put(keys.bucket, keys.metadata, metadata.to_json(), "application/json")

    def metadata(self, keys: PlanKeys) -> PlanMetadata | None:
        data = self._get(keys.bucket, keys.metadata)
        return None if data is None else PlanMetadata.from_json(data, keys.url(keys.metadata))

    def plan(self, keys: PlanKeys) -> bytes | None:
        return self._get(keys.bucket, keys.plan)

    def applied(self, keys: PlanKeys) -> AppliedMarker | None:
        data = self._get(keys.bucket, keys.applied)
        return None if data is None else AppliedMarker.from_json(data, keys.url(keys.applied))

    def mark_applied(self, keys: PlanKeys, marker: AppliedMarker) -> None:
        self._put(keys.bucket, keys.applied, marker.to_json(), "application/json")

    def _put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        from botocore.exceptions import ClientError

        try:
            # S3 checks the body against this checksum, so a corrupted upload is refused.
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                               ChecksumAlgorithm="SHA256")
        except ClientError as exc:
            raise _aws_error("PutObject", exc, f"s3://{bucket}/{key}") from None

    def _get(self, bucket: str, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.s3.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING_CODES:
                return None
            raise _aws_error("GetObject", exc, f"s3://{bucket}/{key}") from None
        return answer["Body"].read()


def _json_object(data: bytes, where: str, what: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise GateRefused(f"{where}: {what} is not valid JSON ({exc}); refusing the plan") from None
    if not isinstance(document, dict):
        raise GateRefused(f"{where}: {what} is not a JSON object; refusing the plan")
    return document


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _aws_error(operation: str, exc: Any, url: str) -> AwsError:
    message = str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
    return AwsError(operation, _code(exc) or "Unknown", f"{message} ({url})",
                    context={"url": url})
