"""``lmi-delivery ci``: the GitHub Action's entry point. Its options mirror ``action.yml``'s
inputs one to one (``github-token`` → ``--github-token``; each also read from ``LMI_*``)."""

from __future__ import annotations

import os
import sys

import click

from lmi_delivery.github.context import COMMANDS, CiInputs

#: Action input → (option, environment variable).
INPUTS: dict[str, tuple[str, str]] = {
    name: (f"--{name}", "LMI_" + name.upper().replace("-", "_"))
    for name in ("command", "environment", "config", "python-version", "github-token",
                 "comment-on-pr", "dry-run", "plan-build-id", "plan-sha256")
}

#: ``comment-on-pr``: each accepted word and the mode it means.
COMMENT_MODES = {"true": "always", "always": "always", "changes-only": "changes-only",
                 "false": "never", "never": "never"}


@click.command("ci", context_settings={"show_default": True})
@click.option(INPUTS["command"][0], "command", envvar=INPUTS["command"][1],
              type=click.Choice(COMMANDS), default="run",
              help="What to do: run (the pipeline this event allows), plan (review stages "
                   "only; a push stores the deploy plan), apply (the approved job: the apply "
                   "build of --plan-build-id's plan, then post-deploy), post-deploy, prune, "
                   "drift (a review plan whatever the event, nothing stored where deploy plans "
                   "live), rollback or doctor.")
@click.option(INPUTS["environment"][0], "environment", envvar=INPUTS["environment"][1],
              required=True, help="The environment of the config to act on.")
@click.option(INPUTS["config"][0], "config", envvar=INPUTS["config"][1],
              default="lmi-delivery.yml", help="The lmi-delivery configuration file.")
@click.option(INPUTS["python-version"][0], "python_version", envvar=INPUTS["python-version"][1],
              default=None, help="The Python the action set up; a mismatch is warned about.")
@click.option(INPUTS["github-token"][0], "github_token", envvar=INPUTS["github-token"][1],
              default="", show_default=False,
              help="Token for PR comments and approval checks. Pass it through the "
                   "environment variable, never on the command line.")
@click.option(INPUTS["comment-on-pr"][0], "comment_on_pr", envvar=INPUTS["comment-on-pr"][1],
              type=click.Choice(tuple(COMMENT_MODES), case_sensitive=False),
              default="true",
              help="On pull requests, write (or update) one comment per environment and label "
                   "the pull request: always (or true), changes-only (only when the plan "
                   "changes something; a stale comment is deleted), or never (or false).")
@click.option(INPUTS["dry-run"][0], "dry_run", envvar=INPUTS["dry-run"][1], type=click.BOOL,
              default=False, help="Start and change nothing: show what would happen.")
@click.option(INPUTS["plan-build-id"][0], "plan_build_id", envvar=INPUTS["plan-build-id"][1],
              default="", show_default=False,
              help="command apply: the plan job's plan build (its `plan-build-id` output).")
@click.option(INPUTS["plan-sha256"][0], "plan_sha256", envvar=INPUTS["plan-sha256"][1],
              default="", show_default=False,
              help="command apply: the sha256 the approver reviewed (the plan job's "
                   "`plan-sha256` output).")
@click.option("--sandbox", envvar="LMI_SANDBOX", type=click.BOOL, default=False, hidden=True,
              help="Run against the embedded sandbox (demos and tests).")
def ci_command(command: str, environment: str, config: str, python_version: str | None,
               github_token: str, comment_on_pr: str, dry_run: bool, plan_build_id: str,
               plan_sha256: str, sandbox: bool) -> None:
    """Run one command as a GitHub Actions step (action.yml's entry).

    Reads the GitHub context once (GITHUB_* variables and the event payload), masks every
    secret-like value, runs the command, and answers in GitHub's terms: ::group:: per stage and
    build, ::error annotations on files, step outputs, a job summary and, on pull requests, one
    comment per environment updated in place. Apply runs only where the stage policy allows it,
    and for `apply: approval` environments only once the REST API shows this run's deployment to
    the environment approved. Exit codes: 0 ok, 1 failed, 2 invalid input, 3 refused, 130
    interrupted.
    """
    from lmi_delivery.github.ci import Ci

    inputs = CiInputs(command=command, environment=environment, config=config,
                      python_version=python_version, github_token=github_token,
                      comment_on_pr=COMMENT_MODES[comment_on_pr.lower()] != "never",
                      comment_changes_only=COMMENT_MODES[comment_on_pr.lower()] == "changes-only",
                      dry_run=dry_run, sandbox=sandbox,
                      plan_build_id=plan_build_id, plan_sha256=plan_sha256)
    outcome = Ci(inputs, dict(os.environ), sys.stdout).run()
    if outcome.error is not None:
        raise outcome.error
