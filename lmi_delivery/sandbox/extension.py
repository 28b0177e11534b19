"""Extensions: handlers offered every request before it reaches moto.

An extension answers a request by returning a response, or lets it pass by returning None.
:class:`LambdaOperations` is the base of the sandbox's own Lambda handlers: it routes by
operation name (from botocore's model), serialises access to moto and the sandbox state, and
turns :class:`~lmi_delivery.sandbox.state.ApiError` and moto's errors into AWS error responses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from moto.core.exceptions import JsonRESTError
from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.options import SandboxOptions
from lmi_delivery.sandbox.protocol import Call, describe, lambda_error
from lmi_delivery.sandbox.state import ApiError, SandboxState, invalid

CALL_KEY = "lmi_sandbox.call"

#: Sends a request on to moto, optionally with a replaced body, and returns moto's response.
Forward = Callable[[Request, bytes | None], Response]
Handler = Callable[[Request, Call], Response]


class Extension(Protocol):
    def handle(self, request: Request) -> Response | None: ...


def call_of(request: Request, default_region: str) -> Call:
    found = request.environ.get(CALL_KEY)
    if isinstance(found, Call):
        return found
    call = describe(request, default_region)
    request.environ[CALL_KEY] = call
    return call


def json_body(request: Request) -> dict[str, Any]:
    data = request.get_data(cache=True)
    if not data:
        return {}
    try:
        body = json.loads(data)
    except ValueError:
        raise invalid("Could not parse request body into json") from None
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object")
    return body


def response_json(response: Response) -> Any:
    return json.loads(response.get_data(as_text=True) or "null")


def split_function(name_or_arn: str) -> tuple[str, str | None]:
    """(function name, qualifier or None) of a name, ``name:qualifier``, ARN or partial ARN."""
    rest = name_or_arn.split(":function:", 1)[1] if ":function:" in name_or_arn else name_or_arn
    name, _, qualifier = rest.partition(":")
    return name, qualifier or None


class LambdaOperations:
    """Base of an extension that answers some Lambda operations itself."""

    def __init__(self, state: SandboxState, options: SandboxOptions, forward: Forward) -> None:
        self.state = state
        self.options = options
        self.forward = forward

    def handlers(self) -> Mapping[str, Handler]:
        raise NotImplementedError

    def handle(self, request: Request) -> Response | None:
        call = call_of(request, self.options.region)
        if call.service != "lambda" or call.operation is None:
            return None
        handler = self.handlers().get(call.operation)
        if handler is None:
            return None
        with self.state.lock:
            try:
                return handler(request, call)
            except ApiError as error:
                return lambda_error(error.status, error.code, error.message)
            except JsonRESTError as error:
                return lambda_error(error.code, error.error_type, error.message)


class Sweeper:
    """The first Lambda extension: removes what has been ``Deleting`` long enough, so that no
    later handler (nor moto) sees it. Answers nothing itself."""

    def __init__(self, state: SandboxState, options: SandboxOptions) -> None:
        self.state = state
        self.options = options

    def handle(self, request: Request) -> Response | None:
        if self.state.deletions and call_of(request, self.options.region).service == "lambda":
            with self.state.lock:
                self.state.sweep()
        return None


PAGE_SIZE = 50


def paginate(items: list[Any], request: Request) -> tuple[list[Any], str | None]:
    """One page of ``items`` per the request's Marker / MaxItems (at most 50 a page)."""
    try:
        start = int(request.args.get("Marker") or 0)
        size = min(int(request.args.get("MaxItems") or PAGE_SIZE), PAGE_SIZE)
    except ValueError:
        raise invalid("Marker and MaxItems must be integers") from None
    if size < 1:
        raise invalid("MaxItems must be at least 1")
    page = items[start:start + size]
    marker = str(start + size) if start + size < len(items) else None
    return page, marker
