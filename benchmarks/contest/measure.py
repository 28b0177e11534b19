"""What a contestant cost, read from the sandbox's journal the same way for every contestant.

``calls``: the Lambda calls the sandbox answered, other than throttles, that share the
control-plane budget of 15 requests/s: every Lambda operation but ``GetFunction`` /
``GetFunctionConfiguration`` (100/s of their own) and invocations (not limited). The
capacity-provider reads count too, as lmi-delivery's pacing counts them (the sandbox gives them
a 15/s budget of their own, so the bound is a little generous to a contestant that makes many).
``throttles_seen``: the 429 answers. The lower bound of a contestant is ``calls / 15`` seconds:
no client can make those calls faster through that budget.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lmi_delivery.sandbox.ratelimit import GET_OPERATIONS, UNLIMITED_OPERATIONS

RATE = 15.0
THROTTLED = 429


@dataclass
class Tally:
    calls: int = 0
    """Control-plane calls answered (not throttled)."""
    other_calls: int = 0
    """GetFunction/GetFunctionConfiguration and invocations answered."""
    throttles_seen: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)

    @property
    def lower_bound(self) -> float:
        return self.calls / RATE


def tally(entries: Iterable[Any]) -> Tally:
    """Count journal entries (``Sandbox.requests("lambda")``)."""
    found = Tally()
    for entry in entries:
        operation = str(entry.operation)
        if entry.status == THROTTLED:
            found.throttles_seen += 1
        elif operation in GET_OPERATIONS or operation in UNLIMITED_OPERATIONS:
            found.other_calls += 1
        else:
            found.calls += 1
            found.by_operation[operation] += 1
    return found
