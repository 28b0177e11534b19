"""The peers lmi-delivery's pruner is measured against, really run against the sandbox.

``seed``: the seed platform's pruner as the seed describes it, in Python with boto3's standard
retries. ``serverless_prune``: serverless-prune-plugin's own code (npm, ``.ci/node``), under
Node with a minimal stand-in for its Serverless host (``serverless_prune_host.cjs``). Each run
returns an :class:`Outcome`: what the contestant itself saw; the calls it made and the throttles
it met are read from the sandbox's journal by the harness, the same way for every contestant.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What one contestant's run reported to its caller."""

    seconds: float
    """Wall time of the prune itself (no interpreter start, no client construction)."""
    throttles_surfaced: int = 0
    """Throttle errors that outlived the contestant's retries and reached its caller."""
    errors: tuple[str, ...] = ()
    """Every other error that reached the caller (a refused deletion, a stopped run)."""
