"""LMD005 Terraform run outside ``terraform.working_directory``; LMD008 without ``-chdir``.

Scripts are followed command by command: ``cd``/``pushd`` move the current directory, a
workflow step starts in its ``working-directory`` (or the job's or workflow's
``defaults.run.working-directory``), and a buildspec's commands share one shell, as CodeBuild
runs them. A declared ``working-directory`` is explicit; only a ``cd`` into the right directory
earns LMD008. A directory that cannot be known (a variable, an expression) stops the check for the
rest of that script rather than guess.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from lmi_delivery.config.yamlpos import PathKey, Value
from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.shell import TERRAFORM_DIR_COMMANDS, program, resolve, terraform_call
from lmi_delivery.doctor.sources import Repo, YamlFile
from lmi_delivery.doctor.workflow import buildspec_scripts, located_commands, steps
from lmi_delivery.findings import Finding


def check(repo: Repo) -> Iterator[Finding]:
    wanted = posixpath.normpath(repo.config.terraform.working_directory)
    for file in repo.workflows:
        for step in steps(file):
            run = step.value.get("run")
            if isinstance(run, str):
                start = _start(file.value, step.job_value, step.value)
                yield from _follow(file, (*step.path, "run"), run, start, wanted)[1]
    for file in repo.buildspecs:
        cwd: str | None = "."
        for path, command in buildspec_scripts(file):
            cwd, found = _follow(file, path, command, cwd, wanted, moved=cwd != ".")
            yield from found


def _defaults(value: Value) -> Value:
    defaults = value.get("defaults") if isinstance(value, dict) else None
    run = defaults.get("run") if isinstance(defaults, dict) else None
    return run.get("working-directory") if isinstance(run, dict) else None


def _start(workflow: Value, job: Value, step: dict[str, Value]) -> str | None:
    for candidate in (step.get("working-directory"), _defaults(job), _defaults(workflow)):
        if candidate is not None:
            return resolve(".", str(candidate))
    return "."


def _follow(file: YamlFile, path: PathKey, script: str, cwd: str | None,
            wanted: str, moved: bool = False) -> tuple[str | None, list[Finding]]:
    found: list[Finding] = []
    # ``moved``: a `cd` of a script, not a declared working-directory, put us where we are.
    for command, where in located_commands(file, path, script):
        argv = command.argv
        if program(argv) in ("cd", "pushd"):
            cwd = resolve(cwd, argv[1]) if len(argv) > 1 else None
            moved = True
            continue
        if program(argv) == "popd":
            cwd = None
            continue
        call = terraform_call(argv)
        if call is None or call.subcommand not in TERRAFORM_DIR_COMMANDS:
            continue
        target = resolve(cwd, call.chdir) if call.chdir is not None else cwd
        if target is None:
            continue
        if target != wanted:
            how = f"-chdir={call.chdir}" if call.chdir is not None else "no -chdir"
            found.append(finding("LMD005", where,
                                 f"terraform {call.subcommand} runs in {target!r} ({how}), but "
                                 f"terraform.working_directory is {wanted!r}: use terraform "
                                 f"-chdir={wanted} {call.subcommand} from the repository root"))
        elif call.chdir is None and moved:
            found.append(finding("LMD008", where,
                                 f"terraform {call.subcommand} relies on the current directory "
                                 f"({wanted!r}): say it with terraform -chdir={wanted} "
                                 f"{call.subcommand}"))
    return cwd, found
