"""The one AWS error translator: any botocore error as an :class:`~lmi_delivery.errors.AwsError`.

An :class:`AwsError` exits 1 and says ``OPERATION failed: CODE: MESSAGE``: the operation as
botocore names it (``ListVersionsByFunction``), AWS's error code (or, when no answer came, the
kind of failure: ``EndpointConnectionError``, ``ConnectionClosedError``, ``ReadTimeoutError``,
``NoCredentials``, ``ParamValidationError``, ...), AWS's message, how often botocore retried,
and what to do where that is known (refresh credentials, prune versions, run again later).

The CLI applies it once, to whatever reaches its edge (:func:`is_aws_error`, :func:`translate`);
code that turns a failure into a decision (record one function's failure, write a build's
verdict) translates first with :func:`translated`, and code that gives an error code a meaning
(an absent object is ``None``) reads it with :func:`error_code`. No message carries a
credential: AWS's own text is used, never the request; parameter values are dropped from
validation errors; known secret values passed in are masked.

botocore is never imported here: an exception can only be botocore's once botocore is loaded.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from lmi_delivery.aws.pacing import THROTTLE_CODES
from lmi_delivery.errors import AwsError
from lmi_delivery.redact import Redactor

#: The variables whose values :func:`translate` masks at the CLI's edge.
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

NO_CREDENTIALS = ("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                  "(and AWS_SESSION_TOKEN for temporary ones) or AWS_PROFILE, or run where a "
                  "role provides them (CodeBuild, a workflow's OIDC role)")

_CREDENTIALS_INVALID = ("the AWS credentials in use are not valid here: check AWS_PROFILE or "
                        "the access key variables (and AWS_ENDPOINT_URL, if set)")
_CREDENTIALS_EXPIRED = "the AWS credentials have expired: refresh them and run it again"
_DENIED = ("the identity in use (or the environment's role_arn) lacks this permission; "
           "lmi-delivery bootstrap renders the roles that have it")
_NETWORK = ("AWS could not be reached: check the network (and AWS_ENDPOINT_URL, if set), then "
            "run it again")

#: What to do about an error code, where lmi-delivery knows.
HINTS: Mapping[str, str] = {
    "PreconditionFailedException": "the function changed since it was read: re-run once the "
                                   "concurrent change is done",
    "FunctionVersionsPerCapacityProviderLimitExceededException": "prune old versions: "
                                                                 "lmi-delivery prune",
    "AccessDenied": _DENIED, "AccessDeniedException": _DENIED,
    "UnauthorizedOperation": _DENIED,
    "ExpiredToken": _CREDENTIALS_EXPIRED, "ExpiredTokenException": _CREDENTIALS_EXPIRED,
    "RequestExpired": _CREDENTIALS_EXPIRED,
    "UnrecognizedClientException": _CREDENTIALS_INVALID,
    "InvalidClientTokenId": _CREDENTIALS_INVALID, "InvalidAccessKeyId": _CREDENTIALS_INVALID,
    "SignatureDoesNotMatch": _CREDENTIALS_INVALID, "AuthFailure": _CREDENTIALS_INVALID,
    "PartialCredentialsError": "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    "EndpointConnectionError": _NETWORK, "ConnectTimeoutError": _NETWORK,
    "ConnectionClosedError": _NETWORK, "ReadTimeoutError": _NETWORK,
    "ProxyConnectionError": _NETWORK, "SSLError": _NETWORK, "HTTPClientError": _NETWORK,
    "ConnectionError": _NETWORK,
}
_THROTTLED = "AWS throttled the call: run it again later, or call less often"
_SERVER_FAULT = "AWS failed on its side: run it again"
#: A parameter's value in botocore's validation report (it may be anything, a secret too).
_PARAMETER_VALUE = re.compile(r", value: .*?(?=, (?:type|valid)\b)", re.DOTALL)


def is_aws_error(exc: BaseException) -> bool:
    """Whether ``exc`` is botocore's: an AWS answer (``ClientError``) or a failure to get one."""
    module: Any = sys.modules.get("botocore.exceptions")
    if module is None:
        return False
    return isinstance(exc, module.ClientError | module.BotoCoreError)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` when it has none)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return ""
    return str((response.get("Error") or {}).get("Code", "") or "")


def translate(exc: BaseException, operation: str | None = None, *, where: str | None = None,
              context: Mapping[str, object] | None = None,
              secrets: Iterable[str] = ()) -> AwsError:
    """``exc`` (botocore's) as an :class:`AwsError`.

    ``operation`` names the call when the caller knows better than botocore (``PublishVersion
    on F``); ``where`` (a URL, a resource) is added to the message and the context; ``secrets``
    are values to mask wherever they appear.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code, message, details = _answered(exc, response)
    else:
        code, message, details = _unanswered(exc)
    name = operation or _operation(exc)
    hint = HINTS.get(code) or _kind_hint(code, details.get("status"))
    text = (message or code).rstrip(".") or code
    retries = details.get("retries")
    if retries:
        text += f" (after {retries} {'retry' if retries == 1 else 'retries'})"
    if where:
        text += f" ({where})"
    if hint and hint not in text:
        text += f"; {hint}"
    redact = Redactor(s for s in secrets if s)
    full: dict[str, object] = {**details, "operation": name, "code": code, **(context or {})}
    if where:
        full["url"] = where
    return AwsError(name, code, redact(text), context=full)


@contextmanager
def translated(operation: str | None = None, *, where: str | None = None,
               **context: object) -> Iterator[None]:
    """Inside: botocore's errors come out as :class:`AwsError` (others unchanged)."""
    try:
        yield
    except Exception as exc:
        if not is_aws_error(exc):
            raise
        raise translate(exc, operation, where=where, context=context) from exc


def _answered(exc: BaseException, response: Mapping[str, Any]
              ) -> tuple[str, str, dict[str, object]]:
    """Code, message and details of an error AWS answered."""
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    status = meta.get("HTTPStatusCode")
    code = str(error.get("Code") or "") or (f"HTTP{status}" if status else type(exc).__name__)
    message = str(error.get("Message") or error.get("message") or "")
    details: dict[str, object] = {}
    if status:
        details["status"] = int(status)
    if meta.get("RetryAttempts"):
        details["retries"] = int(meta["RetryAttempts"])
    if meta.get("RequestId"):
        details["request_id"] = str(meta["RequestId"])
    return code, message, details


def _unanswered(exc: BaseException) -> tuple[str, str, dict[str, object]]:
    """Code and message of a failure before or instead of an answer (botocore's own errors)."""
    kind = type(exc).__name__
    if kind == "NoCredentialsError":
        return "NoCredentials", NO_CREDENTIALS, {}
    message = str(exc)
    if kind == "ParamValidationError":
        message = _PARAMETER_VALUE.sub("", message)
    return kind, " ".join(message.split()), {}


def _operation(exc: BaseException) -> str:
    """The operation botocore was calling: the answer's, else the innermost API call's frame."""
    name = getattr(exc, "operation_name", None)
    if name:
        return str(name)
    found = ""
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_name == "_make_api_call" and "operation_name" in frame.f_locals:
            found = str(frame.f_locals["operation_name"])
    if found:
        return found
    waiter = (getattr(exc, "kwargs", None) or {}).get("name")
    return f"waiter {waiter}" if waiter else "AWS call"


def _kind_hint(code: str, status: object) -> str:
    if code in THROTTLE_CODES or status == 429:
        return _THROTTLED
    if isinstance(status, int) and status >= 500:
        return _SERVER_FAULT
    return ""
