"""Running a gate over a plan: the security gate and the validation gate, as :class:`GateReport`.

Everything from outside (the environment with ``PATH`` for the scanners, today's date for the
waivers, the command runner) is passed in; nothing here reads ``os.environ`` or the clock.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lmi_delivery import process
from lmi_delivery.config.model import Config, Severity
from lmi_delivery.errors import Location
from lmi_delivery.gates import lmi_checks, scanners, security
from lmi_delivery.gates.findings import Finding, apply_waivers, blocking, enforce
from lmi_delivery.gates.plan_json import Plan
from lmi_delivery.gates.sources import SourceIndex

#: The validation gate refuses on any finding: AWS would refuse the same thing later.
VALIDATION_FAIL_ON: Severity = "low"


@dataclass(frozen=True)
class GateReport:
    gate: str
    """``security`` or ``validate``."""
    fail_on: Severity
    findings: Sequence[Finding] = ()
    enabled: bool = True
    plan_path: str = ""
    environment: str | None = None
    config_file: str = field(default="lmi-delivery.yml")

    @property
    def blocking(self) -> list[Finding]:
        return blocking(self.findings, self.fail_on)

    @property
    def passed(self) -> bool:
        return not self.blocking

    def enforce(self) -> None:
        """Raise ``GateRefused`` (exit 3) when any finding blocks."""
        enforce(self.gate, self.findings, self.fail_on, fallback=self.plan_path)


def _sources(config: Config, plan: Plan) -> SourceIndex:
    return SourceIndex(config.root / config.terraform.working_directory, config.root, plan)


def _config_location(config: Config, *path: str) -> Location:
    where = config.location(*path)
    return Location(config.path.name, where.line, where.column)


def security_report(config: Config, plan: Plan, *, env: Mapping[str, str],
                    today: datetime.date, environment: str | None = None,
                    runner: scanners.Runner = process.run) -> GateReport:
    gate = config.gates.security
    report = GateReport("security", gate.fail_on, enabled=gate.enabled, plan_path=plan.path,
                        environment=environment, config_file=config.path.name)
    if not gate.enabled:
        return report
    found = security.check(plan, gate, _sources(config, plan),
                           secrets=config.codebuild.secrets)
    found += scanners.run_scanners(
        gate.scanners, scan_dir=Path(config.root / config.terraform.working_directory),
        repo_root=config.root, env=env, runner=runner,
        where=_config_location(config, "gates", "security", "scanners"),
    )
    waived = apply_waivers(found, gate.waivers, today,
                           where=_config_location(config, "gates", "security", "waivers"))
    return GateReport("security", gate.fail_on, waived, plan_path=plan.path,
                      environment=environment, config_file=config.path.name)


def validation_report(config: Config, plan: Plan, *,
                      environment: str | None = None) -> GateReport:
    gate = config.gates.validation
    if not gate.enabled:
        return GateReport("validate", VALIDATION_FAIL_ON, enabled=False, plan_path=plan.path,
                          environment=environment, config_file=config.path.name)
    found = lmi_checks.check(plan, gate, _sources(config, plan))
    return GateReport("validate", VALIDATION_FAIL_ON, found, plan_path=plan.path,
                      environment=environment, config_file=config.path.name)
