"""Run every doctor rule over a repository and collect the findings, sorted by place."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lmi_delivery.config.model import Config
from lmi_delivery.doctor import (
    rules_backend,
    rules_docs,
    rules_gating,
    rules_installs,
    rules_names,
    rules_owners,
    rules_replan,
    rules_secrets,
    rules_tfdir,
    rules_tfversion,
)
from lmi_delivery.doctor.sources import Repo, load_repo
from lmi_delivery.findings import Finding, by_place

Check = Callable[[Repo], Iterable[Finding]]

CHECKS: tuple[Check, ...] = (
    rules_gating.check,
    rules_replan.check,
    rules_names.check,
    rules_secrets.check,
    rules_tfdir.check,
    rules_tfversion.check,
    rules_backend.check,
    rules_owners.check,
    rules_installs.check,
    rules_docs.check,
)


def diagnose_repo(repo: Repo, checks: Iterable[Check] = CHECKS) -> list[Finding]:
    found = set(repo.unreadable)
    for check in checks:
        found.update(check(repo))
    return sorted(found, key=by_place)


def diagnose(config: Config) -> list[Finding]:
    """Every finding for the repository whose root holds ``config``."""
    return diagnose_repo(load_repo(config))
