"""What a drift run found, and the body of the environment's drift issue.

Two sources: Terraform's drift-mode plan (its counts and the resources it would change, from
the plan's metadata document the review build stored, checked against the sha256 the build
exported to CodeBuild) and the drift of what post-deploy owns
(:mod:`lmi_delivery.postdeploy.drift`). The body holds the counts, every drifted resource with
its action and every post-deploy finding, as far as :data:`MAX_BODY` allows ("N more" with the
exact count), and the link to the run. Every outside string is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lmi_delivery.config.model import Config, Environment
from lmi_delivery.escape import code_span, link, markdown_text

if TYPE_CHECKING:
    from lmi_delivery.postdeploy.drift import DriftFinding

#: GitHub takes 65,536 characters in an issue body or comment; stay well under.
MAX_BODY = 60_000
COUNT_KEYS = ("add", "change", "destroy", "replace", "forget", "import")


def marker(env_name: str) -> str:
    """The first line of an environment's drift issue: how a later run finds it again (the
    schema allows only letters, digits, ``-`` and ``_`` in an environment's name)."""
    return f"<!-- lmi-delivery:drift:{env_name} -->"


def title(env_name: str) -> str:
    return f"Drift detected in {env_name}"


@dataclass(frozen=True)
class DriftReport:
    service: str
    environment: str
    plan_ran: bool
    """Whether Terraform's plan ran to the end (without it, drift cannot be told)."""
    plan_changes: bool
    summary: str = ""
    """Terraform's one-line plan summary."""
    counts: Mapping[str, int] = field(default_factory=dict)
    resources: Sequence[tuple[str, str]] = ()
    """(action, address) of every resource the plan would change."""
    findings: Sequence[DriftFinding] = ()
    findings_error: str = ""
    """Why post-deploy's state could not be read, if it could not."""
    run_url: str = ""

    @property
    def drifted(self) -> bool:
        return self.plan_changes or bool(self.findings)

    @property
    def known(self) -> bool:
        """Whether the run can say drift is gone: the plan ran and post-deploy's state was
        read."""
        return self.plan_ran and not self.findings_error

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "drifted": self.drifted,
                "plan_changes": self.plan_changes, "summary": self.summary,
                "counts": dict(self.counts),
                "resources": [{"action": a, "address": r} for a, r in self.resources],
                "findings": [f.to_dict() for f in self.findings]}


def render_body(report: DriftReport) -> str:
    """The issue's body: counts, drifted resources, post-deploy findings, the run."""
    head = [marker(report.environment), "",
            f"### Drift in {code_span(report.service)} / {code_span(report.environment)}", ""]
    if report.plan_changes:
        head.append(f"Terraform plans changes no commit asked for: "
                    f"{code_span(report.summary or 'changes')}")
        shown = [f"{n} to {k}" for k, n in report.counts.items() if n]
        if shown:
            head.append("")
            head.append("| " + " | ".join(k for k in COUNT_KEYS) + " |")
            head.append("|" + "---|" * len(COUNT_KEYS))
            head.append("| " + " | ".join(str(report.counts.get(k, 0)) for k in COUNT_KEYS)
                        + " |")
    else:
        head.append("Terraform plans no changes.")
    head.append("")
    tail = [f"Run: {link('the drift run', report.run_url)}" if report.run_url else "",
            "", "This issue is updated by the next drift run and closed once drift is gone."]
    lines = [f"- {code_span(action)} {code_span(address)}"
             for action, address in report.resources]
    notes = [f"- {code_span(f.kind)} {code_span(f.subject)}: {markdown_text(f.message)}"
             for f in report.findings]
    if report.findings_error:
        notes.append(f"- post-deploy's state could not be read: "
                     f"{markdown_text(report.findings_error)}")
    budget = MAX_BODY - sum(len(x) + 1 for x in head + tail) - 400
    sections: list[str] = []
    for heading, items in (("#### Drifted resources", lines),
                           ("#### Post-deploy drift (what Terraform cannot see)", notes)):
        if not items:
            continue
        kept: list[str] = []
        for item in items:
            if len(item) + 1 > budget:
                break
            kept.append(item)
            budget -= len(item) + 1
        more = len(items) - len(kept)
        sections += [heading, "", *kept]
        if more:
            sections.append(f"- … and {more} more (see the run)")
        sections.append("")
    return "\n".join(head + sections + tail).rstrip() + "\n"


def gather(config: Config, env: Environment, aws_environ: Mapping[str, str],
           exported: Mapping[str, str], plan_ran: bool, run_url: str,
           commit: str = "") -> DriftReport:
    """The drift report of one run: the plan's metadata and post-deploy's state, read from
    AWS (read-only). The metadata is the object the config names for ``commit`` and the sha256
    the build exported (never a URL a build wrote), and one whose sha256 differs is not
    used."""
    from botocore.exceptions import BotoCoreError, ClientError

    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.errors import LmiError
    from lmi_delivery.postdeploy.drift import find_drift
    from lmi_delivery.postdeploy.history import HistoryStore

    factory = clients_for(config, env, aws_environ, max_attempts=3)
    changes = exported.get("LMI_PLAN_HAS_CHANGES", "").lower() == "true"
    counts: dict[str, int] = {}
    resources: list[tuple[str, str]] = []
    if changes:
        summary = _plan_summary(factory.client("s3"), config, env, commit, exported)
        counts = {k: int(v) for k, v in (summary.get("counts") or {}).items()
                  if isinstance(v, int)}
        resources = [(str(r.get("action")), str(r.get("address")))
                     for r in summary.get("resources") or () if isinstance(r, dict)]
        resources += [(str(a), f"output.{n}") for n, a in
                      sorted((summary.get("outputs") or {}).items())]
    findings: tuple[DriftFinding, ...] = ()
    error = ""
    try:
        findings = find_drift(factory.client("lambda"), factory.client("events"), config, env,
                              HistoryStore(factory.client("s3"), config, env))
    except LmiError as exc:
        error = exc.message
    except (BotoCoreError, ClientError) as exc:
        error = str(exc)
    return DriftReport(config.service, env.name, plan_ran, changes,
                       exported.get("LMI_PLAN_SUMMARY", ""), counts, resources, findings, error,
                       run_url)


def _plan_summary(s3: Any, config: Config, env: Environment, commit: str,
                  exported: Mapping[str, str]) -> Mapping[str, Any]:
    """The plan's summary from its metadata document, if it is the plan the build exported."""
    import re

    from botocore.exceptions import BotoCoreError, ClientError

    from lmi_delivery.config import naming
    from lmi_delivery.errors import LmiError
    from lmi_delivery.terraform.handoff import PlanMetadata

    sha = exported.get("LMI_PLAN_SHA256", "")
    if not (commit and re.fullmatch(r"[0-9a-f]{64}", sha)):
        return {}
    bucket = naming.artifact_location(config).bucket
    key = f"{naming.plan_prefix(config, env, commit, 'review')}/{sha}.json"
    url = f"s3://{bucket}/{key}"
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        metadata = PlanMetadata.from_json(body, url)
    except (BotoCoreError, ClientError, LmiError):
        return {}
    return metadata.summary if metadata.plan_sha256 == sha else {}
