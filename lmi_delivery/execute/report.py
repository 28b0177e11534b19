"""What a run did: the delivery plan plus, per stage, its outcome, builds and duration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lmi_delivery.plan.render import Format
from lmi_delivery.plan.render import render as render_plan
from lmi_delivery.plan.steps import DeliveryPlan

Outcome = Literal["succeeded", "failed", "refused", "skipped", "not-run"]


@dataclass
class BuildRecord:
    id: str
    project: str
    status: str
    log_url: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "project": self.project, "status": self.status,
                "log_url": self.log_url, "detail": self.detail}


@dataclass
class StageResult:
    outcome: Outcome
    detail: str = ""
    seconds: float = 0.0
    builds: list[BuildRecord] = field(default_factory=list)
    exported: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "detail": self.detail,
                "seconds": round(self.seconds, 3),
                "builds": [b.to_dict() for b in self.builds],
                "exported": dict(self.exported)}


@dataclass
class RunReport:
    plan: DeliveryPlan
    results: dict[str, StageResult] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def outcome(self) -> Outcome:
        outcomes = [r.outcome for r in self.results.values()]
        for worst in ("refused", "failed"):
            if worst in outcomes:
                return worst
        return "succeeded"

    def to_dict(self) -> dict[str, Any]:
        data = self.plan.to_dict()
        data["kind"] = "run"
        data["outcome"] = self.outcome
        data["seconds"] = round(self.seconds, 3)
        for stage in data["stages"]:
            result = self.results.get(stage["name"]) or StageResult("not-run")
            stage["result"] = result.to_dict()
        return data


def nothing_ran(report: RunReport) -> bool:
    """Every stage was skipped by the stage policy: the run did nothing, and says why."""
    return bool(report.plan.stages) and all(
        (result := report.results.get(stage.name)) is not None and result.outcome == "skipped"
        for stage in report.plan.stages)


def _result_lines(report: RunReport) -> list[str]:
    if nothing_ran(report):
        # Not "run succeeded": nothing ran, for the one reason the stage policy gave.
        return [f"nothing ran: {report.plan.reason}"]
    lines = [f"run {report.outcome} in {report.seconds:.1f} s"]
    for stage in report.plan.stages:
        result = report.results.get(stage.name) or StageResult("not-run")
        line = f"  {stage.name:<12} {result.outcome:<10} {result.seconds:6.1f} s"
        if result.detail:
            line += f"  {result.detail}"
        lines.append(line)
        lines += [f"      build {b.id} {b.status}  {b.log_url}" for b in result.builds]
    return lines


def render(report: RunReport, fmt: Format) -> str:
    if fmt == "json":
        import json

        return json.dumps(report.to_dict(), indent=2) + "\n"
    if fmt == "markdown":
        rows = ["", "#### Result", "", "| Stage | Outcome | Seconds | Detail |",
                "|---|---|---|---|"]
        for stage in report.plan.stages:
            result = report.results.get(stage.name) or StageResult("not-run")
            detail = result.detail.replace("|", "\\|").replace("\n", " ")
            rows.append(f"| {stage.name} | {result.outcome} | {result.seconds:.1f} | {detail} |")
        text = render_plan(report.plan, "markdown").replace("_Dry run: nothing was started, "
                                                            "changed or deleted._\n", "")
        heading = text.replace("### lmi-delivery plan", "### lmi-delivery run")
        return heading + "\n".join(rows) + "\n"
    return "\n".join(_result_lines(report)) + "\n"


def render_many(reports: list[RunReport], fmt: Format) -> str:
    """One report as :func:`render` gives it; several as a JSON list or one after another."""
    if len(reports) == 1:
        return render(reports[0], fmt)
    if fmt == "json":
        import json

        return json.dumps([r.to_dict() for r in reports], indent=2) + "\n"
    return "\n".join(f"[{r.plan.environment}{'' if r.plan.root is None else ' / ' + r.plan.root}]"
                     f"\n{render(r, fmt)}" for r in reports)
