"""The KMS permissions an S3 call implies, as S3 asks KMS on the caller's behalf.

Writing an object that is encrypted with a KMS key (the bucket's default encryption, or the
key the request names) needs ``kms:GenerateDataKey`` on that key; reading one needs
``kms:Decrypt``. Both are authorized as the caller, with ``kms:ResourceAliases`` (the key's
aliases) in the context, so a grant through an alias works as on AWS. The key's own policy is
not evaluated: the bootstrap's key delegates to IAM, as AWS's default key policy does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from moto.kms.models import kms_backends
from moto.s3.models import s3_backends
from werkzeug.wrappers import Request

from lmi_delivery.sandbox.iam.actions import Check

KEY_HEADER = "x-amz-server-side-encryption-aws-kms-key-id"


def implied(request: Request, check: Check, account: str) -> Iterator[Check]:
    """The KMS checks behind ``check`` (an S3 object check), if its object is KMS-encrypted."""
    if check.bucket is None or check.action not in ("s3:PutObject", "s3:GetObject",
                                                    "s3:GetObjectVersion"):
        return
    bucket = s3_backends[account]["aws"].buckets.get(check.bucket)
    if bucket is None:
        return
    key_name = check.resource.split(":::", 1)[1].split("/", 1)[1]
    if check.action == "s3:PutObject":
        key_id = request.headers.get(KEY_HEADER) or _default_key(bucket)
        action = "kms:GenerateDataKey"
    else:
        stored = bucket.keys.get(key_name)
        key_id = getattr(stored, "kms_key_id", None) if stored is not None else None
        action = "kms:Decrypt"
    if not key_id:
        return
    found = _key(account, str(key_id))
    if found is not None:
        arn, aliases = found
        yield Check(action, arn, {**check.context, "kms:ResourceAliases": aliases})


def _default_key(bucket: Any) -> str | None:
    rule = (bucket.encryption or {}).get("Rule") or {}
    default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    if default.get("SSEAlgorithm") != "aws:kms":
        return None
    return default.get("KMSMasterKeyID") or None


def _key(account: str, key_id: str) -> tuple[str, tuple[str, ...]] | None:
    """The key's ARN and aliases, for a key id, key ARN, alias name or alias ARN."""
    region = key_id.split(":")[3] if key_id.startswith("arn:") else None
    for name, backend in kms_backends[account].items():
        if region not in (None, name):
            continue
        try:
            key = backend.keys[backend.any_id_to_key_id(key_id)]
        except (KeyError, TypeError, AttributeError):
            continue
        return str(key.arn), tuple(key.aliases)
    return None
