"""The review of one Terraform root's plan, as Markdown: the pull request comment's body and
the plan job's summary.

:func:`render` is pure: one root's :class:`Review` in, Markdown out, with no heading of its own
(a caller puts it under one, or several roots' reviews under theirs), always within ``budget``
characters however large the plan. In order:

1. the counts (Terraform's line, a replacement counted once);
2. a warning block listing every delete and replace, capacity providers and LMI functions
   first; past its share of the budget, ``… and N more`` with the exact count;
3. the changed resources, one table per action;
4. what post-deploy will do after the apply (versions to publish, alias moves, scaling) and the
   capacity the cutover needs;
5. the gates' findings, with rule and location; Terraform's warnings;
6. the text plan in a ``<details>`` block, trimmed by whole resource blocks
   (:mod:`lmi_delivery.terraform.plan_text`), with a link to the build log.

Everything in a :class:`Review` is outside text (the build wrote it): every string is escaped
(:mod:`lmi_delivery.escape`); the only HTML is the ``<details>``/``<summary>`` written here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmi_delivery.escape import code_span, fenced, link, markdown_text
from lmi_delivery.terraform import plan_text

#: Room for a marker, a heading and a footer around the review in a 65,536-character comment.
DEFAULT_BUDGET = 60_000
#: Display order of the actions; the first two are the ones the warning block lists.
ACTIONS = ("replace", "delete", "create", "update", "import", "forget")
_TITLES = {"replace": "Replace", "delete": "Destroy", "create": "Create",
           "update": "Update in place", "import": "Import",
           "forget": "Forget (remove from state only)"}
_LMI = {"capacity_provider": "capacity provider", "function": "LMI function"}


@dataclass(frozen=True)
class Change:
    address: str
    type: str
    action: str
    lmi: str = ""
    """``capacity_provider``, ``function`` or empty."""
    reason: str = ""


@dataclass(frozen=True)
class FindingRow:
    rule: str
    level: str
    message: str
    location: str = ""
    address: str = ""


@dataclass(frozen=True)
class Review:
    """One root's plan, as the build reported it and the orchestrator previewed it."""

    counts_line: str
    changes: Sequence[Change] = ()
    output_changes: Mapping[str, str] = field(default_factory=dict)
    findings: Sequence[FindingRow] = ()
    warnings: Sequence[str] = ()
    text_plan: str = ""
    post_deploy: Sequence[str] = ()
    """What post-deploy will do, one step a line."""
    capacity: Sequence[str] = ()
    """The capacity figures at the cutover (:attr:`DeliveryPlan.capacity`)."""
    log_url: str | None = None
    errored: bool = False

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.output_changes)

    @property
    def destructive(self) -> list[Change]:
        """Deletes and replaces, capacity providers first, then LMI functions, then the rest."""
        order = {"capacity_provider": 0, "function": 1}
        hits = [c for c in self.changes if c.action in ("delete", "replace")]
        return sorted(hits, key=lambda c: (order.get(c.lmi, 2), c.address))


def from_summary(summary: Mapping[str, Any], **extra: Any) -> Review:
    """A :class:`Review` from :meth:`PlanSummary.to_dict` (as stored beside the plan)."""
    changes = tuple(
        Change(str(r.get("address", "")), str(r.get("type", "")), str(r.get("action", "")),
               str(r.get("lmi") or ""), str(r.get("reason") or ""))
        for r in summary.get("resources") or () if isinstance(r, Mapping))
    outputs = summary.get("outputs")
    return Review(counts_line=str(summary.get("text", "")), changes=changes,
                  output_changes={str(k): str(v) for k, v in outputs.items()}
                  if isinstance(outputs, Mapping) else {},
                  errored=bool(summary.get("errored")), **extra)


def render(review: Review, budget: int = DEFAULT_BUDGET) -> str:
    """The review as Markdown, at most ``budget`` characters (at least 2,000)."""
    budget = max(budget, 2_000)
    out: list[str] = [_counts(review)]
    room = budget - len(out[0]) - 200  # the text plan's frame and the log link
    sections: list[tuple[Callable[[Review, int], str], float]] = [
        (_warning_block, 0.35), (_post_deploy, 0.1), (_findings, 0.15), (_warnings, 0.05),
        (_table, 0.35)]
    share = room
    for make, part in sections:
        text = make(review, int(share * part))
        if text:
            out.append(text)
            room -= len(text) + 2
    out.append(_text_plan(review, room))
    return "\n\n".join(s for s in out if s).rstrip("\n") + "\n"


def _counts(review: Review) -> str:
    line = markdown_text(review.counts_line or ("No changes." if not review.has_changes else ""))
    if review.errored:
        line += " **The plan errored:** Terraform could not plan everything."
    return f"**{line}**" if line else ""


