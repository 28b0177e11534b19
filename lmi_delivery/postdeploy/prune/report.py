"""Prune reports: every version with its verdict and reason, totals, quota, retire blockers.

Text for terminals and logs, JSON for machines (``schema: lmi-delivery/prune-report@1``),
Markdown for a GitHub step summary or PR comment.
"""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any, Literal

from lmi_delivery.errors import UsageError
from lmi_delivery.postdeploy.prune.decision import (
    QUOTA_VERSIONS_PER_PROVIDER,
    Action,
    PruneDecision,
    Verdict,
)
from lmi_delivery.postdeploy.prune.state import provider_name

ReportFormat = Literal["text", "json", "markdown"]
SCHEMA = "lmi-delivery/prune-report@1"


def _label(verdict: Verdict, dry_run: bool) -> str:
    if verdict.action is Action.DELETE:
        return "would delete" if dry_run else "deleted"
    if verdict.action is Action.DELETING:
        return "deleting"
    return "kept" if verdict.action is Action.KEEP else "failed"


def _why(verdict: Verdict) -> str:
    """The reason without the action word ``describe()`` starts with."""
    return verdict.describe().split(": ", 1)[-1]


def totals(decision: PruneDecision) -> dict[str, int]:
    return {"deleted": len(decision.deletions), "kept": len(decision.kept),
            "failed": len(decision.failures), "deleting": len(decision.deleting),
            "versions": len(decision.verdicts)}


def headline(decision: PruneDecision, dry_run: bool = False) -> str:
    t = totals(decision)
    verb = "would delete" if dry_run else "deleted"
    deleting = f", {t['deleting']} being deleted already" if t["deleting"] else ""
    return (f"{verb} {t['deleted']}, kept {t['kept']}, failed {t['failed']}{deleting} "
            f"of {t['versions']} version(s)")


def per_function(decision: PruneDecision) -> dict[str, dict[str, int]]:
    """Function name → how many of its versions were kept, deleted, failed, being deleted:
    what each owner (function) kept and lost, in any scope."""
    found: dict[str, dict[str, int]] = {}
    for v in decision.verdicts:
        counts = found.setdefault(v.function, {"kept": 0, "deleted": 0, "failed": 0,
                                               "deleting": 0})
        counts[{Action.KEEP: "kept", Action.DELETE: "deleted", Action.FAILED: "failed",
                Action.DELETING: "deleting"}[v.action]] += 1
    return found


def _counts(counts: dict[str, int], dry_run: bool) -> str:
    verb = "would delete" if dry_run else "deleted"
    extra = "".join(f", {counts[k]} {k}" for k in ("failed", "deleting") if counts[k])
    return f"kept {counts['kept']}, {verb} {counts['deleted']}{extra}"


def report_dict(decision: PruneDecision, *, dry_run: bool = False) -> dict[str, Any]:
    """The JSON report: the decision's own dict plus totals, per function, headline and
    refusal."""
    return {"schema": SCHEMA, "dry_run": dry_run, "headline": headline(decision, dry_run),
            "totals": totals(decision), "functions": per_function(decision),
            "refusal": decision.refusal(), **decision.to_dict()}


def _providers(decision: PruneDecision) -> list[str]:
    lines = []
    for arn in decision.providers():
        on = [v for v in decision.verdicts if v.capacity_provider_arn == arn]
        before = sum(1 for v in on if v.version != "$LATEST.PUBLISHED")
        lines.append(f"{provider_name(arn)}: {before} -> {decision.versions_bound(arn)} "
                     f"version(s) bound, headroom {decision.headroom(arn)} of "
                     f"{QUOTA_VERSIONS_PER_PROVIDER}")
    return lines


def to_text(decision: PruneDecision, dry_run: bool = False) -> str:
    policy = decision.policy
    retiring = sorted(provider_name(p) for p in policy.retire_capacity_providers)
    mode = f"retire {', '.join(retiring)}" if retiring else f"keep {policy.keep}"
    lines = [f"prune ({mode}){': dry run, nothing deleted' if dry_run else ''}"]
    lines += [f"  {line}" for line in _providers(decision)]
    owners = per_function(decision)
    for function, verdicts in groupby(decision.verdicts, key=lambda v: v.function):
        lines.append(f"{function}: {_counts(owners[function], dry_run)}")
        lines += [f"  {v.version:<18} {_label(v, dry_run):<12} {_why(v)}" for v in verdicts]
    lines.append(f"totals: {headline(decision, dry_run)}")
    refusal = decision.refusal()
    if refusal:
        lines.append(refusal)
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(decision: PruneDecision, dry_run: bool = False) -> str:
    lines = [f"### Prune: {headline(decision, dry_run)}"]
    if dry_run:
        lines.append("_Dry run: nothing was deleted._")
    if decision.providers():
        lines += ["", "| Capacity provider | Versions bound | Headroom |", "|---|---|---|"]
        for arn in decision.providers():
            lines.append(f"| `{provider_name(arn)}` | {decision.versions_bound(arn)} | "
                         f"{decision.headroom(arn)} of {QUOTA_VERSIONS_PER_PROVIDER} |")
    owners = per_function(decision)
    if owners:
        lines += ["", "| Function | Kept | Deleted |", "|---|---|---|"]
        verb = "would delete" if dry_run else "deleted"
        lines += [f"| `{name}` | {c['kept']} | {c['deleted']} ({verb})"
                  + (f", {c['failed']} failed" if c["failed"] else "") + " |"
                  for name, c in owners.items()]
    refusal = decision.refusal()
    if refusal:
        lines += ["", "**Retire refused:**", "", "```", refusal, "```"]
    lines += ["", "<details><summary>Every version</summary>", "",
              "| Function | Version | Verdict | Reason |", "|---|---|---|---|"]
    lines += [f"| `{v.function}` | {v.version} | {_label(v, dry_run)} | {_cell(_why(v))} |"
              for v in decision.verdicts]
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def render_prune_report(decision: PruneDecision, fmt: str = "text", *,
                        dry_run: bool = False) -> str:
    """``decision`` as ``text``, ``json`` or ``markdown``."""
    if fmt == "json":
        return json.dumps(report_dict(decision, dry_run=dry_run), indent=2) + "\n"
    if fmt == "markdown":
        return to_markdown(decision, dry_run)
    if fmt == "text":
        return to_text(decision, dry_run)
    raise UsageError(f"unknown report format {fmt!r}: use text, json or markdown")
