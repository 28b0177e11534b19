"""A delivery event and the two shapes it is sent in (Slack text, a JSON object).

An event carries what a reader needs to act on it: the environment, the commit, the sha256 of the
plan, who approved and the link to the run. Its ``detail`` is an outside string (a build's
status, an error's message): it is escaped for Slack and redacted by the sender like all else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lmi_delivery.escape import slack_text

SCHEMA = "lmi-delivery/notification@1"
#: A message is one line of facts, not a log: longer details are cut.
MAX_DETAIL = 1000

TITLES = {
    "apply-started": "apply started",
    "apply-succeeded": "apply succeeded",
    "apply-failed": "apply failed",
    "rollback": "rolled back",
    "canary-rolled-back": "canary rolled back",
    "drift-opened": "drift detected",
    "drift-closed": "drift gone",
    "prune-refused": "prune refused",
}


@dataclass(frozen=True)
class Event:
    kind: str
    """One of :data:`lmi_delivery.config.model.NOTIFY_EVENTS`."""
    service: str
    environment: str
    commit: str = ""
    plan_sha256: str = ""
    approver: str = ""
    run_url: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """The generic webhook's body."""
        data: dict[str, Any] = {"schema": SCHEMA, **asdict(self)}
        data["detail"] = self.detail[:MAX_DETAIL]
        data["title"] = TITLES.get(self.kind, self.kind)
        return data

    def slack(self) -> dict[str, Any]:
        """A Slack incoming webhook's body: one text message, every value escaped."""
        head = (f"*{slack_text(self.service)} / {slack_text(self.environment)}*: "
                f"{TITLES.get(self.kind, slack_text(self.kind))}")
        facts = [f"{name} `{slack_text(value)}`" for name, value in (
            ("commit", self.commit[:12]), ("plan", self.plan_sha256[:12]),
            ("approver", self.approver)) if value]
        lines = [head + (" (" + ", ".join(facts) + ")" if facts else "")]
        if self.detail:
            lines.append(slack_text(self.detail[:MAX_DETAIL]))
        if self.run_url.startswith(("https://", "http://")):
            lines.append(f"<{slack_text(self.run_url)}|the run>")
        return {"text": "\n".join(lines)}
