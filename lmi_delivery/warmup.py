"""Recognise lmi-delivery's warm-up invocations inside function code.

Warm-up invocations (``lmi-delivery warm`` and the scheduled EventBridge rule) carry this
payload::

    {"lmi-delivery": {"warmup": true, "id": "…"}}

A handler returns early on them, so priming an environment never runs business logic::

    from lmi_delivery.warmup import is_warmup

    def handler(event, context):
        if is_warmup(event):
            return {"warmup": True}
        ...

On Lambda Managed Instances a warm-up invocation only primes the runtime of the environment
that receives it (imports, JIT, caches, connections); the number of warm environments is set by
the function's minimum execution environments, not by invocations.

This module imports nothing but the standard library (and in fact nothing at all), so function
code can vendor or import it without pulling in lmi-delivery's dependencies.
"""

from __future__ import annotations

MARKER = "lmi-delivery"
"""The top-level key of a warm-up payload."""


def is_warmup(event: object) -> bool:
    """True when ``event`` is an lmi-delivery warm-up payload (``{"lmi-delivery":
    {"warmup": true, ...}}``); False for anything else, including non-mapping events."""
    if not isinstance(event, dict):
        return False
    marker = event.get(MARKER)
    return isinstance(marker, dict) and marker.get("warmup") is True


def warmup_payload(invocation_id: str) -> dict[str, dict[str, object]]:
    """The payload lmi-delivery sends; ``invocation_id`` tells the invocations apart."""
    return {MARKER: {"warmup": True, "id": invocation_id}}
