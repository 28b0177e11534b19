"""The knobs of a sandbox: delays, the control-plane rate limit, latency and fault injection."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

#: AWS's Lambda control-plane budget per account (AWS-FACTS.md); the value used when "on".
DEFAULT_CONTROL_PLANE_RATE = 15.0
#: Capacity-provider API budgets per account (AWS-FACTS.md), apart from the Lambda budget.
CAPACITY_PROVIDER_WRITE_RATE = 1.0
CAPACITY_PROVIDER_READ_RATE = 15.0
#: The kinds of an injected fault, as ``--fault OPERATION=KIND[:RATE]`` names them.
FAULT_KINDS = ("throttle", "500", "503", "drop")


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


#: What ``--fault`` and ``--latency`` accept before their ``=``: an operation,
#: ``service:Operation``, ``service:*`` or ``*`` (matched by ``sandbox.rules.rule_for``).
_OPERATION = r"(?P<op>\*|[A-Za-z0-9-]+:(?:\*|[A-Za-z0-9]+)|[A-Za-z0-9]+)"
_FAULT_SPEC = re.compile(rf"^{_OPERATION}=(?P<kind>[a-z0-9]+)(?::(?P<rate>[0-9.]+))?$")
_LATENCY_SPEC = re.compile(rf"^{_OPERATION}=(?P<ms>[0-9]+(?:\.[0-9]*)?)"
                           r"(?:(?:±|\+-|\+/-)(?P<jitter>[0-9]+(?:\.[0-9]*)?))?$")
_FIELD = {"throttle": "throttle", "500": "error_500", "503": "error_503", "drop": "drop"}


def parse_faults(specs: Iterable[str]) -> dict[str, FaultRates]:
    """``["PutFunctionScalingConfig=500:1.0", "s3:*=throttle:0.1", ...]`` as fault rules.

    Each spec is ``OPERATION=KIND[:RATE]``: an operation name (``PublishVersion``),
    ``service:Operation``, ``service:*`` or ``*``; a kind of :data:`FAULT_KINDS`; a rate within
    0..1 (default 1). Specs of one operation add up. Raises ``ValueError`` naming the bad spec.
    """
    rates: dict[str, dict[str, float]] = {}
    for spec in specs:
        found = _FAULT_SPEC.fullmatch(spec.strip())
        if found is None or found.group("kind") not in _FIELD:
            raise ValueError(f"invalid fault {spec!r}: expected OPERATION=KIND[:RATE] with KIND "
                             f"one of {', '.join(FAULT_KINDS)} (e.g. PublishVersion=throttle:0.1)")
        try:
            rate = float(found.group("rate") or 1.0)
        except ValueError:
            raise ValueError(f"invalid fault {spec!r}: the rate is not a number") from None
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"invalid fault {spec!r}: the rate must be within 0..1")
        kinds = rates.setdefault(found.group("op"), {})
        field_name = _FIELD[found.group("kind")]
        kinds[field_name] = kinds.get(field_name, 0.0) + rate
    try:
        return {op: FaultRates(**kinds) for op, kinds in rates.items()}
    except ValueError as error:
        raise ValueError(f"invalid faults: {error}") from None


@dataclass(frozen=True)
class Latency:
    """How long the sandbox holds the answer of one call: ``seconds``, give or take up to
    ``jitter`` seconds (drawn uniformly, from the sandbox's seed)."""

    seconds: float
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.seconds < 0 or self.jitter < 0:
            raise ValueError("a latency and its jitter must not be negative")
        if self.jitter > self.seconds:
            raise ValueError("a latency's jitter must not exceed the latency")


def parse_latency(specs: Iterable[str]) -> dict[str, Latency]:
    """``["*=150±30", "lambda:ListAliases=300", ...]`` as latency rules.

    Each spec is ``OPERATION=MS[±JITTER]`` (``+-`` for ``±`` where typing it is awkward): an
    operation as :func:`parse_faults` takes it, milliseconds, and the jitter in milliseconds
    (default 0). A later spec of one operation replaces an earlier one. Raises ``ValueError``
    naming the bad spec.
    """
    found: dict[str, Latency] = {}
    for spec in specs:
        parsed = _LATENCY_SPEC.fullmatch(spec.strip())
        if parsed is None:
            raise ValueError(f"invalid latency {spec!r}: expected OPERATION=MS[±JITTER] "
                             "(e.g. '*=150±30' or ListVersionsByFunction=200)")
        try:
            found[parsed.group("op")] = Latency(float(parsed.group("ms")) / 1000,
                                                float(parsed.group("jitter") or 0) / 1000)
        except ValueError as error:
            raise ValueError(f"invalid latency {spec!r}: {error}") from None
    return found


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
    delete_delay_seconds: float = 0.0
    """How long a deleted LMI version (or function, or capacity provider) stays ``Deleting``,
    still read and listed, before it is gone. ``DeleteFunction`` answers 202 either way."""
    deleting_counts_against_quota: bool = True
    """Whether ``Deleting`` versions still count against the 100 versions a capacity provider
    may hold. AWS does not document it: code must be right both ways."""
    scaling_delay_seconds: float = 0.0
    """How long a ``PutFunctionScalingConfig`` stays ``Requested`` before it is ``Applied``
    (and a 0/0 config keeps a version ``Deactivating`` before it is ``Deactivated``)."""
    capacity_provider_delay_seconds: float = 0.0
    """How long a created or updated capacity provider stays ``Pending`` before ``Active``."""
    rate_limit_per_second: float | None = None
    """Shared budget of the Lambda control plane; ``None`` turns the limit off."""
    get_function_rate_per_second: float = 100.0
    """GetFunction / GetFunctionConfiguration budget (only when the rate limit is on)."""
    capacity_provider_write_rate_per_second: float = CAPACITY_PROVIDER_WRITE_RATE
    """Create/Update/DeleteCapacityProvider budget (only when the rate limit is on)."""
    capacity_provider_read_rate_per_second: float = CAPACITY_PROVIDER_READ_RATE
    """Capacity-provider reads' budget (only when the rate limit is on)."""
    latency_seconds: float = 0.0
    """Added to every AWS call that no rule of ``latency`` matches, before it is answered."""
    latency: Mapping[str, Latency] = field(default_factory=dict)
    """Operation (keyed as ``faults`` is) → how long its answers are held: AWS answers a
    control-plane call in roughly 100-300 ms, the sandbox in a few. The rate limit counts a
    call when it arrives; its answer, a throttle included, leaves after the latency."""
    faults: Mapping[str, FaultRates] = field(default_factory=dict)
    seed: int = 0
    iam: bool = False
    """Authorize every call against its caller's IAM policies (:mod:`.iam`); the sandbox's
    own made-up credentials stay the account's, which IAM does not restrict."""
    repositories: Mapping[str, str] = field(default_factory=dict)
    """Clone URL (``https://github.com/OWNER/REPO.git``) → the local directory a CodeBuild
    project whose source is that URL builds from (a project made by CloudFormation, say)."""
    port: int = 0
    """0 picks a free port."""
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    """Monotonic seconds, by which the delays above pass (the rate limit and the latency keep
    real time): a test may hand in a clock it moves itself."""

    def __post_init__(self) -> None:
        delays = (self.publish_delay_seconds, self.latency_seconds, self.delete_delay_seconds,
                  self.scaling_delay_seconds, self.capacity_provider_delay_seconds)
        if any(delay < 0 for delay in delays):
            raise ValueError("delays must not be negative")
        if self.rate_limit_per_second is not None and self.rate_limit_per_second <= 0:
            raise ValueError("rate_limit_per_second must be positive (or None for off)")
        for rate in (self.get_function_rate_per_second,
                     self.capacity_provider_write_rate_per_second,
                     self.capacity_provider_read_rate_per_second):
            if rate <= 0:
                raise ValueError("rates must be positive")
