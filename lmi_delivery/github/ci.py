"""``lmi-delivery ci``: read the runner's context once, run one command, answer in GitHub's terms.

Order matters: secret-like values are masked before anything else is printed; then the command
runs; then, whatever its outcome, the report file, ``$GITHUB_OUTPUT``, the job summary and (on
pull requests) the environment's comment are written, every text redacted of the masked values;
last, the error decides the exit code.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from lmi_delivery.config import load
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import ConfigError, LmiError
from lmi_delivery.execute.executor import execute_all
from lmi_delivery.execute.services import Executor
from lmi_delivery.github import annotations as notes
from lmi_delivery.github import comments, drift_issue, labels, tasks
from lmi_delivery.github.approval import ApprovalChecker, run_participants
from lmi_delivery.github.context import CiInputs, Outcome, RunnerFiles
from lmi_delivery.github.masks import Masker
from lmi_delivery.github.notifying import NotifierFactory, no_notifier
from lmi_delivery.github.outputs import write_outputs
from lmi_delivery.github.pipeline import Pipeline, run_pipeline
from lmi_delivery.github.rest import GithubRest
from lmi_delivery.github.summary import append_summary, section
from lmi_delivery.notify import Event, Notify
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.events import ContextFlags, resolve

if TYPE_CHECKING:
    from lmi_delivery.github.drift_report import DriftReport

RestFactory = Callable[[str, str], GithubRest]

#: What a plan destroys, in its one-line summary: deletes and replacements.
_DESTROYS = re.compile(r"(\d+) to (?:destroy|replace)\b")

#: The commands whose report is the environment's plan, and so its pull request comment.
PLANNING_COMMANDS = frozenset({"plan", "run", "drift"})


def default_rest(api_url: str, token: str) -> GithubRest:
    return GithubRest(token=token, base_url=api_url)


@dataclass
class Ci:
    inputs: CiInputs
    environ: Mapping[str, str]
    log: TextIO
    rest_factory: RestFactory = default_rest
    executor: Executor = execute_all

    def __post_init__(self) -> None:
        self.runner = RunnerFiles.from_environ(self.environ)
        self.masker = Masker()
        self.rest = (self.rest_factory(self.runner.api_url, self.inputs.github_token)
                     if self.inputs.github_token else None)

    def say(self, line: str) -> None:
        self.log.write(self.masker.redact(line) + "\n")
        self.log.flush()

    def run(self) -> Outcome:
        for line in (self.masker.add_environ(self.environ)
                     + self.masker.add(self.inputs.github_token)):
            self.log.write(line + "\n")
        wanted = self.inputs.python_version
        if wanted and not platform.python_version().startswith(wanted):
            self.say(notes.Annotation(
                "warning", f"python-version {wanted} was asked for, but lmi-delivery runs on "
                f"Python {platform.python_version()}").command())
        try:
            config = load(self.inputs.config)
        except ConfigError as exc:
            for note in notes.for_config_error(exc, self.runner.workspace):
                self.say(note.command())
            raise
        env = config.environment(self.inputs.environment)
        context = resolve(self.environ, ContextFlags(), default_branch=env.branch)
        outcome = self._dispatch(config, env, context)
        self._finish(outcome, context)
        return outcome

    def _dispatch(self, config: Config, env: Environment, context: CiContext) -> Outcome:
        command = self.inputs.command
        suffix = "sarif" if command == "doctor" else "json"
        report_path = str(self.runner.report_path(command, env.name, suffix))
        if command in ("run", "plan", "apply", "drift"):
            participants = run_participants(context.payload, context.actor,
                                            self.environ.get("GITHUB_TRIGGERING_ACTOR"))
            approve = ApprovalChecker(self.rest, self.runner.repository, self.runner.run_id,
                                      context.sha, say=self.say, participants=participants)
            pipeline = Pipeline(self.inputs, config, env, context, self.runner, self.log,
                                approve, self.executor, self._notifier(config, env),
                                self._drift_issue)
            return run_pipeline(pipeline, self.environ, report_path)
        if command == "doctor":
            return tasks.doctor(config, self.runner, self.log, report_path)
        self.say(notes.group(f"lmi-delivery {command} {env.name}"))
        try:
            with self._aws(config, env) as (aws, poll):
                tell = tasks.Teller(self._notifier(config, env)(aws), config, env, context,
                                    self.runner.run_url or "")
                if command == "post-deploy":
                    return tasks.post_deploy(config, env, self.inputs, aws, self.say,
                                             report_path, poll, tell)
                if command == "prune":
                    return tasks.prune(config, env, self.inputs, aws, self.say, report_path,
                                       tell)
                return tasks.rollback(config, env, self.inputs, aws, self.say, report_path,
                                      tell)
        finally:
            self.say(notes.END_GROUP)

    def _drift_issue(self, drift: DriftReport, notify: Notify) -> None:
        """Open, update or close the environment's drift issue; tell the webhooks when it
        opens or closes. A failure to write it is a warning: the run's verdict stands."""
        if not drift.known:
            self.say(notes.Annotation("warning", "drift could not be told (the plan or the "
                                      "read of post-deploy's state failed): the drift issue "
                                      "is left as it is").command())
            return
        if self.rest is None or not self.runner.repository:
            self.say(notes.Annotation("warning", "no drift issue: the github-token input or "
                                      "GITHUB_REPOSITORY is missing").command())
            return
        try:
            done = drift_issue.sync(self.rest, self.runner.repository, drift,
                                    self.masker.redact)
        except LmiError as exc:
            self.say(notes.Annotation(
                "warning", f"the drift issue could not be written: {exc}").command())
            return
        self.say(f"drift issue: {done.action} {done.url}".rstrip())
        if done.action in ("opened", "closed"):
            detail = f"{drift.summary}; {len(drift.findings)} post-deploy finding(s)" \
                if done.action == "opened" else "drift is gone"
            notify(Event(f"drift-{done.action}", drift.service, drift.environment,
                         run_url=drift.run_url, detail=f"{detail} {done.url}".strip()))

    def _notifier(self, config: Config, env: Environment) -> NotifierFactory:
        """The webhooks of ``notifications`` (none for a dry run), their URLs read from the
        AWS environment the command runs against, masked as soon as they are read."""
        if not config.notifications or self.inputs.dry_run:
            return no_notifier

        def mask(value: str) -> None:
            for line in self.masker.add(value):
                self.log.write(line + "\n")
            self.log.flush()

        def warn(message: str) -> None:
            self.say(notes.Annotation("warning", message,
                                      title="lmi-delivery notification").command())

        def make(aws_environ: Mapping[str, str]) -> Notify:
            from lmi_delivery.aws.clients import clients_for
            from lmi_delivery.notify import Notifier

            return Notifier(config, env, clients_for(config, env, aws_environ, max_attempts=2),
                            mask, warn)
        return make

    @contextmanager
    def _aws(self, config: Config, env: Environment) -> Iterator[tuple[Mapping[str, str], float]]:
        if not self.inputs.sandbox:
            yield self.environ, 5.0
            return
        from lmi_delivery.execute.sandbox_run import SANDBOX_POLL_SECONDS, sandboxed

        with sandboxed(config, [env], self.environ, self.say) as (sandbox_environ, _):
            yield sandbox_environ, SANDBOX_POLL_SECONDS

    def _finish(self, outcome: Outcome, context: CiContext) -> None:
        redact = self.masker.redact
        outcome.markdown, outcome.report = redact(outcome.markdown), redact(outcome.report)
        outcome.outputs = {k: redact(v) for k, v in outcome.outputs.items()}
        path = Path(outcome.outputs.get("report-path") or self.runner.report_path(
            self.inputs.command, self.inputs.environment, outcome.report_suffix))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outcome.report, encoding="utf-8")
        write_outputs(self.runner.output_path, outcome.outputs)
        text = section(outcome, self.inputs.command, self.runner.run_url, str(path))
        if self.runner.summary_path:
            append_summary(self.runner.summary_path, text)
        else:  # not on a runner: the summary is the output
            self.log.write(text)
        self._comment(outcome, context)
        if outcome.error is not None and not isinstance(outcome.error, ConfigError):
            refused = outcome.error.exit_code == 3
            self.say(notes.Annotation(
                "error", str(outcome.error),
                title="lmi-delivery refused" if refused else "lmi-delivery failed").command())

    def _comment(self, outcome: Outcome, context: CiContext) -> None:
        # The environment's comment holds its plan: only the commands that plan write it.
        if self.inputs.command not in PLANNING_COMMANDS:
            return
        if not (context.is_pull_request and self.inputs.comment_on_pr):
            return
        if self.rest is None or not self.runner.repository or context.pr_number is None:
            self.say(notes.Annotation(
                "warning", "no pull request comment: the github-token input, "
                "GITHUB_REPOSITORY or the pull request number is missing").command())
            return
        repo, number, env = self.runner.repository, context.pr_number, self.inputs.environment
        changes = {"true": True, "false": False}.get(outcome.outputs.get("has-changes", ""))
        if changes is not None:
            self._labels(repo, number, changes, outcome.outputs.get("plan-summary", ""))
        if self.inputs.comment_changes_only and changes is False:
            try:
                gone = comments.delete_stale(self.rest, repo, number, env)
            except LmiError as exc:
                self.say(notes.Annotation(
                    "warning", f"the stale pull request comment could not be deleted: "
                    f"{exc}").command())
                return
            self.say(f"pull request #{number}: no changes (comment-on-pr: changes-only): "
                     + (f"deleted comment {', '.join(map(str, gone))}" if gone else
                        "no comment"))
            return
        body = comments.comment_body(env, outcome.markdown, self.runner.run_url)
        try:
            posted = comments.upsert(self.rest, repo, number, env, self.masker.redact(body))
        except LmiError as exc:
            self.say(notes.Annotation(
                "warning", f"the pull request comment could not be written: {exc}").command())
            return
        self.say(f"pull request #{number}: comment {posted.action} {posted.url}".rstrip())

    def _labels(self, repo: str, number: int, changes: bool, summary: str) -> None:
        """``lmi:<env>:changes|no-changes|destroy``; a failure is a warning, not a failed plan."""
        assert self.rest is not None
        destroys = sum(int(n) for n in _DESTROYS.findall(summary))
        wanted = labels.wanted(self.inputs.environment, changes, destroys)
        try:
            synced = labels.sync(self.rest, repo, number, self.inputs.environment, wanted)
        except LmiError as exc:
            self.say(notes.Annotation(
                "warning", f"the pull request labels could not be set: {exc}").command())
            return
        self.say(f"pull request #{number}: labels {', '.join(wanted)}"
                 + (f" (removed {', '.join(synced.removed)})" if synced.removed else ""))
