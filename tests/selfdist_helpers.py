"""This lmi-delivery's wheel, handed to sandbox builds as the orchestrator hands it.

Tests that start builds of the shipped buildspecs themselves (not through ``run`` or ``ci``)
store the wheel in the sandbox's S3 with :func:`wheel_variables` and start the builds with the
variables it returns, as :func:`lmi_delivery.selfdist.publish.for_builds` does.
"""

from __future__ import annotations

import os
from typing import Any

from lmi_delivery.selfdist.publish import KEY_PREFIX, store
from lmi_delivery.selfdist.wheel import Wheel, own_wheel


def this_wheel() -> Wheel:
    """The wheel of the lmi-delivery under test (built once per change of the sources)."""
    return own_wheel(dict(os.environ))


def wheel_variables(s3: Any, bucket: str) -> dict[str, str]:
    """Store this lmi-delivery's wheel in ``bucket``, where the orchestrator stores it; the
    variables that hand it to a build."""
    wheel = this_wheel()
    key = f"{KEY_PREFIX}/{wheel.sha256}/{wheel.filename}"
    return {v.name: v.value for v in store(s3, bucket, key, wheel).variables()}


def as_overrides(variables: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in variables.items()]
