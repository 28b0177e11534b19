"""The decision on one request: allowed (None) or the service's ``AccessDenied`` answer.

Identity policies of the caller (its inline and attached policies, as moto collects them) and,
for S3, the bucket's policy, for the call and for the KMS calls S3 makes for the caller
(:mod:`.kms`): an explicit deny in either refuses; an allow in either permits (same account);
else the call is refused. The account's own credentials (:mod:`.principal`) skip the identity
policies but not a bucket policy's deny. The sandbox's own calls (marked with the internal
header: seeding, and CodeBuild reading projects and shipping logs as the service would) are
not authorized; any client could send that header, so the sandbox tests roles, it is no
security boundary.
"""

from __future__ import annotations

from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3.models import s3_backends
from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.iam import kms, webidentity
from lmi_delivery.sandbox.iam.actions import Check, checks
from lmi_delivery.sandbox.iam.denied import access_denied, message
from lmi_delivery.sandbox.iam.policy import evaluate
from lmi_delivery.sandbox.iam.principal import Caller, InvalidCredentials, caller_of
from lmi_delivery.sandbox.protocol import INTERNAL_HEADER, Call

ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})


class Authorizer:
    def __init__(self, account: str) -> None:
        self.account = account

    def authorize(self, request: Request, call: Call) -> Response | None:
        if request.headers.get(INTERNAL_HEADER) == "1":
            return None
        if call.operation == "AssumeRoleWithWebIdentity":
            return webidentity.check(request, self.account)
        try:
            caller = caller_of(request, self.account)
        except InvalidCredentials:
            return access_denied(call, request, "The security token included in the request "
                                                "is invalid")
        for check in checks(request, call, self.account):
            for needed in (check, *kms.implied(request, check, self.account)):
                refusal = self.decide(caller, needed)
                if refusal is not None:
                    return access_denied(call, request, refusal)
        return None

    def decide(self, caller: Caller | None, check: Check) -> str | None:
        """None if ``caller`` may make ``check``; else why not, in AWS's words."""
        if check.action in ALWAYS_ALLOWED:
            return None
        arn = caller.arn if caller is not None else f"arn:aws:iam::{self.account}:root"
        granted = False
        policy = self._bucket_policy(check.bucket) if check.bucket else None
        if policy is not None:
            result = evaluate([policy], check.action, check.resource, check.context,
                              principal=("AWS", arn))
            if result is PermissionResult.DENIED:
                return message(arn, check.action, check.resource, "resource-based")
            granted = result is PermissionResult.PERMITTED
        if caller is None:
            return None
        result = evaluate(caller.policies, check.action, check.resource, check.context)
        if result is PermissionResult.DENIED:
            return message(arn, check.action, check.resource, "identity-based")
        if result is PermissionResult.PERMITTED or granted:
            return None
        return message(arn, check.action, check.resource, None)

    def _bucket_policy(self, name: str) -> Any:
        bucket = s3_backends[self.account]["aws"].buckets.get(name)
        policy = getattr(bucket, "policy", None)
        return policy.decode() if isinstance(policy, bytes) else policy
