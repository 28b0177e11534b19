"""LMD010: an approved job that plans again, or never applies, after the plan job it follows.

A job with ``environment:`` waits for the approval that GitHub environment requires. The approver
approves what the job it ``needs`` planned (that job's summary). Two things break that when the
approved job runs the lmi-delivery action:

- ``command: run`` plans again after the approval, from whatever the state is by then, and
  applies that new plan, which nobody reviewed;
- ``command: post-deploy`` straight after the plan job publishes and shifts traffic, but nothing
  applies the reviewed plan.

Reported when the approved job directly ``needs`` a job that runs the action with ``command:
plan``. The approved job should apply that plan job's plan (``command: apply``).
"""

from __future__ import annotations

from collections.abc import Iterator

from lmi_delivery.config.yamlpos import Value
from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.sources import Repo, YamlFile
from lmi_delivery.doctor.workflow import Step, our_action_command, steps
from lmi_delivery.findings import Finding

AFTER_APPROVAL = frozenset({"run", "post-deploy"})


def check(repo: Repo) -> Iterator[Finding]:
    for file in repo.workflows:
        by_job: dict[str, list[tuple[Step, str]]] = {}
        for step in steps(file):
            command = our_action_command(step)
            if command is not None:
                by_job.setdefault(step.job, []).append((step, command))
        planners = {job for job, found in by_job.items()
                    if any(command == "plan" for _, command in found)}
        for found in by_job.values():
            value = found[0][0].job_value
            if not _gated(value):
                continue
            planned = [n for n in _needs(value) if n in planners]
            if not planned:
                continue
            for step, command in found:
                if command in AFTER_APPROVAL:
                    yield _finding(file, step, command, planned[0])


def _gated(job: dict[str, Value]) -> bool:
    environment = job.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    return environment is not None and str(environment).strip() != ""


def _needs(job: dict[str, Value]) -> list[str]:
    needs = job.get("needs")
    if isinstance(needs, str):
        return [needs]
    return [str(n) for n in needs] if isinstance(needs, list) else []


def _finding(file: YamlFile, step: Step, command: str, planner: str) -> Finding:
    where = file.location(*step.path, "with", "command")
    if command == "run":
        message = (f"job {step.job!r} waits for its environment's approval, then plans again "
                   f"(command: run) although job {planner!r} already planned (command: plan): "
                   f"the approver approved {planner!r}'s plan, and a plan made after the "
                   f"approval can differ from it; apply {planner!r}'s plan instead "
                   "(command: apply)")
    else:
        message = (f"job {step.job!r} waits for its environment's approval, then runs "
                   f"command: post-deploy straight after job {planner!r} planned (command: "
                   "plan): nothing applies the plan the approver approved; apply it first "
                   "(command: apply), then post-deploy")
    return finding("LMD010", where, message)
