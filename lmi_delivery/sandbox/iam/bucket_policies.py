"""Bucket policies are decided by the sandbox's authorizer, not by moto.

moto's S3 evaluates a bucket's policy on object calls without the request's condition keys,
and counts a ``Deny`` whose conditions fail as a deny: the bootstrap's TLS-only rule
(``Bool aws:SecureTransport false``) and its no-overwrite rule (``Null s3:if-none-match``) would
refuse every object call. :func:`defer_to_authorizer` makes moto's check neutral; with ``iam``
on, :class:`~lmi_delivery.sandbox.iam.authorizer.Authorizer` evaluates the policy with the
request's condition keys (without ``iam``, no policy is enforced, bucket policies included).
"""

from __future__ import annotations

from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket


def _neutral(self: FakeBucket, action: str, resource: str) -> Any:
    return PermissionResult.NEUTRAL


def defer_to_authorizer() -> None:
    """Idempotent; moto's buckets are process-global, so is this."""
    FakeBucket.get_permission = _neutral  # type: ignore[method-assign]  # see the module doc
