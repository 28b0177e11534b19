"""The WSGI application in front of moto: faults, latency, rate limit, extensions, moto.

Order for every AWS call: control endpoints (``/_sandbox/...``) are answered first; then,
unless the request carries the internal header, an injected fault may answer (or drop the
connection); the rate limit counts the call as it arrives (as AWS's front door does, before
any work); the call's latency passes, then a call over the limit is answered 429; then, with
``iam`` on, the call is authorized (:mod:`~lmi_delivery.sandbox.iam`); then each extension is
offered the request; whatever is left goes to moto unchanged. So a throttle costs a
round trip as on AWS, and the jitter of the latency does not move the instants the limiter
sees. Every Lambda error, whoever
answered it, leaves in AWS's form (:func:`~lmi_delivery.sandbox.protocol.as_lambda_error`).
"""

from __future__ import annotations

import contextlib
import io
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import Extension, call_of
from lmi_delivery.sandbox.faults import FaultInjector
from lmi_delivery.sandbox.iam import Authorizer
from lmi_delivery.sandbox.journal import Journal
from lmi_delivery.sandbox.latency import LatencyModel
from lmi_delivery.sandbox.options import SandboxOptions
from lmi_delivery.sandbox.protocol import (
    INTERNAL_HEADER,
    as_lambda_error,
    protocol_error,
    throttled,
)
from lmi_delivery.sandbox.ratelimit import RateLimiter

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
CONTROL_PREFIX = "/_sandbox/"


class SandboxApp:
    def __init__(self, options: SandboxOptions, moto_app: WsgiApp,
                 extensions: list[Extension], control: Callable[[Request], Response],
                 account: str) -> None:
        self.options = options
        self.moto_app = moto_app
        self.extensions = extensions
        self.control = control
        self.faults = FaultInjector(options.faults, options.seed)
        self.journal = Journal()
        self.authorizer = Authorizer(account) if options.iam else None
        self.latency = LatencyModel(options.latency, options.latency_seconds, options.seed)
        self.limiter = RateLimiter(
            options.rate_limit_per_second, options.get_function_rate_per_second,
            provider_write_rate=options.capacity_provider_write_rate_per_second,
            provider_read_rate=options.capacity_provider_read_rate_per_second)

    def forward(self, request: Request, body: bytes | None = None) -> Response:
        """Send a request to moto (with its body, or a replacement) and buffer the answer."""
        data = request.get_data(cache=True) if body is None else body
        environ = dict(request.environ)
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return Response.from_app(self.moto_app, environ, buffered=True)

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        data = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(data)
        if request.path.startswith(CONTROL_PREFIX):
            return self.control(request)(environ, start_response)
        answer = self.gate(request)
        if answer is None and self.authorizer is not None:
            answer = self.authorizer.authorize(request, call_of(request, self.options.region))
        if answer is None:
            for extension in self.extensions:
                answer = extension.handle(request)
                if answer is not None:
                    break
        if answer is None:
            answer = self.forward(request)
        call = call_of(request, self.options.region)
        if answer.status_code >= 400 and call.service == "lambda":
            answer = as_lambda_error(answer)
        if request.headers.get(INTERNAL_HEADER) != "1":
            params = dict(call.params)
            if "Qualifier" in request.args:
                params["Qualifier"] = request.args["Qualifier"]
            if call.service == "s3":  # S3 calls have no operation name here: say what they did
                params["Method"], params["Path"] = request.method, request.path
            self.journal.record(call.service, call.operation, params, answer.status_code)
        return answer(environ, start_response)

    def gate(self, request: Request) -> Response | None:
        """Faults, the rate limit and latency; None lets the request through."""
        if request.headers.get(INTERNAL_HEADER) == "1":
            return None
        call = call_of(request, self.options.region)
        fault = self.faults.draw(call)
        if fault == "drop":
            drop_connection(request.environ)
        if fault is not None:
            return protocol_error(call, request, fault)
        admitted = self.limiter.admit(call)
        delay = self.latency.delay(call)
        if delay > 0:
            time.sleep(delay)
        return None if admitted else throttled()


def drop_connection(environ: dict[str, Any]) -> None:
    """Close the client's connection without answering (the server sees a dropped client)."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("sandbox fault injection: connection dropped")
