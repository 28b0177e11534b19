"""The environment's drift issue: opened on drift, updated while it lasts, closed once gone.

One open issue per environment, labelled ``drift``, found again by its marker line (an issue by
anyone else that copies the title is not ours). On drift the first run opens it; a later run
with drift rewrites its body (the current counts, resources and findings) and comments with the
run's link. A run that finds no drift comments and closes it. A run that cannot tell (the plan
failed, post-deploy's state was unreadable) leaves it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lmi_delivery.escape import link
from lmi_delivery.github.drift_report import DriftReport, marker, render_body, title
from lmi_delivery.github.rest import GithubRest

LABEL = "drift"
Action = Literal["opened", "updated", "closed", "none"]


@dataclass(frozen=True)
class IssueResult:
    action: Action
    number: int | None = None
    url: str = ""


def _ours(issue: Any, env_name: str) -> bool:
    return (isinstance(issue, dict) and "pull_request" not in issue
            and str(issue.get("body") or "").startswith(marker(env_name)))


def find_open(rest: GithubRest, repo: str, env_name: str) -> dict[str, Any] | None:
    """The environment's open drift issue, if there is one."""
    found = [i for i in rest.list_issues(repo, state="open", labels=LABEL) if _ours(i, env_name)]
    return min(found, key=lambda i: int(i["number"])) if found else None


def sync(rest: GithubRest, repo: str, report: DriftReport,
         redact: Any = lambda text: text) -> IssueResult:
    """Open, update or close the environment's drift issue for ``report``."""
    if not report.known:
        return IssueResult("none")
    existing = find_open(rest, repo, report.environment)
    run = link("this run", report.run_url) if report.run_url else "this run"
    if report.drifted:
        body = redact(render_body(report))
        if existing is None:
            made = rest.create_issue(repo, title(report.environment), body, [LABEL])
            return IssueResult("opened", int(made["number"]), str(made.get("html_url", "")))
        number = int(existing["number"])
        rest.update_issue(repo, number, body=body)
        rest.create_issue_comment(repo, number, redact(
            f"Drift is still there: the description above now shows what {run} found."))
        return IssueResult("updated", number, str(existing.get("html_url", "")))
    if existing is None:
        return IssueResult("none")
    number = int(existing["number"])
    rest.create_issue_comment(repo, number, redact(
        f"Drift is gone: {run} found Terraform planning no changes and post-deploy's state "
        "as deployed. Closing."))
    rest.update_issue(repo, number, state="closed", state_reason="completed")
    return IssueResult("closed", number, str(existing.get("html_url", "")))
