"""Buildspecs (version 0.2, and the old 0.1), parsed into plain values for the sandbox's runner.

Only what the runner acts on is modelled: ``env`` (``shell``, ``variables``,
``parameter-store``, ``secrets-manager``, ``exported-variables``), ``run-as`` (top level and per
phase), the four command phases (``commands``, ``finally``, ``on-failure``) and ``artifacts``
(``files``, ``base-directory``, ``discard-paths``, ``name``). Other keys (``reports``, ``cache``,
``runtime-versions``, ``batch``, ...) are accepted and ignored, as they change nothing on this
machine. As in CodeBuild, a single string is accepted where a list is usual (``commands``,
``finally``, ``artifacts.files``), and ``on-failure`` is ``ABORT``, ``CONTINUE`` or
``RETRY[-count][-regex]``; left out, a failed phase follows CodeBuild's transitions (a failed
``BUILD`` still runs ``POST_BUILD``), while ``ABORT`` stated ends the command phases.

Version 0.1 runs each command in a shell of its own (nothing carries from one to the next) and
takes its plain-text variables from ``environment_variables.plaintext``.

Errors raise :class:`BuildspecError` with a message in CodeBuild's words; the runner reports it
as a ``YAML_FILE_ERROR`` of the ``DOWNLOAD_SOURCE`` phase.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: The command phases of a buildspec, in the order they run, with their CodeBuild phase names.
COMMAND_PHASES: tuple[tuple[str, str], ...] = (
    ("install", "INSTALL"),
    ("pre_build", "PRE_BUILD"),
    ("build", "BUILD"),
    ("post_build", "POST_BUILD"),
)

DEFAULT_BUILDSPEC = "buildspec.yml"
#: ``RETRY`` without a count retries up to 3 times; a count is 0..100.
DEFAULT_RETRIES = 3
MAX_RETRIES = 100
_ON_FAILURE = re.compile(r"(?P<word>ABORT|CONTINUE)|RETRY(?:-(?P<count>[0-9]+))?"
                         r"(?:-(?P<regex>.+))?", re.S | re.I)


class BuildspecError(Exception):
    """The buildspec is missing or does not follow version 0.2."""


@dataclass(frozen=True)
class PhaseSpec:
    commands: tuple[str, ...] = ()
    finally_commands: tuple[str, ...] = ()
    on_failure: str | None = None
    """``ABORT``, ``CONTINUE``, ``RETRY``, or ``None`` when the buildspec does not say."""
    retries: int = 0
    """With ``RETRY``: how many more times the phase may run."""
    retry_pattern: str = ".*"
    """With ``RETRY``: the phase is retried only when its error message matches it."""
    run_as: str | None = None
    """The Linux user to run the phase's commands as (the phase's, else the top level's)."""


@dataclass(frozen=True)
class ArtifactsSpec:
    files: tuple[str, ...] = ()
    base_directory: str = ""
    discard_paths: bool = False
    name: str = ""


@dataclass(frozen=True)
class Buildspec:
    version: str = "0.2"
    shell: str = "bash"
    variables: Mapping[str, str] = field(default_factory=dict)
    parameter_store: Mapping[str, str] = field(default_factory=dict)
    secrets_manager: Mapping[str, str] = field(default_factory=dict)
    exported_variables: tuple[str, ...] = ()
    phases: Mapping[str, PhaseSpec] = field(default_factory=dict)
    artifacts: ArtifactsSpec | None = None


def is_inline(buildspec: str) -> bool:
    """Whether a project's ``buildspec`` string is YAML text rather than a file path."""
    return "\n" in buildspec.strip() or buildspec.lstrip().startswith(("version:", "{"))


def load(buildspec: str, source_dir: Path) -> tuple[Buildspec, str]:
    """Parse the project's (or the override's) ``buildspec``; return it and where it came from.

    ``buildspec`` is inline YAML, a path relative to ``source_dir`` (or absolute), or empty for
    ``buildspec.yml`` at the root of the source.
    """
    if buildspec and is_inline(buildspec):
        return parse(buildspec), "inline buildspec"
    path = Path(buildspec or DEFAULT_BUILDSPEC)
    if not path.is_absolute():
        path = source_dir / path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        where = buildspec or DEFAULT_BUILDSPEC
        raise BuildspecError(f"YAML file does not exist: {where}") from None
    return parse(text), str(path)


