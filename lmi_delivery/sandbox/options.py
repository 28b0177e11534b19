"""The knobs of a sandbox: delays, the control-plane rate limit, latency and fault injection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: AWS's Lambda control-plane budget per account (AWS-FACTS.md); the value used when "on".
DEFAULT_CONTROL_PLANE_RATE = 15.0


@dataclass(frozen=True)
class FaultRates:
    """Probabilities (0..1) that one call of an operation meets each injected fault.

    The rates are checked in this order with one random draw: throttle, 500, 503, drop.
    ``drop`` closes the connection without any response.
    """

    throttle: float = 0.0
    error_500: float = 0.0
    error_503: float = 0.0
    drop: float = 0.0

    def __post_init__(self) -> None:
        total = self.throttle + self.error_500 + self.error_503 + self.drop
        for name in ("throttle", "error_500", "error_503", "drop"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"fault rate {name} must be within 0..1")
        if total > 1.0:
            raise ValueError("fault rates of one operation must add up to at most 1")


@dataclass(frozen=True)
class SandboxOptions:
    """How a :class:`~lmi_delivery.sandbox.server.Sandbox` behaves.

    ``faults`` maps an operation to its fault rates. Keys are an operation name
    (``PublishVersion``), ``service:Operation`` (``lambda:PublishVersion``), ``service:*``
    (``s3:*``) or ``*``; the most specific key that matches wins. ``seed`` makes every
    random choice (faults, weighted alias routing) replay identically.
    """

    region: str = "us-east-1"
    publish_delay_seconds: float = 0.0
    """How long a published LMI version stays ``Pending`` before it turns ``Active``."""
    rate_limit_per_second: float | None = None
    """Shared budget of the Lambda control plane; ``None`` turns the limit off."""
    get_function_rate_per_second: float = 100.0
    """GetFunction / GetFunctionConfiguration budget (only when the rate limit is on)."""
    latency_seconds: float = 0.0
    """Added to every AWS call before it is answered."""
    faults: Mapping[str, FaultRates] = field(default_factory=dict)
    seed: int = 0
    port: int = 0
    """0 picks a free port."""

    def __post_init__(self) -> None:
        if self.publish_delay_seconds < 0 or self.latency_seconds < 0:
            raise ValueError("delays must not be negative")
        if self.rate_limit_per_second is not None and self.rate_limit_per_second <= 0:
            raise ValueError("rate_limit_per_second must be positive (or None for off)")
        if self.get_function_rate_per_second <= 0:
            raise ValueError("get_function_rate_per_second must be positive")
