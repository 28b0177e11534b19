"""Lambda's control-plane rate limit: token buckets with a burst of one.

All Lambda control-plane operations of the endpoint share one bucket (15/s when on);
GetFunction and GetFunctionConfiguration have their own (100/s); invocations are not limited.
The capacity-provider API has budgets of its own, apart from the Lambda one (AWS-FACTS.md):
writes (Create/Update/DeleteCapacityProvider) 1/s, reads 15/s.
A bucket holds at most two tokens: under sustained load the admitted rate is the refill rate,
and the second token absorbs scheduling jitter so a token is not lost while a request is late.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from lmi_delivery.sandbox.protocol import Call

GET_OPERATIONS = frozenset({"GetFunction", "GetFunctionConfiguration"})
PROVIDER_WRITES = frozenset({"CreateCapacityProvider", "UpdateCapacityProvider",
                             "DeleteCapacityProvider"})
PROVIDER_READS = frozenset({"GetCapacityProvider", "ListCapacityProviders",
                            "ListFunctionVersionsByCapacityProvider"})
BURST = 2.0
UNLIMITED_OPERATIONS = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})


class TokenBucket:
    """Refills ``rate`` tokens a second up to ``burst``; thread-safe."""

    def __init__(self, rate: float, burst: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class RateLimiter:
    """Decides whether one Lambda call is admitted; off when ``rate`` is None."""

    def __init__(self, rate: float | None, get_rate: float,
                 clock: Callable[[], float] = time.monotonic, *,
                 provider_write_rate: float = 1.0, provider_read_rate: float = 15.0) -> None:
        self.enabled = rate is not None
        self._clock = clock
        self._control = TokenBucket(rate or 1.0, burst=BURST, clock=clock)
        self._gets = TokenBucket(get_rate, burst=BURST, clock=clock)
        self._provider_writes = TokenBucket(provider_write_rate, burst=1.0, clock=clock)
        self._provider_reads = TokenBucket(provider_read_rate, burst=BURST, clock=clock)
        self._admitted: deque[float] = deque(maxlen=100_000)

    def clear(self) -> None:
        self._admitted.clear()

    def admissions(self) -> list[float]:
        """When each control-plane call was admitted (monotonic seconds), oldest first."""
        return list(self._admitted)

    def admit(self, call: Call) -> bool:
        if not self.enabled or call.service != "lambda" or call.operation is None:
            return True
        if call.operation in UNLIMITED_OPERATIONS:
            return True
        if call.operation in GET_OPERATIONS:
            return self._gets.take()
        if call.operation in PROVIDER_WRITES:
            return self._provider_writes.take()
        if call.operation in PROVIDER_READS:
            return self._provider_reads.take()
        if self._control.take():
            self._admitted.append(self._clock())
            return True
        return False