def parse(text: str) -> Buildspec:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise BuildspecError(f"YAML file is not valid: {error}") from None
    if not isinstance(document, dict):
        raise BuildspecError("YAML file is not valid: expected a mapping at the top level")
    version = str(document.get("version", ""))
    if version not in ("0.1", "0.2"):
        raise BuildspecError(f"invalid buildspec version {version!r}: expected 0.2 (or the old "
                             "0.1)")
    env = _mapping(document.get("env"), "env")
    variables = _strings(env.get("variables"), "env.variables")
    if version == "0.1":
        legacy = _mapping(document.get("environment_variables"), "environment_variables")
        variables = _strings(legacy.get("plaintext"), "environment_variables.plaintext")
    run_as = _optional_string(document.get("run-as"), "run-as")
    phases_doc = _mapping(document.get("phases"), "phases")
    phases = {
        key: _phase(_mapping(phases_doc.get(key), f"phases.{key}"), key, run_as)
        for key, _ in COMMAND_PHASES
        if key in phases_doc
    }
    shell = str(env.get("shell") or "bash")
    if shell not in ("bash", "/bin/sh", "sh"):
        raise BuildspecError(f"unsupported env.shell {shell!r}: expected bash or /bin/sh")
    artifacts_doc = document.get("artifacts")
    return Buildspec(
        version=version,
        shell="bash" if shell == "bash" else "/bin/sh",
        variables=variables,
        parameter_store=_strings(env.get("parameter-store"), "env.parameter-store"),
        secrets_manager=_strings(env.get("secrets-manager"), "env.secrets-manager"),
        exported_variables=_string_list(env.get("exported-variables"), "env.exported-variables"),
        phases=phases,
        artifacts=None if artifacts_doc is None else _artifacts(_mapping(artifacts_doc,
                                                                           "artifacts")),
    )


def _phase(doc: Mapping[str, Any], key: str, run_as: str | None) -> PhaseSpec:
    on_failure, retries, pattern = _on_failure(doc.get("on-failure"), key)
    return PhaseSpec(
        commands=_commands(doc.get("commands"), f"phases.{key}.commands"),
        finally_commands=_commands(doc.get("finally"), f"phases.{key}.finally"),
        on_failure=on_failure,
        retries=retries,
        retry_pattern=pattern,
        run_as=_optional_string(doc.get("run-as"), f"phases.{key}.run-as") or run_as,
    )


def _on_failure(value: object, key: str) -> tuple[str | None, int, str]:
    """(``ABORT``/``CONTINUE``/``RETRY`` or None, retries, error pattern) of ``on-failure``."""
    if value is None:
        return None, 0, ".*"
    found = _ON_FAILURE.fullmatch(str(value))
    if found is None:
        raise BuildspecError(f"phases.{key}.on-failure must be ABORT, CONTINUE or "
                             f"RETRY[-count][-regex], not {value!r}")
    if found.group("word"):
        return found.group("word").upper(), 0, ".*"
    count = int(found.group("count")) if found.group("count") else DEFAULT_RETRIES
    if count > MAX_RETRIES:
        raise BuildspecError(f"phases.{key}.on-failure: a retry count is 0..{MAX_RETRIES}, "
                             f"not {count}")
    pattern = found.group("regex") or ".*"
    try:
        re.compile(pattern)
    except re.error as error:
        raise BuildspecError(f"phases.{key}.on-failure: invalid regex {pattern!r}: "
                             f"{error}") from None
    return "RETRY", count, pattern


def _artifacts(doc: Mapping[str, Any]) -> ArtifactsSpec:
    discard = doc.get("discard-paths", False)
    return ArtifactsSpec(
        files=_commands(doc.get("files"), "artifacts.files"),
        base_directory=str(doc.get("base-directory") or ""),
        discard_paths=discard is True or str(discard).lower() in ("yes", "true"),
        name=str(doc.get("name") or ""),
    )


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BuildspecError(f"{where} must be a mapping")
    return value


def _strings(value: object, where: str) -> dict[str, str]:
    return {str(k): _scalar(v, f"{where}.{k}") for k, v in _mapping(value, where).items()}


def _string_list(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BuildspecError(f"{where} must be a list")
    return tuple(_scalar(item, f"{where}[{i}]") for i, item in enumerate(value))


def _commands(value: object, where: str) -> tuple[str, ...]:
    """A list of strings, or one string standing for a list of one (CodeBuild accepts it)."""
    if isinstance(value, str):
        return (value,)
    return _string_list(value, where)


def _optional_string(value: object, where: str) -> str | None:
    return None if value is None else _scalar(value, where)


def _scalar(value: object, where: str) -> str:
    if isinstance(value, dict | list) or value is None:
        raise BuildspecError(f"Expected {where} to be of string type")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
