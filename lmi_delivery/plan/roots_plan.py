"""The delivery plans of one environment's Terraform roots, and how the dry run shows them.

A one-root config has one plan and renders exactly as that plan does. With ``terraform.roots``
the dry run first says which roots run and why, and which are skipped and why, then shows
each running root's plan in apply order (a root after those it depends on).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lmi_delivery.escape import code_span, markdown_text
from lmi_delivery.plan.changes import Selection
from lmi_delivery.plan.render import Format, render
from lmi_delivery.plan.steps import DeliveryPlan


@dataclass(frozen=True)
class RootsPlan:
    environment: str
    plans: tuple[DeliveryPlan, ...]
    """The plans of the roots that run, in apply order."""
    skipped: tuple[Selection, ...] = ()
    """The roots that do not run, with the reason."""
    elsewhere: tuple[Selection, ...] = ()
    """The roots that never deploy to this environment."""

    @property
    def has_roots(self) -> bool:
        return any(p.root is not None for p in self.plans) or bool(self.skipped or
                                                                    self.elsewhere)

    @property
    def not_running(self) -> tuple[Selection, ...]:
        return (*self.skipped, *self.elsewhere)

    def running(self) -> list[tuple[DeliveryPlan, str]]:
        """Each running root's plan with the reason it runs."""
        found = []
        for plan in self.plans:
            reason = next((s.reason for s in plan.selection if s.key == plan.root), "")
            found.append((plan, reason))
        return found

    def after(self, plan: DeliveryPlan) -> list[str]:
        """The running roots ``plan``'s apply waits for."""
        running = {p.root for p in self.plans}
        return [d for d in plan.depends_on if d in running]

    def render(self, fmt: Format) -> str:
        if not self.has_roots:
            [plan] = self.plans
            return render(plan, fmt)
        if fmt == "json":
            return json.dumps([p.to_dict() for p in self.plans], indent=2) + "\n"
        if fmt == "markdown":
            return "\n".join([*self.markdown_lines(), "",
                              *[render(p, "markdown") for p in self.plans]])
        return "\n".join([*self.text_lines(), "", *[render(p, "text") for p in self.plans]])

    def text_lines(self) -> list[str]:
        lines = [f"Terraform roots for {self.environment}: {len(self.plans)} of "
                 f"{len(self.plans) + len(self.not_running)} run"]
        for plan, reason in self.running():
            after = f" (after {', '.join(self.after(plan))})" if self.after(plan) else ""
            lines.append(f"  runs   {plan.root}{after}: {reason}")
        lines += [f"  skips  {s.key}: {s.reason}" for s in self.not_running]
        if not self.plans:
            lines.append("Nothing runs: no root's files changed.")
        return lines

    def markdown_lines(self) -> list[str]:
        lines = [f"#### Terraform roots for {code_span(self.environment)}", ""]
        for plan, reason in self.running():
            after = (f" (after {', '.join(code_span(d) for d in self.after(plan))})"
                     if self.after(plan) else "")
            lines.append(f"- **runs** {code_span(plan.root or '')}{after}: "
                         f"{markdown_text(reason)}")
        lines += [f"- skips {code_span(s.key)}: {markdown_text(s.reason)}"
                  for s in self.not_running]
        return lines
