"""How long the sandbox holds each answer, so that a client meets AWS-like round trips.

AWS answers a Lambda control-plane call in roughly 100-300 ms; moto in a few. A client that
waits for each answer before sending the next call looks as fast as one that keeps the rate
budget busy when answers are instant, and is not on AWS. The delay of a call comes from the
most specific rule of ``SandboxOptions.latency`` (else ``latency_seconds``); its jitter is drawn
from the operation's own seeded stream, so a run replays identically.
"""

from __future__ import annotations

from collections.abc import Mapping

from lmi_delivery.sandbox.options import Latency
from lmi_delivery.sandbox.protocol import Call
from lmi_delivery.sandbox.rules import Streams, rule_for


class LatencyModel:
    def __init__(self, rules: Mapping[str, Latency], default_seconds: float, seed: int) -> None:
        self._rules = dict(rules)
        self._default = default_seconds
        self._streams = Streams(seed, prefix="latency:")

    def reset(self) -> None:
        self._streams.reset()

    def delay(self, call: Call) -> float:
        """Seconds to hold the answer of ``call``."""
        found = rule_for(self._rules, call)
        if found is None:
            return self._default
        stream_key, latency = found
        if not latency.jitter:
            return latency.seconds
        roll = self._streams.random(stream_key)
        return max(0.0, latency.seconds + (2 * roll - 1) * latency.jitter)
