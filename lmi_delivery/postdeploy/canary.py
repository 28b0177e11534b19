"""The names of the canary before rollouts generalised it (:mod:`lmi_delivery.postdeploy.rollout`).

``functions.<f>.canary`` still works: the config builder reads it as a canary rollout.
"""

from __future__ import annotations

from lmi_delivery.postdeploy.rollout import POLL_SECONDS, firing
from lmi_delivery.postdeploy.rollout import RolloutClock as CanaryClock
from lmi_delivery.postdeploy.rollout import RolloutRolledBack as CanaryRolledBack

__all__ = ["POLL_SECONDS", "CanaryClock", "CanaryRolledBack", "firing"]
