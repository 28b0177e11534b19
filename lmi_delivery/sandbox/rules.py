"""Which rule of a table keyed by operation applies to one call (faults, latency).

Keys are an operation name (``PublishVersion``), ``service:Operation``
(``lambda:PublishVersion``), ``service:*`` (``s3:*``) or ``*``; the most specific key that
matches wins, in that order: ``service:Operation``, ``Operation``, ``service:*``, ``*``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from typing import TypeVar

from lmi_delivery.sandbox.protocol import Call

Rule = TypeVar("Rule")


def rule_for(rules: Mapping[str, Rule], call: Call) -> tuple[str, Rule] | None:
    """``(stream key, rule)`` of the most specific rule for ``call``, or ``None``.

    The stream key (``service:Operation``, ``service:*`` for a call of no known operation)
    names the call's own random stream, whichever rule matched it.
    """
    service = call.service or "?"
    candidates = []
    if call.operation:
        candidates += [f"{service}:{call.operation}", call.operation]
    candidates += [f"{service}:*", "*"]
    for key in candidates:
        if key in rules:
            return f"{service}:{call.operation or '*'}", rules[key]
    return None


class Streams:
    """One seeded random stream per key, so the draws of one operation replay identically
    whatever the calls of other operations do; thread-safe. ``prefix`` keeps the streams of
    two users of one seed (faults, latency) apart."""

    def __init__(self, seed: int, prefix: str = "") -> None:
        self._seed = seed
        self._prefix = prefix
        self._streams: dict[str, random.Random] = {}
        self._lock = threading.Lock()

    def random(self, key: str) -> float:
        """The next number in ``[0, 1)`` of ``key``'s stream."""
        with self._lock:
            stream = self._streams.get(key)
            if stream is None:
                stream = self._streams[key] = random.Random(f"{self._seed}:{self._prefix}{key}")
            return stream.random()

    def reset(self) -> None:
        with self._lock:
            self._streams.clear()
