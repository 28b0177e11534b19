"""What an incoming AWS request is (service, region, operation) and how AWS answers errors.

The operation of a Lambda request is found by matching its method and path against the URIs
of botocore's own Lambda service model, so the sandbox routes exactly as the SDK builds them.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import botocore.session
from werkzeug.wrappers import Request, Response

#: A request carrying this header skips faults, latency and the rate limit (used for seeding).
INTERNAL_HEADER = "X-Lmi-Sandbox-Internal"


@dataclass(frozen=True)
class Call:
    """One AWS call as the middleware sees it."""

    service: str | None
    """Signing name from the SigV4 credential scope (``lambda``, ``s3``, ...)."""
    region: str
    operation: str | None
    params: dict[str, str]
    """Path parameters of a Lambda operation (``FunctionName``, ``Name``, ...)."""


def describe(request: Request, default_region: str) -> Call:
    service, region = _credential_scope(request.headers.get("Authorization", ""))
    region = region or default_region
    target = request.headers.get("X-Amz-Target")
    if target:
        return Call(service, region, target.rsplit(".", 1)[-1], {})
    if service == "lambda":
        found = lambda_operation(request.method, request.path, request.args)
        if found:
            return Call(service, region, found[0], found[1])
        return Call(service, region, None, {})
    action = request.args.get("Action")
    if action is None and request.mimetype == "application/x-www-form-urlencoded":
        form = parse_qs(request.get_data(as_text=True))
        action = form.get("Action", [None])[0]
    return Call(service, region, action, {})


def _credential_scope(authorization: str) -> tuple[str | None, str | None]:
    match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", authorization)
    if not match:
        return None, None
    return match.group(2).lower(), match.group(1)


Route = tuple[str, str, re.Pattern[str], tuple[tuple[str, str], ...]]


@functools.cache
def _lambda_routes() -> tuple[Route, ...]:
    model = botocore.session.get_session().get_service_model("lambda")
    routes: list[tuple[int, Route]] = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri, _, query = str(http["requestUri"]).partition("?")
        required = tuple((k, v[0]) for k, v in parse_qs(query, keep_blank_values=True).items())
        pattern, literal = "", 0
        for part in re.split(r"(\{\w+\+?\})", uri):
            placeholder = re.fullmatch(r"\{(\w+)(\+?)\}", part)
            if placeholder:
                body = ".+" if placeholder.group(2) else "[^/]+"
                pattern += f"(?P<{placeholder.group(1)}>{body})"
            else:
                pattern += re.escape(part)
                literal += len(part)
        specificity = literal + 1000 * len(required)
        routes.append((specificity, (str(http["method"]), name, re.compile(pattern + "/?"),
                                     required)))
    routes.sort(key=lambda r: -r[0])
    return tuple(route for _, route in routes)


def lambda_operation(method: str, path: str, args: Mapping[str, str] | None = None
                     ) -> tuple[str, dict[str, str]] | None:
    """The Lambda operation name and path parameters of a request, or None."""
    args = args or {}
    for route_method, name, rx, required in _lambda_routes():
        if route_method != method or any(args.get(k) != v for k, v in required):
            continue
        match = rx.fullmatch(path)
        if match:
            return name, {k: v for k, v in match.groupdict().items() if v is not None}
    return None


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"x-amzn-RequestId": str(uuid.uuid4()), **(headers or {})}
    return Response(json.dumps(body), status=status, headers=all_headers,
                    content_type="application/json")


#: moto's names for errors whose Lambda name differs.
_RENAMED = {"ConflictException": "ResourceConflictException"}


@functools.cache
def _message_key(code: str) -> str | None:
    """How Lambda's model spells the message of an error (``Message`` or ``message``), or
    ``None`` for an error outside the model (``ValidationException``)."""
    model = botocore.session.get_session().get_service_model("lambda")
    for shape in model.error_shapes:
        if shape.name == code:
            members: Mapping[str, Any] = getattr(shape, "members", {})
            return "Message" if "Message" in members else "message"
    return None


def lambda_error(status: int, code: str, message: str, **extra: str) -> Response:
    """A Lambda (rest-json) error as AWS sends it: the code in ``x-amzn-ErrorType``, a body of
    ``Type`` (User or Service) and the message under the member name Lambda's model gives it
    (``ResourceNotFoundException`` carries ``Message``, ``ResourceConflictException``
    ``message``). Errors outside the model (``ValidationException``) carry ``message`` only."""
    key = _message_key(code)
    body: dict[str, str] = {"message": message} if key is None else {
        "Type": "Service" if status >= 500 else "User", key: message}
    return json_response({**body, **extra}, status, {"x-amzn-ErrorType": code})


def validation_error(message: str) -> Response:
    """A model constraint broken (length, range, pattern): HTTP 400 ``ValidationException``."""
    return lambda_error(400, "ValidationException", message)


def as_lambda_error(response: Response) -> Response:
    """Any Lambda error response (moto's included) rewritten in AWS's form."""
    try:
        body = json.loads(response.get_data(as_text=True) or "{}")
    except ValueError:
        return response
    if not isinstance(body, dict):
        return response
    code = str(response.headers.get("x-amzn-ErrorType") or body.get("__type") or "")
    code = code.split(":", 1)[0]
    if not code:
        return response
    message = str(body.get("Message", body.get("message", "")))
    extra = {k: str(v) for k, v in body.items()
             if k not in ("Message", "message", "Type", "__type")}
    fixed = lambda_error(response.status_code, _RENAMED.get(code, code), message, **extra)
    for name in ("Retry-After", "x-amzn-RequestId"):
        if name in response.headers:
            fixed.headers[name] = response.headers[name]
    return fixed


def throttled(retry_after: str = "1") -> Response:
    """Lambda's answer over its rate limit: HTTP 429 TooManyRequestsException."""
    response = lambda_error(429, "TooManyRequestsException", "Rate exceeded",
                            retryAfterSeconds=retry_after)
    response.headers["Retry-After"] = retry_after
    return response


def protocol_error(call: Call, request: Request, kind: str) -> Response:
    """An injected fault (``throttle``, ``500`` or ``503``) in the protocol of the service."""
    if call.service == "lambda":
        if kind == "throttle":
            return throttled()
        code = "ServiceException" if kind == "500" else "ServiceUnavailableException"
        return lambda_error(int(kind), code, "Injected sandbox fault")
    status = 400 if kind == "throttle" else int(kind)
    if request.headers.get("X-Amz-Target"):
        code = "ThrottlingException" if kind == "throttle" else (
            "InternalFailure" if kind == "500" else "ServiceUnavailable")
        return json_response({"__type": code, "message": "Injected sandbox fault"}, status,
                             {"x-amzn-ErrorType": code})
    if call.service == "s3":
        code = {"throttle": "SlowDown", "500": "InternalError", "503": "ServiceUnavailable"}[kind]
        status = 503 if kind == "throttle" else status
        xml = f"<Error><Code>{code}</Code><Message>Injected sandbox fault</Message></Error>"
        return Response(xml, status=status, content_type="application/xml")
    code = {"throttle": "Throttling", "500": "InternalFailure", "503": "ServiceUnavailable"}[kind]
    error = (f"<Error><Type>Sender</Type><Code>{code}</Code>"
             "<Message>Injected sandbox fault</Message></Error>")
    if call.service == "ec2":
        xml = f"<Response><Errors>{error}</Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
    else:
        xml = f"<ErrorResponse>{error}<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    return Response(xml, status=status, content_type="text/xml")
