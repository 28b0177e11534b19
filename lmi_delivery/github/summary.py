"""The job summary: Markdown appended to ``$GITHUB_STEP_SUMMARY``, one section per ``ci`` step.

GitHub caps one step's summary at 1 MiB; a longer one is cut with a pointer to the report file
and the log, like the pull request comment. Outside strings are escaped
(:mod:`lmi_delivery.escape`): the summary is what an approver reads.
"""

from __future__ import annotations

from pathlib import Path

from lmi_delivery.escape import code_span, link, markdown_text
from lmi_delivery.github.comments import truncate
from lmi_delivery.github.context import Outcome

MAX_SUMMARY = 1_000_000


def section(outcome: Outcome, command: str, run_url: str | None, report_path: str) -> str:
    """The step's section. ``outcome.markdown`` is Markdown its renderer escaped; everything
    else here (the title, the path, the error's text) is escaped as outside text."""
    status = "ok" if outcome.error is None else (
        "refused" if outcome.error.exit_code == 3 else "failed")
    head = (f"## lmi-delivery {code_span(command)}: {markdown_text(outcome.title)} "
            f"({status})\n\n")
    tail = f"\n\nReport file: {code_span(report_path)}"
    if run_url:
        tail += f" · {link('run', run_url)}"
    if outcome.error is not None:
        first = (str(outcome.error).splitlines() or [""])[0]
        tail += f"\n\n> **{status}:** {markdown_text(first)}"
    body = truncate(outcome.markdown.rstrip("\n"), MAX_SUMMARY - len(head) - len(tail) - 200,
                    "The full report is in the report file and the run's log.")
    return head + body + tail + "\n\n"


def append_summary(path: str | Path | None, markdown: str) -> None:
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(markdown)
