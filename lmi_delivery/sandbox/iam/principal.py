"""Who is calling: the IAM user or assumed role of a request's access key, or the account.

The sandbox hands out made-up keys (``testing``, ``sandbox``) that belong to no IAM user and no
STS session: such a caller is the account itself (its root), which IAM does not restrict, so
setup and every test that does not assume a role keep working. Keys of an IAM user or of an
STS session (``AssumeRole``, ``AssumeRoleWithWebIdentity``) are looked up with moto's access
control; a session key presented with the wrong session token is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import CreateAccessKeyFailure, create_access_key
from werkzeug.wrappers import Request

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


@dataclass(frozen=True)
class Caller:
    """An IAM principal whose policies decide (``arn``, its policy documents)."""

    arn: str
    policies: tuple[Any, ...]


class InvalidCredentials(Exception):
    """A session key with a token that is not its own."""


def access_key_of(request: Request) -> str | None:
    found = _CREDENTIAL.search(request.headers.get("Authorization", ""))
    if found:
        return found.group(1)
    credential = request.args.get("X-Amz-Credential", "")  # a presigned URL
    return credential.split("/", 1)[0] or None


def caller_of(request: Request, account: str, partition: str = "aws") -> Caller | None:
    """The IAM principal of ``request``, or None for the account (unrestricted)."""
    key = access_key_of(request)
    if key is None:
        return None
    headers = dict(request.headers)
    token = request.args.get("X-Amz-Security-Token")
    if token and "X-Amz-Security-Token" not in headers:
        headers["X-Amz-Security-Token"] = token
    try:
        found = create_access_key(account_id=account, partition=partition, access_key_id=key,
                                  headers=headers)
    except CreateAccessKeyFailure as failure:
        if failure.reason == "InvalidToken":
            raise InvalidCredentials(key) from None
        return None
    return Caller(found.arn, tuple(found.collect_policies()))
