"""``ci --command post-deploy|prune|rollback|doctor``: the existing commands' functions.

Each returns an :class:`Outcome` (Markdown, a report file, outputs) and the error that decides
the exit code, instead of printing; ``ci`` then speaks GitHub with it. Doctor's findings become
annotations on the files they are about, and its report file is SARIF, ready for code scanning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TextIO

from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import GateRefused, LmiError, OperationFailed
from lmi_delivery.github import annotations as notes
from lmi_delivery.github.context import CiInputs, Outcome, RunnerFiles
from lmi_delivery.notify import Event, Notify, no_notify
from lmi_delivery.plan.context import CiContext

Say = Callable[[str], None]


@dataclass(frozen=True)
class Teller:
    """Sends one event of this command, with the run's environment, commit and link."""

    notify: Notify
    config: Config
    env: Environment
    context: CiContext | None = None
    run_url: str = ""

    def __call__(self, kind: str, detail: str = "") -> None:
        commit = (self.context.commit or "") if self.context is not None else ""
        self.notify(Event(kind, self.config.service, self.env.name, commit,
                          run_url=self.run_url, detail=detail))


def _silent(config: Config, env: Environment) -> Teller:
    return Teller(no_notify, config, env)


def _outputs(report_path: str, **extra: str) -> dict[str, str]:
    base = {"stages": "{}", "plan-summary": "", "plan-sha256": "", "has-changes": "",
            "build-ids": "", "published-versions": "{}", "report-path": report_path, "drift": ""}
    return {**base, **extra}


def post_deploy(config: Config, env: Environment, inputs: CiInputs, aws: Mapping[str, str],
                say: Say, report_path: str, poll: float, tell: Teller | None = None) -> Outcome:
    from lmi_delivery.cli.commands.postdeploy import make_clients
    from lmi_delivery.postdeploy.publish import WaitSettings
    from lmi_delivery.postdeploy.report import PostDeployReport, ProgressLog
    from lmi_delivery.postdeploy.rollout import RolloutRolledBack
    from lmi_delivery.postdeploy.scale import ScaleWait
    from lmi_delivery.postdeploy.sequence import DISPLAY, LIVE, RunOptions, run_post_deploy

    options = RunOptions(wait=WaitSettings(delay=poll, progress_every=max(10.0, poll)),
                         scale_wait=ScaleWait(delay=poll, progress_every=max(10.0, poll)))
    error: LmiError | None = None
    try:
        report = run_post_deploy(config, env, make_clients(config, env, dict(aws)),
                                 executor=DISPLAY if inputs.dry_run else LIVE,
                                 reporter=ProgressLog(say), options=options)
    except LmiError as exc:
        partial = exc.context.get("report")
        if not isinstance(partial, PostDeployReport):
            raise
        report, error = partial, exc
        if isinstance(exc, RolloutRolledBack) and not inputs.dry_run:
            (tell or _silent(config, env))("canary-rolled-back", exc.message)
    published = {f.function: f.published_version for f in report.functions.values()
                 if f.published_version}
    outputs = _outputs(report_path, stages=json.dumps({"post-deploy": report.status}),
                       **{"published-versions": json.dumps(dict(sorted(published.items())))})
    return Outcome(f"{config.service} / {env.name}: post-deploy {report.status}",
                   report.render("markdown"), report.render("json"), outputs, error)


def prune(config: Config, env: Environment, inputs: CiInputs, aws: Mapping[str, str],
          say: Say, report_path: str, tell: Teller | None = None) -> Outcome:
    from lmi_delivery.postdeploy.prune.report import render_prune_report
    from lmi_delivery.postdeploy.prune.run import PruneRequest, run_prune

    request = PruneRequest(config_path=str(config.path), env_name=env.name,
                           dry_run=inputs.dry_run)
    told = tell or _silent(config, env)
    try:
        outcome = run_prune(request, aws)
    except GateRefused as exc:
        if not inputs.dry_run:
            told("prune-refused", exc.message)
        raise
    error: LmiError | None = None
    if outcome.refusal:
        error = GateRefused(outcome.refusal)
        if not inputs.dry_run:
            told("prune-refused", outcome.refusal)
    elif outcome.errors:
        error = OperationFailed(f"{len(outcome.errors)} version(s) could not be deleted:\n  "
                                + "\n  ".join(outcome.errors[:10]))
    text = render_prune_report(outcome.decision, "text", dry_run=inputs.dry_run)
    for line in text.splitlines():
        say(line)
    return Outcome(f"{config.service} / {env.name}: prune",
                   render_prune_report(outcome.decision, "markdown", dry_run=inputs.dry_run),
                   json.dumps(outcome.to_dict(), indent=2) + "\n", _outputs(report_path), error)


def rollback(config: Config, env: Environment, inputs: CiInputs, aws: Mapping[str, str],
             say: Say, report_path: str, tell: Teller | None = None) -> Outcome:
    from lmi_delivery.cli.commands.postdeploy import make_clients
    from lmi_delivery.postdeploy.report import ProgressLog
    from lmi_delivery.postdeploy.rollback import rollback as do_rollback

    report = do_rollback(config, env, make_clients(config, env, dict(aws)),
                         dry_run=inputs.dry_run, reporter=ProgressLog(say))
    moved = [f"{r.function}:{r.alias} {r.from_version} -> {r.to_version}"
             for r in report.results if r.action != "unchanged"]
    if moved and not inputs.dry_run:
        (tell or _silent(config, env))("rollback", "; ".join(moved))
    return Outcome(f"{config.service} / {env.name}: rollback", report.render("markdown"),
                   report.render("json"), _outputs(report_path))


def doctor(config: Config, runner: RunnerFiles, log: TextIO, report_path: str) -> Outcome:
    from lmi_delivery.doctor.diagnose import diagnose
    from lmi_delivery.doctor.report import render, summary, to_markdown
    from lmi_delivery.doctor.rules import is_failing

    findings = diagnose(config)
    for f in findings:
        log.write(notes.for_finding(f, runner.workspace).command() + "\n")
    log.flush()
    error = GateRefused(summary(findings)) if is_failing(findings) else None
    return Outcome(f"{config.service}: doctor", to_markdown(findings), render(findings, "sarif"),
                   _outputs(report_path), error, report_suffix="sarif")
