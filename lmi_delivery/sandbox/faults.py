"""Fault injection: throttles, HTTP 500/503 and dropped connections, replayable from a seed.

Each operation draws from its own random stream (seeded by ``seed`` and the operation key), so
the faults one operation meets do not depend on how calls of other operations interleave.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from lmi_delivery.sandbox.options import FaultRates
from lmi_delivery.sandbox.protocol import Call
from lmi_delivery.sandbox.rules import Streams, rule_for

Fault = Literal["throttle", "500", "503", "drop"]


class FaultInjector:
    def __init__(self, rules: Mapping[str, FaultRates], seed: int) -> None:
        self._rules = dict(rules)
        self._streams = Streams(seed)

    def reset(self) -> None:
        self._streams.reset()

    def draw(self, call: Call) -> Fault | None:
        found = rule_for(self._rules, call)
        if found is None:
            return None
        stream_key, rates = found
        roll = self._streams.random(stream_key)
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
