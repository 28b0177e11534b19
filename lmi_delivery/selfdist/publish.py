"""Handing builds the orchestrator's lmi-delivery: the wheel in S3, its sha256, its version.

The wheel is stored content-addressed in the artifacts bucket, outside the prefix where plans
live: ``s3://<bucket>/lmi-delivery/<sha256>/<wheel file>``, with a conditional put
(``If-None-Match: *``) that never overwrites, and SSE-KMS when ``codebuild.artifacts_kms_key``
is set. Every build role reads that prefix (the wheel is no secret); only the orchestrator
writes it. What a build trusts is not the object but the sha256 it is started with: it
installs only bytes that hash to it.

With ``codebuild.lmi_delivery`` a team's own index serves lmi-delivery instead: builds are
handed the index, the version and the wheel's sha256 (nothing is uploaded), and the
orchestrator must run that same version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmi_delivery import __version__
from lmi_delivery.aws.errors import error_code, translate
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config
from lmi_delivery.errors import ConfigError, GateRefused
from lmi_delivery.plan.steps import EnvVar
from lmi_delivery.selfdist.variables import INDEX_URL, VERSION, WHEEL_SHA256, WHEEL_URL
from lmi_delivery.selfdist.wheel import Wheel, own_wheel

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: In the artifacts bucket, outside its prefix (plans, locks and records live there).
KEY_PREFIX = "lmi-delivery"
_EXISTS_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


@dataclass(frozen=True)
class BuildDistribution:
    """The lmi-delivery every build installs: exactly this version and wheel sha256."""

    version: str
    sha256: str
    url: str = ""
    """``s3://`` location of the orchestrator's wheel (empty with a team index)."""
    index_url: str = ""
    """The team's index serving this version (empty: the wheel at ``url``)."""

    def variables(self) -> tuple[EnvVar, ...]:
        where = (EnvVar(WHEEL_URL, self.url) if self.url else EnvVar(INDEX_URL, self.index_url))
        return (where, EnvVar(WHEEL_SHA256, self.sha256), EnvVar(VERSION, self.version))


def wheel_key(config: Config, wheel: Wheel) -> tuple[str, str]:
    """Bucket and key of ``wheel``: content-addressed, its file name kept for pip."""
    bucket = naming.artifact_location(config).bucket
    return bucket, f"{KEY_PREFIX}/{wheel.sha256}/{wheel.filename}"


def store(s3: S3Client, bucket: str, key: str, wheel: Wheel, *,
          kms_key: str | None = None) -> BuildDistribution:
    """Put ``wheel`` at ``key`` unless it is there; refuse a key holding other bytes."""
    from botocore.exceptions import ClientError

    url = f"s3://{bucket}/{key}"
    extra: dict[str, Any] = {}
    if kms_key:
        extra.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key)
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=wheel.data, ContentType="application/zip",
                      ChecksumAlgorithm="SHA256", IfNoneMatch="*", **extra)
    except ClientError as exc:
        if error_code(exc) not in _EXISTS_CODES:
            raise translate(exc, "PutObject", where=url) from None
        try:
            existing = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as again:
            raise translate(again, "GetObject", where=url) from None
        if existing != wheel.data:
            raise GateRefused(f"{url} holds other bytes than lmi-delivery's wheel with sha256 "
                              f"{wheel.sha256}: someone wrote at its key; no build is started "
                              "(every build would refuse it)") from None
    return BuildDistribution(wheel.version, wheel.sha256, url=url)


def for_builds(config: Config, s3: S3Client, environ: Mapping[str, str]) -> BuildDistribution:
    """What every build of this run is handed: the team's pinned release, or this wheel,
    stored in the artifacts bucket. ``environ`` is what a wheel is built with."""
    index = config.codebuild.lmi_delivery
    if index is not None:
        if index.version != __version__:
            where = config.location("codebuild", "lmi_delivery", "version")
            raise ConfigError.at(where.file, f"codebuild.lmi_delivery.version {index.version} "
                                 f"is not the lmi-delivery this orchestrator runs "
                                 f"({__version__}): builds must run the orchestrator's own "
                                 "version", line=where.line, column=where.column)
        return BuildDistribution(index.version, index.sha256, index_url=index.index_url)
    wheel = own_wheel(environ)
    bucket, key = wheel_key(config, wheel)
    return store(s3, bucket, key, wheel, kms_key=config.codebuild.artifacts_kms_key)


def build_variables(config: Config, s3: S3Client,
                    environ: Mapping[str, str]) -> Callable[[], tuple[EnvVar, ...]]:
    """The variables every build is started with, made (and the wheel stored) on the first
    call, when the first build starts: a run that starts none stores nothing."""
    made: list[tuple[EnvVar, ...]] = []

    def variables() -> tuple[EnvVar, ...]:
        if not made:
            made.append(for_builds(config, s3, environ).variables())
        return made[0]

    return variables


