"""Renderers of a delivery plan: text for humans, JSON for machines, Markdown for GitHub."""

from __future__ import annotations

import json
from typing import Literal

from lmi_delivery.escape import code_span
from lmi_delivery.plan.steps import DeliveryPlan, StagePlan

Format = Literal["text", "json", "markdown"]
FORMATS: tuple[Format, ...] = ("text", "json", "markdown")

_STATUS = {"run": "runs", "awaits-approval": "awaits approval", "skipped": "skipped"}


def _context_line(plan: DeliveryPlan) -> str:
    c = plan.context
    where = c.get("ref") or "no ref"
    if c.get("base_ref"):
        where = f"{where} into {c['base_ref']}"
    commit = str(c.get("head_sha") or c.get("sha") or "")[:12] or "unknown commit"
    line = f"{c.get('event')} on {where} at {commit} ({c.get('source')})"
    assumed = c.get("assumed")
    if isinstance(assumed, list) and assumed:
        line += f"; assumed: {', '.join(str(a) for a in assumed)}"
    return line


def _stage_text(index: int, stage: StagePlan) -> list[str]:
    head = f"{index}. {stage.name:<12} {_STATUS[stage.status]}"
    if stage.status != "run":
        head += f": {stage.reason}"
    lines = [head]
    lines += [f"     [{step.where}] {step.describe()}" for step in stage.steps]
    return lines


def to_text(plan: DeliveryPlan) -> str:
    lines = [
        f"lmi-delivery plan: {plan.label}",
        f"context: {_context_line(plan)}",
        f"mode:    {plan.mode}: {plan.reason}",
    ]
    if plan.root is not None:
        after = f", applied after {', '.join(plan.depends_on)}" if plan.depends_on else ""
        lines.append(f"root:    Terraform root {plan.root}{after}")
    if plan.offline:
        lines.append("offline: no AWS state was read; post-deploy versions resolve at run time")
    lines += [f"note:    {n}" for n in plan.notes]
    lines += [f"cutover: {peak}" for _, peak in sorted(plan.capacity.items())]
    lines.append("")
    for i, stage in enumerate(plan.stages, 1):
        lines += _stage_text(i, stage)
    lines.append("")
    lines.append("This is a dry run: nothing was started, changed or deleted.")
    return "\n".join(lines) + "\n"


def to_json(plan: DeliveryPlan) -> str:
    return json.dumps(plan.to_dict(), indent=2, sort_keys=False) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(plan: DeliveryPlan) -> str:
    lines = [
        f"### lmi-delivery plan: `{plan.service}` / `{plan.environment}`"
        + (f" / root `{plan.root}`" if plan.root is not None else ""),
        "",
        f"**Context:** {_md_cell(_context_line(plan))}  ",
        f"**Mode:** {plan.mode}: {_md_cell(plan.reason)}",
    ]
    if plan.offline:
        lines.append("  \n_Offline: no AWS state was read; "
                     "post-deploy versions resolve at run time._")
    lines += capacity_markdown(plan)
    lines += ["", "| # | Stage | Status | Why |", "|---|---|---|---|"]
    for i, stage in enumerate(plan.stages, 1):
        lines.append(f"| {i} | {stage.name} | {_STATUS[stage.status]} | {_md_cell(stage.reason)} |")
    for stage in plan.stages:
        if not stage.steps:
            continue
        lines += ["", f"#### {stage.name}", ""]
        lines += [f"- `{step.where}`: `{_md_cell(step.describe())}`" for step in stage.steps]
    lines += ["", "_Dry run: nothing was started, changed or deleted._", ""]
    return "\n".join(lines)


def capacity_markdown(plan: DeliveryPlan) -> list[str]:
    """The cutover peaks as a Markdown section (none when AWS was not read)."""
    if not plan.capacity:
        return []
    return ["", "#### Capacity at the cutover", "",
            *[f"- {code_span(peak)}" for _, peak in sorted(plan.capacity.items())]]


def render(plan: DeliveryPlan, fmt: Format) -> str:
    if fmt == "json":
        return to_json(plan)
    if fmt == "markdown":
        return to_markdown(plan)
    return to_text(plan)
