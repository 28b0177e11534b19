"""Fault injection: throttles, HTTP 500/503 and dropped connections, replayable from a seed.

Each operation draws from its own random stream (seeded by ``seed`` and the operation key), so
the faults one operation meets do not depend on how calls of other operations interleave.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from typing import Literal

from lmi_delivery.sandbox.options import FaultRates
from lmi_delivery.sandbox.protocol import Call

Fault = Literal["throttle", "500", "503", "drop"]


class FaultInjector:
    def __init__(self, rules: Mapping[str, FaultRates], seed: int) -> None:
        self._rules = dict(rules)
        self._seed = seed
        self._streams: dict[str, random.Random] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._streams.clear()

    def _rule(self, call: Call) -> tuple[str, FaultRates] | None:
        service = call.service or "?"
        candidates = []
        if call.operation:
            candidates += [f"{service}:{call.operation}", call.operation]
        candidates += [f"{service}:*", "*"]
        for key in candidates:
            if key in self._rules:
                return f"{service}:{call.operation or '*'}", self._rules[key]
        return None

    def draw(self, call: Call) -> Fault | None:
        found = self._rule(call)
        if found is None:
            return None
        stream_key, rates = found
        with self._lock:
            stream = self._streams.get(stream_key)
            if stream is None:
                stream = self._streams[stream_key] = random.Random(f"{self._seed}:{stream_key}")
            roll = stream.random()
        edge = 0.0
        ladder: tuple[tuple[Fault, float], ...] = (
            ("throttle", rates.throttle), ("500", rates.error_500),
            ("503", rates.error_503), ("drop", rates.drop),
        )
        for fault, rate in ladder:
            edge += rate
            if roll < edge:
                return fault
        return None
