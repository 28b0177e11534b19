"""``lmi-delivery doctor``: a linter for a repository's delivery setup (see :mod:`.rules`).

It owns the LMD rules over the repository's workflows, buildspecs, Terraform and docs, read
once with their positions (:mod:`.sources`). It never changes a file and never calls AWS."""

from __future__ import annotations

from lmi_delivery.doctor.diagnose import diagnose
from lmi_delivery.doctor.rules import RULES, is_failing
from lmi_delivery.findings import Finding, Rule

__all__ = ["RULES", "Finding", "Rule", "diagnose", "is_failing"]
