"""``lmi-delivery doctor``: a linter for a repository's delivery setup (see :mod:`.model`)."""

from __future__ import annotations

from lmi_delivery.doctor.model import RULES, Finding, Rule, is_failing
from lmi_delivery.doctor.runner import diagnose

__all__ = ["RULES", "Finding", "Rule", "diagnose", "is_failing"]
