"""Reading GitHub workflows and buildspecs: triggers, jobs, steps, scripts and what they do.

A step *applies* when it runs ``lmi-delivery run``, ``lmi-delivery terraform apply``,
``lmi-delivery post-deploy|rollback|prune``, ``terraform apply|destroy``, our action with
``command: run|post-deploy|rollback|prune`` (prune unless ``dry-run: true``), or an action whose
name says ``terraform-apply``. It *reviews* when it validates or plans: ``terraform
plan|validate``, ``lmi-delivery plan|validate|terraform plan``, or our action with
``command: plan|run`` (``run`` runs the validation and plan gates before applying).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from lmi_delivery.config.yamlpos import PathKey, Value
from lmi_delivery.doctor.shell import Command, commands, lmi_words, terraform_call
from lmi_delivery.doctor.sources import YamlFile
from lmi_delivery.errors import Location

OUR_ACTION = re.compile(r"^[^/\s]+/lmi-delivery(/[^@]*)?@")
APPLY_COMMANDS = frozenset({"run", "apply", "post-deploy", "rollback", "prune"})
REVIEW_COMMANDS = frozenset({"plan", "drift", "run"})
Kind = Literal["apply", "review"]


@dataclass(frozen=True)
class Step:
    file: YamlFile
    job: str
    index: int
    value: dict[str, Value]

    @property
    def path(self) -> PathKey:
        return ("jobs", self.job, "steps", self.index)

    @property
    def job_value(self) -> dict[str, Value]:
        job = self.file.value["jobs"][self.job]
        return job if isinstance(job, dict) else {}


@dataclass(frozen=True)
class Action:
    kind: Kind
    what: str
    location: Location


def triggers(file: YamlFile) -> dict[str, Value]:
    """The events of a workflow's ``on:`` as a mapping, whatever form it is written in."""
    value = file.value if isinstance(file.value, dict) else {}
    on = value.get("on", value.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(e): None for e in on}
    return dict(on) if isinstance(on, dict) else {}


def steps(file: YamlFile) -> Iterator[Step]:
    jobs = file.value.get("jobs") if isinstance(file.value, dict) else None
    if not isinstance(jobs, dict):
        return
    for job_id, job in jobs.items():
        listed = job.get("steps") if isinstance(job, dict) else None
        for index, step in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(step, dict):
                yield Step(file, job_id, index, step)


def located_commands(file: YamlFile, path: PathKey, script: str) -> list[tuple[Command, Location]]:
    """The commands of the script at ``path`` with where each is written in the file."""
    start = file.location(*path)
    positions: list[Location] = []
    cursor = start
    for text in script.splitlines():
        found = file.search(text.strip(), cursor) if text.strip() else None
        positions.append(found or cursor)
        if found:
            cursor = Location(file.name, found.line + 1, 1)
    located = []
    for command in commands(script):
        line = positions[command.line] if command.line < len(positions) else start
        located.append((command, file.find(command.argv[0], line) if command.argv else line))
    return located


def script_actions(file: YamlFile, path: PathKey, script: str) -> Iterator[Action]:
    for command, where in located_commands(file, path, script):
        kind = command_kind(command.argv)
        if kind:
            yield Action(kind, " ".join(command.argv[:4]), where)


def command_kind(argv: tuple[str, ...]) -> Kind | None:
    call = terraform_call(argv)
    if call is not None:
        if call.subcommand in ("apply", "destroy"):
            return "apply"
        return "review" if call.subcommand in ("plan", "validate") else None
    words = lmi_words(argv)
    if not words:
        return None
    if words[0] in ("run", "apply") or words[:2] == ["terraform", "apply"]:
        return "apply"
    if words[0] in ("post-deploy", "rollback") or (words[0] == "prune"
                                                    and "--dry-run" not in argv):
        return "apply"
    if words[0] in ("plan", "validate") or words[:2] == ["terraform", "plan"]:
        return "review"
    return None


def step_actions(step: Step) -> Iterator[Action]:
    """What one workflow step does that matters for gating."""
    run = step.value.get("run")
    if isinstance(run, str):
        yield from script_actions(step.file, (*step.path, "run"), run)
    uses = step.value.get("uses")
    if not isinstance(uses, str):
        return
    where = step.file.location(*step.path, "uses")
    command = our_action_command(step)
    if command is not None:
        with_ = step.value.get("with")
        dry = isinstance(with_, dict) and str(with_.get("dry-run", "")).lower() == "true"
        if command in APPLY_COMMANDS and not (command == "prune" and dry):
            yield Action("apply", f"{uses} with command: {command}",
                         step.file.location(*step.path, "with", "command"))
        if command in REVIEW_COMMANDS:
            yield Action("review", f"{uses} with command: {command}", where)
    elif "terraform-apply" in uses:
        yield Action("apply", uses, where)
    elif "terraform-plan" in uses or "terraform-validate" in uses:
        yield Action("review", uses, where)


def our_action_command(step: Step) -> str | None:
    """The ``command`` given to the lmi-delivery action (default ``plan``), else None."""
    uses = step.value.get("uses")
    if not isinstance(uses, str) or not OUR_ACTION.match(uses):
        return None
    with_ = step.value.get("with")
    command = with_.get("command") if isinstance(with_, dict) else None
    return str(command) if command is not None else "plan"


def buildspec_scripts(file: YamlFile) -> Iterator[tuple[PathKey, str]]:
    """Every command of a buildspec, phase by phase, in the order CodeBuild runs them."""
    phases = file.value.get("phases") if isinstance(file.value, dict) else None
    if not isinstance(phases, dict):
        return
    for phase in ("install", "pre_build", "build", "post_build"):
        body = phases.get(phase)
        for section in ("commands", "finally"):
            listed = body.get(section) if isinstance(body, dict) else None
            for index, command in enumerate(listed if isinstance(listed, list) else []):
                if isinstance(command, str):
                    yield ("phases", phase, section, index), command
