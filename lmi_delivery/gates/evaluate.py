"""Running a gate over a plan: the security gate and the validation gate, as :class:`GateReport`.

Everything from outside (the environment with ``PATH`` for the scanners, today's date for the
waivers, the command runner, the Lambda client LMI013 lists bound versions with) is passed in;
nothing here reads ``os.environ`` or the clock, or builds an AWS client.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmi_delivery import process
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, SecurityGate, Severity
from lmi_delivery.errors import GateRefused, Location, UsageError
from lmi_delivery.findings import Finding, blocking, line
from lmi_delivery.gates import lmi_checks, lmi_providers, scanners, security
from lmi_delivery.gates.plan_json import Plan
from lmi_delivery.gates.sources import SourceIndex
from lmi_delivery.gates.waivers import apply_waivers

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
        """Raise ``GateRefused`` (exit 3) listing every finding at or above ``fail_on``."""
        blockers = self.blocking
        if not blockers:
            return
        lines = "\n".join(f"  {line(f, self.plan_path)}" for f in blockers)
        raise GateRefused(
            f"the {self.gate} gate refused: {len(blockers)} finding(s) at or above "
            f"{self.fail_on}:\n{lines}",
            context={"gate": self.gate, "rules": sorted({f.rule_id for f in blockers})},
        )


def _sources(config: Config, plan: Plan) -> SourceIndex:
    return SourceIndex(config.root / config.terraform.working_directory, config.root, plan)


def _config_location(config: Config, *path: str) -> Location:
    where = config.location(*path)
    return Location(config.path.name, where.line, where.column)


def configured_severities(gate: SecurityGate) -> Mapping[str, Severity]:
    """``gates.security.severities``: scanner rule id → severity, over the shipped table."""
    return dict(gate.severities)


def security_report(config: Config, plan: Plan, *, env: Mapping[str, str],
                    today: datetime.date, environment: str | None = None,
                    runner: scanners.Runner = process.run,
                    severities: Mapping[str, Severity] | None = None) -> GateReport:
    """``severities``: scanner rule id → severity, over the shipped table (default: the
    configuration's ``gates.security.severities``)."""
    gate = config.gates.security
    report = GateReport("security", gate.fail_on, enabled=gate.enabled, plan_path=plan.path,
                        environment=environment, config_file=config.path.name)
    if not gate.enabled:
        return report
    found = security.check(plan, gate, _sources(config, plan),
                           secrets=config.codebuild.secrets, config=config,
                           environment=environment)
    found += scanners.run_scanners(
        gate.scanners, scan_dir=Path(config.root / config.terraform.working_directory),
        repo_root=config.root, env=env, runner=runner,
        where=_config_location(config, "gates", "security", "scanners"),
        severities=severities if severities is not None else configured_severities(gate),
        lmi_functions=[f.config_address for f in plan.resources("aws_lambda_function")
                       if f.mode == "managed" and lmi_checks.is_lmi(f)],
    )
    waived = apply_waivers(found, gate.waivers, today,
                           where=_config_location(config, "gates", "security", "waivers"))
    return GateReport("security", gate.fail_on, waived, plan_path=plan.path,
                      environment=environment, config_file=config.path.name)


def aliased_functions(config: Config, environment: str | None) -> set[str]:
    """The function names the config gives an alias, in ``environment`` (every one: None)."""
    try:
        envs = [config.environment(environment)] if environment else \
            list(config.environments.values())
    except UsageError:
        envs = list(config.environments.values())
    return {naming.function_name(config, env, key) for env in envs
            for key, function in config.functions.items() if function.alias}


def retire_command(environment: str | None) -> str:
    """The prune command LMI013 names (``{name}``: the capacity provider's name)."""
    env = f" --env {environment}" if environment else " --env ENV"
    return f"lmi-delivery prune{env} --retire-capacity-provider {{name}}"


def validation_report(config: Config, plan: Plan, *, environment: str | None = None,
                      lambda_client: Any = None) -> GateReport:
    """``lambda_client``: AWS read access for LMI013 (``None``: offline, LMI013 only warns)."""
    gate = config.gates.validation
    if not gate.enabled:
        return GateReport("validate", VALIDATION_FAIL_ON, enabled=False, plan_path=plan.path,
                          environment=environment, config_file=config.path.name)
    bound = lmi_providers.lambda_lister(lambda_client) if lambda_client is not None else None
    found = lmi_checks.check(plan, gate, _sources(config, plan),
                             aliased=aliased_functions(config, environment), bound=bound,
                             retire_command=retire_command(environment))
    return GateReport("validate", VALIDATION_FAIL_ON, found, plan_path=plan.path,
                      environment=environment, config_file=config.path.name)