def _lines_within(lines: Sequence[str], room: int, more: Callable[[int], str]) -> list[str]:
    """As many of ``lines`` as fit in ``room`` with the ``more(n)`` line that says the rest."""
    kept: list[str] = []
    used = 0
    for i, item in enumerate(lines):
        rest = len(lines) - i - 1
        tail = len(more(rest)) + 1 if rest else 0
        if used + len(item) + 1 + tail > room:
            kept.append(more(len(lines) - i))
            return kept
        kept.append(item)
        used += len(item) + 1
    return kept


def _what(change: Change) -> str:
    kind = _LMI.get(change.lmi, "")
    word = "replaced" if change.action == "replace" else "destroyed"
    label = f"**{kind}** " if kind else ""
    reason = f" ({markdown_text(change.reason)})" if change.reason else ""
    return f"{label}{code_span(change.address)} will be **{word}**{reason}"


def _warning_block(review: Review, room: int) -> str:
    hits = review.destructive
    if not hits:
        return ""
    lmi = sum(1 for c in hits if c.lmi)
    head = ["> [!WARNING]", f"> **{len(hits):,} resource{'s' if len(hits) != 1 else ''} "
            f"will be destroyed or replaced**"
            + (f", {lmi:,} of them Lambda Managed Instances resources" if lmi else "") + ":"]
    rows = [f"> - {_what(c)}" for c in hits]
    body = _lines_within(rows, room - sum(len(h) + 1 for h in head),
                         lambda n: f"> - … and {n:,} more destroyed or replaced: see the plan "
                                   "below and the build log")
    return "\n".join(head + body)


def _table(review: Review, room: int) -> str:
    if not review.has_changes:
        return ""
    parts: list[str] = []
    groups = {a: [c for c in review.changes if c.action == a] for a in ACTIONS}
    present = [a for a in ACTIONS if groups[a]]
    each = room // max(1, len(present) + (1 if review.output_changes else 0))
    for action in present:
        items = groups[action]
        head = [f"**{_TITLES[action]}** ({len(items):,})", "", "| Resource | Type |", "|---|---|"]
        rows = [f"| {code_span(c.address, table=True)} | {code_span(c.type, table=True)} |"
                for c in items]
        body = _lines_within(rows, each - sum(len(h) + 1 for h in head),
                             lambda n: f"| … and {n:,} more | |")
        parts.append("\n".join(head + body))
    if review.output_changes:
        rows = [f"- {code_span(name)}: {markdown_text(action)}"
                for name, action in sorted(review.output_changes.items())]
        parts.append("\n".join(["**Outputs**", "", *_lines_within(
            rows, each - 20, lambda n: f"- … and {n:,} more")]))
    return "\n\n".join(["#### Changed resources", *parts])


def _post_deploy(review: Review, room: int) -> str:
    if not (review.post_deploy or review.capacity):
        return ""
    rows = [f"- {code_span(step)}" for step in review.post_deploy]
    rows += [f"- capacity at the cutover: {code_span(peak)}" for peak in review.capacity]
    return "\n".join(["#### After the apply, post-deploy will", "",
                      *_lines_within(rows, room - 60, lambda n: f"- … and {n:,} more steps")])


def _findings(review: Review, room: int) -> str:
    if not review.findings:
        return ""
    head = ["#### Gate findings", "", "| Level | Rule | Where | Finding |", "|---|---|---|---|"]
    rows = [f"| {markdown_text(f.level)} | {code_span(f.rule, table=True)} | "
            f"{code_span(f.location or f.address or '-', table=True)} | "
            f"{markdown_text(f.message[:500])} |" for f in review.findings]
    return "\n".join(head + _lines_within(rows, room - 80,
                                          lambda n: f"| | | | … and {n:,} more findings |"))


def _warnings(review: Review, room: int) -> str:
    if not review.warnings:
        return ""
    rows = [f"- {markdown_text(w)}" for w in review.warnings]
    return "\n".join(["#### Terraform warnings", "",
                      *_lines_within(rows, room - 40, lambda n: f"- … and {n:,} more")])


def _text_plan(review: Review, room: int) -> str:
    log = link("the build log", review.log_url) if review.log_url else "the build log"
    pointer = f"The whole plan is in {log}."
    if not review.text_plan.strip():
        return pointer if review.has_changes else ""
    frame = 120 + len(pointer)
    limit = max(0, room - frame)
    while True:
        trimmed = plan_text.trim(review.text_plan, limit)
        block = fenced(trimmed.text).rstrip("\n")
        over = len(block) + frame - room
        if over <= 0 or limit == 0:
            break
        limit = max(0, limit - over)  # a long fence (backtick runs inside) costs its length
    shown = "whole" if not (trimmed.omitted_blocks or trimmed.cut) else "trimmed"
    return "\n".join([
        f"<details><summary>Terraform plan (text, {shown})</summary>", "",
        block, "", "</details>", "", pointer])
