"""``AssumeRoleWithWebIdentity``: the token's claims against the role's trust policy.

STS takes this call unsigned; the web identity token is the credential. The sandbox reads the
token as a JWT (``header.payload.signature``, base64url) **without checking its signature**, so
a test can make one for any claims (:func:`unsigned_token`); everything else is checked as STS
does: an IAM OIDC provider for the token's issuer must exist and list the token's audience,
the token must not have expired, and the role's trust policy must allow
``sts:AssumeRoleWithWebIdentity`` to that provider (``Principal.Federated``) with its conditions
on ``HOST:sub``, ``HOST:aud`` and the token's other string claims.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.iam.access_control import PermissionResult
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.iam.policy import evaluate

ACTION = "sts:AssumeRoleWithWebIdentity"


def unsigned_token(claims: dict[str, Any]) -> str:
    """A JWT of ``claims`` with no signature: what the sandbox accepts in place of GitHub's."""
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def claims_of(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise Refused("InvalidIdentityToken", "The web identity token is not a JWT")
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:
        raise Refused("InvalidIdentityToken", "The web identity token cannot be read") from None
    if not isinstance(claims, dict):
        raise Refused("InvalidIdentityToken", "The web identity token has no claims")
    return claims


def check(request: Request, account: str, now: float | None = None) -> Response | None:
    """None when the role may be assumed with this token; else STS's error response."""
    form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
    form.update(request.args)
    try:
        _check(form, account, time.time() if now is None else now)
    except Refused as refused:
        return _error(refused)
    return None


def _check(form: dict[str, str], account: str, now: float) -> None:
    claims = claims_of(form.get("WebIdentityToken", ""))
    issuer = str(claims.get("iss", "")).removeprefix("https://").rstrip("/")
    audiences = claims.get("aud", [])
    audiences = [audiences] if isinstance(audiences, str) else [str(a) for a in audiences]
    if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < now:
        raise Refused("ExpiredTokenException", "Token is expired")
    backend = iam_backends[account]["aws"]
    provider_arn = f"arn:aws:iam::{account}:oidc-provider/{issuer}"
    try:
        provider = backend.get_open_id_connect_provider(provider_arn)
    except NotFoundException:
        raise Refused("InvalidIdentityToken", "No OpenIDConnect provider found in your "
                                              f"account for https://{issuer}") from None
    if not set(audiences) & set(provider.client_id_list):
        raise Refused("InvalidIdentityToken", "Incorrect token audience")
    role_arn = form.get("RoleArn", "")
    try:
        role = backend.get_role_by_arn(role_arn)
    except NotFoundException:
        raise Refused("AccessDenied", f"Not authorized to perform {ACTION}", 403) from None
    context = {f"{issuer}:{k}": (str(v),) for k, v in claims.items() if isinstance(v, str)}
    context[f"{issuer}:aud"] = tuple(audiences)
    result = evaluate([role.assume_role_policy_document], ACTION, role_arn, context,
                      principal=("Federated", provider_arn))
    if result is not PermissionResult.PERMITTED:
        raise Refused("AccessDenied", f"Not authorized to perform {ACTION}", 403)


def _error(refused: Refused) -> Response:
    xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{refused.code}</Code>"
           f"<Message>{escape(refused.message)}</Message></Error>"
           "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>")
    return Response(xml, status=refused.status, content_type="text/xml")
