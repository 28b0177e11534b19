"""What ``ci`` is asked to do (the action's inputs) and where the runner wants answers.

Both are read once, at the edge, from the environment the runner gives the step; nothing below
reads ``os.environ``. The CI context (event, ref, commit, pull request) is
:func:`lmi_delivery.plan.events.resolve`'s, read from the same snapshot.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lmi_delivery.errors import LmiError

COMMANDS = ("run", "plan", "apply", "drift", "post-deploy", "prune", "rollback", "doctor")


@dataclass(frozen=True)
class CiInputs:
    """The action's inputs, one field each (``github-token`` → ``github_token``)."""

    command: str
    environment: str
    config: str = "lmi-delivery.yml"
    python_version: str | None = None
    github_token: str = field(default="", repr=False)
    comment_on_pr: bool = True
    dry_run: bool = False
    sandbox: bool = False
    """Run against the embedded sandbox (demos and tests): no AWS account is used."""
    plan_build_id: str = ""
    """``apply``: the plan job's plan build, whose deploy plan is applied."""
    plan_sha256: str = ""
    """``apply``: the sha256 the approver reviewed; the plan build's record must say the same."""


@dataclass(frozen=True)
class RunnerFiles:
    """The runner's files and URLs (all optional: ``ci`` also runs on a laptop)."""

    output_path: str | None = None
    summary_path: str | None = None
    workspace: str | None = None
    temp_dir: str = field(default_factory=tempfile.gettempdir)
    server_url: str = "https://github.com"
    api_url: str = "https://api.github.com"
    repository: str | None = None
    run_id: str | None = None
    run_attempt: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RunnerFiles:
        return cls(
            output_path=environ.get("GITHUB_OUTPUT") or None,
            summary_path=environ.get("GITHUB_STEP_SUMMARY") or None,
            workspace=environ.get("GITHUB_WORKSPACE") or None,
            temp_dir=environ.get("RUNNER_TEMP") or tempfile.gettempdir(),
            server_url=environ.get("GITHUB_SERVER_URL") or "https://github.com",
            api_url=environ.get("GITHUB_API_URL") or "https://api.github.com",
            repository=environ.get("GITHUB_REPOSITORY") or None,
            run_id=environ.get("GITHUB_RUN_ID") or None,
            run_attempt=environ.get("GITHUB_RUN_ATTEMPT") or None,
        )

    @property
    def run_url(self) -> str | None:
        if not (self.repository and self.run_id):
            return None
        url = f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"
        return f"{url}/attempts/{self.run_attempt}" if self.run_attempt else url

    def report_path(self, command: str, environment: str, suffix: str = "json") -> Path:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in environment)
        return Path(self.temp_dir) / f"lmi-delivery-{command}-{safe}.{suffix}"


@dataclass
class Outcome:
    """What one ``ci`` command produced, for the summary, the comment, the outputs, the file."""

    title: str
    markdown: str
    report: str
    outputs: dict[str, str] = field(default_factory=dict)
    error: LmiError | None = None
    report_suffix: str = "json"
