"""The security gate's built-in rules over a plan, each finding placed at its source line.

Rules (see :mod:`lmi_delivery.gates.rules`): over-broad IAM policies (SEC001-SEC003) and those
that cannot be read at plan time (SEC004), security groups open to the internet (SEC010), the
default VPC (SEC020), secrets in Lambda environments
(SEC030, SEC031), build secrets set as Terraform variables that are not sensitive (SEC032),
with ``require_kms``, missing customer-managed KMS keys (SEC040) and, given the configuration,
knobs Terraform manages that post-deploy manages too (OWN001-OWN003,
:mod:`~lmi_delivery.gates.ownership`).
"""

from __future__ import annotations

from collections.abc import Iterable

from lmi_delivery.config.model import Config, SecurityGate
from lmi_delivery.findings import Finding
from lmi_delivery.gates import (
    ownership,
    security_data,
    security_default_vpc,
    security_iam,
    security_network,
    security_variables,
)
from lmi_delivery.gates.plan_json import Plan
from lmi_delivery.gates.sources import SourceIndex, place


def check(plan: Plan, gate: SecurityGate, sources: SourceIndex | None = None, *,
          secrets: Iterable[str] = (), config: Config | None = None,
          environment: str | None = None) -> list[Finding]:
    """``secrets``: the names of the config's ``codebuild.secrets``; ``config``: what
    post-deploy manages (OWN001-OWN003; ``None``: not checked) in ``environment``."""
    found = [
        *security_iam.check(plan),
        *security_network.check_open_ingress(plan),
        *security_default_vpc.check(plan),
        *security_data.check_secrets(plan),
        *security_variables.check_build_secrets(
            plan, secrets, sources.working_dir if sources else None,
            sources.repo_root if sources else None),
    ]
    if gate.require_kms:
        found += security_data.check_kms(plan)
    if config is not None:
        found += ownership.check(plan, config, environment, sources)
    return place(plan, found, sources)

