"""Pacing a Lambda client through the account's rate budget, via botocore's event hooks.

Two hooks are registered on a Lambda client's event system, ahead of botocore's own handlers:

``before-send.lambda``
    Runs before every HTTP attempt, retries included: control-plane operations take a token from
    the 15/s budget, ``GetFunction``/``GetFunctionConfiguration`` from their own 100/s budget,
    invocations from none.
``needs-retry.lambda``
    On a throttle answer (HTTP 429, ``TooManyRequestsException`` and the like) it penalizes the
    budget by ``retryAfterSeconds`` (or an exponential backoff when AWS gives none), then asks
    botocore to retry at once: the wait happens in the budget, shared by every thread, instead
    of in one thread's private backoff sleep. Past ``max_attempts`` it lets botocore give up.
    Other errors keep botocore's own retry policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.budget import RateBudget

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

#: Data-plane operations: not part of the control-plane budget.
UNPACED_OPERATIONS = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})
#: Operations with their own (100/s) budget.
READ_OPERATIONS = frozenset({"GetFunction", "GetFunctionConfiguration"})
THROTTLE_CODES = frozenset({
    "TooManyRequestsException", "ThrottlingException", "Throttling", "ThrottledException",
    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
    "SlowDown", "TooManyRequests",
})
#: Backoff when a throttle answer carries no ``retryAfterSeconds``: base * 2**(attempt-1), capped.
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 20.0


class LambdaPacer:
    """The hooks that make a Lambda client take tokens from the shared budgets."""

    def __init__(self, control: RateBudget, reads: RateBudget, max_attempts: int) -> None:
        self.control = control
        self.reads = reads
        self.max_attempts = max_attempts

    def attach(self, events: BaseEventHooks) -> None:
        """Register the hooks first, so no other ``before-send`` handler (a stub transport,
        an in-process mock) can answer before the token is taken."""
        events.register_first("before-send.lambda", self.before_send,
                               unique_id="lmi-delivery-pace")
        events.register_first("needs-retry.lambda",
                              self.needs_retry,  # type: ignore[arg-type]  # stubs want -> None; botocore reads the answer
                              unique_id="lmi-delivery-throttle")

    def budget_for(self, operation_name: str) -> RateBudget | None:
        if operation_name in UNPACED_OPERATIONS:
            return None
        return self.reads if operation_name in READ_OPERATIONS else self.control

    def before_send(self, **kwargs: Any) -> None:
        budget = self.budget_for(_operation(kwargs))
        if budget is not None:
            budget.acquire()

    def needs_retry(self, **kwargs: Any) -> float | None:
        response = kwargs.get("response")
        if response is None:
            return None  # a connection error: botocore's policy decides
        http_response, parsed = response
        if not is_throttle(http_response.status_code, parsed):
            return None
        operation = kwargs.get("operation")
        budget = self.budget_for(operation.name if operation is not None else _operation(kwargs))
        if budget is None:
            return None
        attempts = int(kwargs.get("attempts", 1))
        delay = retry_after_seconds(http_response.headers, parsed)
        if delay is None:
            delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
        budget.penalize(delay)
        if attempts >= self.max_attempts:
            return None  # out of attempts: botocore raises the throttle error
        return 0.0  # retry now; the next attempt waits in before_send behind the penalty


def _operation(kwargs: Mapping[str, Any]) -> str:
    return str(kwargs.get("event_name", "")).rsplit(".", 1)[-1]


def is_throttle(status_code: int, parsed: Mapping[str, Any]) -> bool:
    code = (parsed.get("Error") or {}).get("Code", "")
    return status_code == 429 or code in THROTTLE_CODES


def retry_after_seconds(headers: Mapping[str, str], parsed: Mapping[str, Any]) -> float | None:
    """``retryAfterSeconds`` of a throttle answer (modeled field, else the ``Retry-After``
    header), or ``None`` when absent or unreadable."""
    for raw in (parsed.get("retryAfterSeconds"), headers.get("Retry-After"),
                headers.get("retry-after")):
        if raw in (None, ""):
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            continue
        if value >= 0:
            return value
    return None
