"""``doctor --aws``: an environment's deployed delivery plane against what bootstrap renders.

Read-only: the plane is rendered from the config (:func:`~lmi_delivery.bootstrap.build_plane`),
read back from the account (:mod:`~lmi_delivery.doctor.deployed`) and compared
(:mod:`~lmi_delivery.doctor.rules_aws`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lmi_delivery.bootstrap import build_plane
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.doctor.deployed import read_plane
from lmi_delivery.doctor.rules_aws import check
from lmi_delivery.findings import Finding, by_place


def diagnose_aws(config: Config, env: Environment, clients: Callable[[str], Any], *,
                 repository: str, account: str) -> list[Finding]:
    """Every difference between ``env``'s deployed plane and its rendering, sorted by place."""
    plane = build_plane(config, env, repository=repository, account=account)
    return sorted(check(plane, read_plane(plane, clients)), key=by_place)
