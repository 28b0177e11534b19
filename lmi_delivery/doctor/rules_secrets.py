"""LMD004: one step given generic secrets and environment-specific secrets together.

A secret is environment-specific when a part of its name (split at ``_`` and ``-``) is an
environment of lmi-delivery.yml or a usual environment word (``PROD``, ``STAGING``, ...).
``GITHUB_TOKEN`` is neither. A step holding both kinds can leak one environment's credentials
into work meant for every environment; give it one kind, or move the environment-specific ones
into a GitHub environment and the job that uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lmi_delivery.config.yamlpos import Value
from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.sources import Repo
from lmi_delivery.doctor.workflow import steps
from lmi_delivery.findings import Finding

_SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)|secrets\[\s*'([^']+)'\s*\]")
USUAL_ENVIRONMENTS = frozenset({"PROD", "PRODUCTION", "STAGING", "STAGE", "DEV", "DEVELOPMENT",
                                "QA", "UAT", "PREPROD", "SANDBOX"})
ALWAYS_GENERIC = frozenset({"GITHUB_TOKEN"})


def _names(value: Value) -> list[str]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _names(v)]
    if isinstance(value, str):
        return [a or b for a, b in _SECRET.findall(value)]
    return []


def check(repo: Repo) -> Iterator[Finding]:
    markers = USUAL_ENVIRONMENTS | {e.upper() for e in repo.config.environments}
    for file in repo.workflows:
        for step in steps(file):
            specific: list[tuple[str, str]] = []
            generic: list[str] = []
            for section in ("env", "with"):
                for name in _names(step.value.get(section)):
                    if name.upper() in ALWAYS_GENERIC:
                        continue
                    parts = set(re.split(r"[_-]", name.upper()))
                    if parts & markers:
                        specific.append((section, name))
                    else:
                        generic.append(name)
            if specific and generic:
                section, first = specific[0]
                where = file.find(first, file.location(*step.path, section))
                label = step.value.get("name") or step.value.get("uses") or f"#{step.index + 1}"
                yield finding("LMD004", where,
                              f"step {label!r} of job {step.job!r} mixes environment secrets "
                              f"({', '.join(sorted({n for _, n in specific}))}) with generic "
                              f"ones ({', '.join(sorted(set(generic)))}): split the step, or "
                              "keep environment secrets in a GitHub environment of their own")
