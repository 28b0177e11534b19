"""What a reviewer reads about a plan, stored beside it: ``<prefix>/<sha256>.review.json``.

The plan build writes it next to the plan's metadata (same prefix, same conditional put, so
the plan build's and the review build's roles already cover it): the plan summary, Terraform's
text plan (the ``plan`` command's output), its warnings, and the gates' findings with rule and
location. The ``ci`` step of the plan job reads it back to write the pull request comment and
the job summary.

It is only ever *shown*, never trusted: a review build runs the pull request's code, so the
document can say anything. It is bounded when written and when read (:data:`MAX_BYTES`, the
text plan to :data:`MAX_TEXT_PLAN`, at most :data:`MAX_FINDINGS` findings), every field is
coerced to the type it must have, and every string is escaped where it is rendered
(:mod:`lmi_delivery.github.review_comment`). Which object is read is decided by the reader from
its own config, the commit and the sha256 the plan build exported, not by a URL in the object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lmi_delivery.terraform import plan_text

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from lmi_delivery.findings import Finding

SCHEMA_VERSION = 1
MAX_BYTES = 4_000_000
MAX_TEXT_PLAN = 2_000_000
MAX_FINDINGS = 500
MAX_FIELD = 2_000


def key(prefix: str, sha256: str) -> str:
    return f"{prefix}/{sha256}.review.json"


@dataclass(frozen=True)
class ReviewDocument:
    summary: Mapping[str, Any]
    """:meth:`PlanSummary.to_dict` of the plan."""
    text_plan: str = ""
    warnings: tuple[str, ...] = ()
    findings: tuple[Mapping[str, str], ...] = ()
    """``rule``, ``level``, ``message``, ``location``, ``address`` of each finding."""
    schema_version: int = field(default=SCHEMA_VERSION)

    @classmethod
    def of(cls, summary: Mapping[str, Any], plan_log: str,
           findings: Iterable[Finding]) -> ReviewDocument:
        rows = tuple({"rule": f.rule_id, "level": f.level, "message": f.message[:MAX_FIELD],
                      "location": str(f.location) if f.location else "",
                      "address": f.address} for f in findings)
        return cls(dict(summary), _bounded_plan(plan_log), tuple(plan_text.warnings(plan_log)),
                   rows[:MAX_FINDINGS])

    def to_json(self) -> bytes:
        return (json.dumps({"schema_version": self.schema_version, "summary": self.summary,
                            "text_plan": self.text_plan, "warnings": list(self.warnings),
                            "findings": list(self.findings)}, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> ReviewDocument | None:
        """The document, coerced to its types; ``None`` when it is not one (never an error:
        the reviewer then sees the plan's one-line summary)."""
        if len(data) > MAX_BYTES:
            return None
        try:
            doc = json.loads(data)
        except ValueError:
            return None
        if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
            return None
        summary = doc.get("summary")
        text = doc.get("text_plan")
        warnings = doc.get("warnings")
        findings = doc.get("findings")
        return cls(
            summary if isinstance(summary, dict) else {},
            _bounded_plan(text) if isinstance(text, str) else "",
            tuple(str(w)[:plan_text.MAX_WARNING_CHARS]
                  for w in (warnings if isinstance(warnings, list) else ())
                  [:plan_text.MAX_WARNINGS]),
            tuple({k: str(f.get(k, ""))[:MAX_FIELD]
                   for k in ("rule", "level", "message", "location", "address")}
                  for f in (findings if isinstance(findings, list) else ())[:MAX_FINDINGS]
                  if isinstance(f, dict)))


def _bounded_plan(text: str) -> str:
    return text if len(text) <= MAX_TEXT_PLAN else text[:MAX_TEXT_PLAN]


def load(s3: S3Client, bucket: str, object_key: str) -> ReviewDocument | None:
    """Read at most :data:`MAX_BYTES` of the document; ``None`` when it is absent or not one."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = s3.get_object(Bucket=bucket, Key=object_key, Range=f"bytes=0-{MAX_BYTES}")
        data = answer["Body"].read(MAX_BYTES + 1)
    except (BotoCoreError, ClientError):
        return None
    return ReviewDocument.from_json(data)
