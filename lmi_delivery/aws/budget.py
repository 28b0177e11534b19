"""A shared request budget: a thread-safe token bucket that paces callers to a fixed rate.

AWS limits the Lambda control plane to 15 requests/s per account and region, whatever the number
of threads or processes calling it. Every thread of a process calling one account+region
therefore takes its tokens from one :class:`RateBudget` (handed out by the process's
:class:`BudgetRegistry`, :func:`process_budgets`), so the admitted rate converges to the budget's
rate instead of being discovered through ``429`` answers. Processes do not share a budget: each
paces itself to the full rate, and AWS's throttle answers push each one back.

The bucket is a virtual schedule (GCRA): each admitted token occupies ``1 / rate`` seconds of the
schedule, ``burst`` tokens may be taken at once after an idle period, and a caller that finds the
schedule full reserves the next free slot and sleeps until it. ``penalize`` moves the whole
schedule past a throttle's ``retryAfterSeconds``; callers already asleep re-check on waking.

Clock and sleep are injected, so tests drive time themselves and never sleep for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RateBudget:
    """A token bucket of ``rate_per_second`` tokens a second holding at most ``burst`` tokens."""

    def __init__(self, rate_per_second: float, burst: float = 1, *, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep, name: str = "") -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be > 0, got {rate_per_second}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        self.rate = float(rate_per_second)
        self.burst = float(burst)
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._interval = 1.0 / self.rate
        # The theoretical arrival time: when the schedule is free again. It may lie in the
        # past (the bucket is refilling) or in the future (callers are queued).
        self._tat = clock()
        self._blocked_until = float("-inf")
        self._admitted = 0
        self._waited = 0.0
        self._penalties = 0

    # -- counters -------------------------------------------------------------------------------

    @property
    def admitted(self) -> int:
        """Tokens handed out so far."""
        with self._lock:
            return self._admitted

    @property
    def waited_seconds(self) -> float:
        """Total time callers spent waiting for tokens (summed over callers)."""
        with self._lock:
            return self._waited

    @property
    def penalties(self) -> int:
        """How many times :meth:`penalize` pushed the schedule back."""
        with self._lock:
            return self._penalties

    # -- taking tokens --------------------------------------------------------------------------

    def acquire(self, n: int = 1) -> float:
        """Take ``n`` tokens, sleeping until they are available. Returns the seconds waited."""
        self._check(n)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                start = self._reserve(now, n)
                wait = start - now
            if wait > 0:
                self._sleep(wait)
                waited += wait
            with self._lock:
                # A throttle answer that arrived while we slept moves us behind the penalty.
                if self._clock() >= self._blocked_until:
                    self._admitted += n
                    self._waited += waited
                    return waited

    def try_acquire(self, n: int = 1) -> bool:
        """Take ``n`` tokens if they are available right now; never waits."""
        self._check(n)
        with self._lock:
            now = self._clock()
            if now < self._blocked_until:
                return False
            tat = max(self._tat, now)
            if tat + n * self._interval - self.burst * self._interval > now:
                return False
            self._tat = tat + n * self._interval
            self._admitted += n
            return True

    def penalize(self, seconds: float) -> None:
        """Push every caller back: no token is handed out for the next ``seconds`` seconds."""
        if seconds <= 0:
            return
        with self._lock:
            until = self._clock() + seconds
            self._penalties += 1
            if until > self._blocked_until:
                self._blocked_until = until
            # Restart the schedule at the end of the penalty, with no burst credit left over.
            self._tat = max(self._tat, until + (self.burst - 1) * self._interval)

    def _reserve(self, now: float, n: int) -> float:
        """Book ``n`` tokens on the schedule; return when the caller may go. Lock held."""
        tat = max(self._tat, now, self._blocked_until)
        self._tat = tat + n * self._interval
        return max(self._tat - self.burst * self._interval, self._blocked_until, now)

    @staticmethod
    def _check(n: int) -> None:
        if n < 1:
            raise ValueError(f"take at least one token, not {n}")

    def __repr__(self) -> str:
        return f"RateBudget(name={self.name!r}, rate={self.rate}, burst={self.burst})"


@dataclass(frozen=True)
class BudgetKey:
    """Which budget: one per account (or endpoint), region and service/API family."""

    account_or_endpoint: str
    region: str
    service: str


class BudgetRegistry:
    """Hands out one shared :class:`RateBudget` per :class:`BudgetKey`.

    Client factories use the process's registry (:func:`process_budgets`) unless handed one, so
    all threads and commands of a process calling one account+region share its budget.
    """

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._budgets: dict[BudgetKey, RateBudget] = {}

    def get(self, key: BudgetKey, rate_per_second: float, burst: float = 1) -> RateBudget:
        """The budget for ``key``, created with ``rate_per_second``/``burst`` on first use."""
        with self._lock:
            budget = self._budgets.get(key)
            if budget is None:
                budget = RateBudget(rate_per_second, burst, clock=self._clock, sleep=self._sleep,
                                    name=f"{key.service}@{key.account_or_endpoint}/{key.region}")
                self._budgets[key] = budget
            return budget

    def budgets(self) -> dict[BudgetKey, RateBudget]:
        """A snapshot of the budgets handed out so far (for reports)."""
        with self._lock:
            return dict(self._budgets)


_PROCESS_BUDGETS = BudgetRegistry()


def process_budgets() -> BudgetRegistry:
    """The registry of this process, on the real clock: AWS counts an account's calls, not a
    client's, so every client factory of the process shares it unless handed another."""
    return _PROCESS_BUDGETS
