"""The poll interval, adaptive: doubled on each throttle up to a cap, eased back on success.

One policy for the whole poller (not per build): when AWS answers ``ThrottlingException`` or
"Rate exceeded", the next poll waits twice as long, up to ``cap``; after ``recover_after``
successful polls in a row the interval halves again, until it is back at ``base``.
"""

from __future__ import annotations

from typing import Any

THROTTLE_CODES = frozenset({"ThrottlingException", "Throttling", "ThrottledException",
                            "TooManyRequestsException", "RequestLimitExceeded",
                            "LimitExceededException"})


def is_throttle(error: BaseException) -> bool:
    """Whether a botocore ``ClientError`` says we called too often."""
    response: Any = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    details = response.get("Error") or {}
    code = str(details.get("Code", ""))
    message = str(details.get("Message", ""))
    return code in THROTTLE_CODES or "rate exceeded" in message.lower()


class AdaptiveInterval:
    def __init__(self, base: float, cap: float | None = None, *, recover_after: int = 3) -> None:
        if base <= 0:
            raise ValueError("the poll interval must be > 0 seconds")
        self.base = base
        self.cap = max(base, cap if cap is not None else max(60.0, base * 8))
        self.recover_after = max(1, recover_after)
        self.current = base
        self.throttles = 0
        self._successes = 0

    def throttled(self) -> float:
        self.throttles += 1
        self._successes = 0
        self.current = min(self.cap, self.current * 2)
        return self.current

    def succeeded(self) -> float:
        if self.current > self.base:
            self._successes += 1
            if self._successes >= self.recover_after:
                self._successes = 0
                self.current = max(self.base, self.current / 2)
        return self.current
