"""Doctor's findings as text, JSON, SARIF 2.1.0 or Markdown, and its one-line summary.

Text is one ``FILE:LINE:COL: RULE message`` line per finding. JSON rows and Markdown name each
finding's level (``error`` or ``warning``) as its severity, as the summary counts them. SARIF is
:func:`lmi_delivery.findings.to_sarif` as tool ``lmi-delivery doctor`` (code scanning keeps its
alerts apart from the gates'). Markdown, for a job summary, shows every outside string (file
names, messages quoting the repository) as text (:mod:`lmi_delivery.escape`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lmi_delivery import __version__
from lmi_delivery.doctor.rules import FAIL_ON
from lmi_delivery.errors import Location
from lmi_delivery.escape import code_span, markdown_text
from lmi_delivery.findings import Finding, count, line, to_sarif

TOOL = "lmi-delivery doctor"


def summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "doctor: no findings"
    levels = count(findings, FAIL_ON).levels
    return f"doctor: {levels['error']} error(s), {levels['warning']} warning(s)"


def problems(findings: Sequence[Finding]) -> list[str]:
    """The text line of every finding that makes doctor refuse."""
    return [_line(f) for f in findings if f.blocks(FAIL_ON)]


def _line(finding: Finding) -> str:
    return line(finding, severity=False)


def to_text(findings: Sequence[Finding]) -> str:
    return "".join(f"{_line(f)}\n" for f in findings)


def to_json(findings: Sequence[Finding]) -> str:
    rows = [{**_place(f.location), "rule": f.rule_id, "name": f.rule.name,
             "severity": f.level, "message": f.message} for f in findings]
    return json.dumps({"findings": rows, "summary": summary(findings)}, indent=2) + "\n"


def _place(where: Location | None) -> dict[str, str | int]:
    where = where or Location("")
    return {"file": where.file, "line": where.line, "column": where.column}


def to_sarif_text(findings: Sequence[Finding]) -> str:
    return json.dumps(to_sarif(findings, tool=TOOL, version=__version__), indent=2) + "\n"


def to_markdown(findings: Sequence[Finding]) -> str:
    """The bold summary, then a table of the findings (where, rule, severity, message)."""
    head = f"**{summary(findings)}**\n\n"
    if not findings:
        return head
    rows = ["| Where | Rule | Severity | Message |", "|---|---|---|---|"]
    rows += [f"| {code_span(str(f.location or ''), table=True)} | "
             f"{markdown_text(f'{f.rule_id} {f.rule.name}')} | {f.level} | "
             f"{markdown_text(f.message)} |" for f in findings]
    return head + "\n".join(rows) + "\n"


def render(findings: Sequence[Finding], fmt: str) -> str:
    """``fmt``: ``text``, ``json`` or ``sarif`` (the formats of the command)."""
    if fmt == "json":
        return to_json(findings)
    if fmt == "sarif":
        return to_sarif_text(findings)
    return to_text(findings)
