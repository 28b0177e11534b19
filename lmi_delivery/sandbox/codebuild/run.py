"""One sandbox build, run phase by phase on this machine, in its own thread.

The phases and their transitions follow CodeBuild: ``PROVISIONING`` (resolve the project's
variables and the overrides), ``DOWNLOAD_SOURCE`` (working copy, buildspec, its ``env``),
``INSTALL``, ``PRE_BUILD``, ``BUILD``, ``POST_BUILD``, ``UPLOAD_ARTIFACTS``, ``FINALIZING``.
A failed phase whose buildspec does not say ``on-failure`` follows CodeBuild's transitions: a
failed ``INSTALL`` or ``PRE_BUILD`` ends the command phases, a failed ``BUILD`` still runs
``POST_BUILD``, and every build that reached ``POST_BUILD`` attempts ``UPLOAD_ARTIFACTS``.
``on-failure: ABORT`` stated ends the build there (on to ``FINALIZING``); ``CONTINUE`` runs the
next phase; ``RETRY[-count][-regex]`` runs the phase again, up to count times (3 by default),
while its error message matches the regex, and then follows the transitions. A phase's
``finally`` commands run even when its ``commands`` failed. ``run-as`` runs a phase's commands as
that user when the sandbox can switch to it (the current user, or any existing user when the
sandbox runs as root), else says in the log that it cannot and runs them as the current user.
Parameter Store and Secrets Manager values are masked in the log. ``StopBuild`` and the timeout
kill the process group at once; a stopped build ends with its phase ``STOPPED`` and then
``COMPLETED``, a timed-out one ``TIMED_OUT``, then ``FINALIZING`` and ``COMPLETED``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lmi_delivery.sandbox.codebuild import artifacts as build_artifacts
from lmi_delivery.sandbox.codebuild import env as build_env
from lmi_delivery.sandbox.codebuild import source as build_source
from lmi_delivery.sandbox.codebuild import spec as build_spec
from lmi_delivery.sandbox.codebuild.logs import LogShipper
from lmi_delivery.sandbox.codebuild.model import (
    FAILED,
    FAULT,
    STOPPED,
    SUCCEEDED,
    TIMED_OUT,
    BuildRecord,
)
from lmi_delivery.sandbox.codebuild.process import RunAs, ShellSession

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Where a failed phase sends the build next when its buildspec does not say ``on-failure``.
_ABORT_SKIPS_TO = {"INSTALL": "FINALIZING", "PRE_BUILD": "FINALIZING",
                   "BUILD": "POST_BUILD", "POST_BUILD": "UPLOAD_ARTIFACTS"}
#: Variable types whose values CodeBuild masks in a build's log.
_SECRET_TYPES = ("PARAMETER_STORE", "SECRETS_MANAGER")


@dataclass
class BuildPlan:
    """Everything a build needs, gathered by the CodeBuild extension when the build starts."""

    record: BuildRecord
    workdir: Path
    source_location: str
    source_version: str | None
    buildspec: str
    definitions: list[dict[str, str]]
    artifacts: dict[str, Any]
    timeout_seconds: float
    base_env: dict[str, str]
    codebuild_env: dict[str, str]
    resolver: build_env.SecretResolver
    s3: S3Client
    logs: LogShipper
    notes: tuple[str, ...] = ()
    """What the image lacks, written at the top of the build's log."""


class _Interrupted(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PhaseRunner:
    """Runs one :class:`BuildPlan`; :meth:`stop` may be called from any thread."""

    def __init__(self, plan: BuildPlan) -> None:
        self.plan = plan
        self.record = plan.record
        self._log = plan.logs
        self._stop_reason: str | None = None
        self._deadline = self.record.start + plan.timeout_seconds
        self._done = threading.Event()
        self._session: ShellSession | None = None
        self._failed = False
        self.thread = threading.Thread(target=self._main, name=f"build {self.record.build_id}",
                                       daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self._stop_reason is None:
            self._stop_reason = STOPPED

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _should_stop(self) -> str | None:
        if self._stop_reason is not None:
            return self._stop_reason
        if time.time() >= self._deadline:
            return TIMED_OUT
        return None

    def _main(self) -> None:
        status = FAULT
        try:
            self._log.start()
            status = self._run()
        except _Interrupted as interrupted:
            status = interrupted.reason
            self._log.container(f"Phase complete: {self.record.current_phase} "
                                f"State: {status}")
            self.record.finish_phase(status, _interruption_contexts(status))
        except Exception as error:  # a sandbox bug must still end the build, as a FAULT
            self.record.finish_phase(FAULT, [("INTERNAL_ERROR", f"{type(error).__name__}: "
                                                                f"{error}")])
            status = FAULT
        finally:
            if status != STOPPED:  # a stopped build goes straight to COMPLETED
                self.record.enter("FINALIZING")
            if self._session is not None:
                self._session.close()
            if status != STOPPED:
                self._log.container("Phase complete: FINALIZING State: SUCCEEDED")
            self._log.close()
            self.record.complete_with(status)
            self._done.set()

    def _run(self) -> str:
        plan, record = self.plan, self.record
        record.enter("QUEUED")
        record.enter("PROVISIONING")
        self._log.container("Running on CodeBuild sandbox")
        for note in plan.notes:
            self._log.container(note)
        self._log.container("Processing environment variables")
        try:
            overrides = build_env.resolve_definitions(plan.definitions, plan.resolver)
        except build_env.EnvError as error:
            return self._fail_setup(error.code, str(error))
        self._log.mask(overrides[d["name"]] for d in plan.definitions
                       if d.get("type") in _SECRET_TYPES and d["name"] in overrides)
        self._check()
        record.enter("DOWNLOAD_SOURCE")
        self._log.container("Phase is DOWNLOAD_SOURCE")
        src_dir = plan.workdir / "src"
        try:
            resolved = build_source.prepare(plan.source_location, plan.source_version,
                                            src_dir, plan.base_env)
        except (build_source.SourceError, OSError) as error:
            return self._fail_setup("CLIENT_ERROR", str(error))
        record.set_resolved_source_version(resolved)
        self._log.container(f"CODEBUILD_SRC_DIR={src_dir}")
        try:
            spec, where = build_spec.load(plan.buildspec, src_dir)
            self._log.container(f"YAML location is {where}")
            spec_env = build_env.resolve_buildspec(spec, plan.resolver)
        except build_spec.BuildspecError as error:
            return self._fail_setup("YAML_FILE_ERROR", str(error))
        except build_env.EnvError as error:
            return self._fail_setup(error.code, str(error))
        self._log.mask(spec_env[name] for name in (*spec.parameter_store, *spec.secrets_manager)
                       if name in spec_env)
        env = {**plan.base_env, **spec_env, **overrides, **plan.codebuild_env,
               "CODEBUILD_SRC_DIR": src_dir.as_posix()}
        if resolved:
            env["CODEBUILD_RESOLVED_SOURCE_VERSION"] = resolved
        if spec.version == "0.1":
            self._log.container("Buildspec version 0.1: every command runs in a shell of its "
                                "own; nothing carries over from one command to the next")
        self._session = ShellSession(spec.shell, env, src_dir, plan.workdir / "state",
                                     carry=spec.version != "0.1",
                                     watch=spec.exported_variables)
        self._log.container(f"Moving to directory {src_dir}")
        self._log.container(f"Phases found in YAML: {len(spec.phases)}")
        self._check()
        self._phase_complete(SUCCEEDED, [])
        upload = self._command_phases(spec)
        record.set_exported([(name, self._session.value(name))
                             for name in spec.exported_variables])
        if upload:
            self._upload_artifacts(spec, src_dir)
        return FAILED if self._failed else SUCCEEDED

    def _command_phases(self, spec: build_spec.Buildspec) -> bool:
        """Run the command phases; return whether the build goes on to ``UPLOAD_ARTIFACTS``."""
        skip_to: str | None = None
        for key, phase_type in build_spec.COMMAND_PHASES:
            if skip_to is not None and phase_type != skip_to:
                continue
            skip_to = None
            self.record.enter(phase_type)
            self._log.container(f"Entering phase {phase_type}")
            phase = spec.phases.get(key, build_spec.PhaseSpec())
            context = self._run_phase(phase, phase_type)
            if context is None:
                self._phase_complete(SUCCEEDED, [])
                continue
            self._failed = True
            self._phase_complete(FAILED, [context])
            if phase.on_failure == "ABORT":
                skip_to = "FINALIZING"
            elif phase.on_failure != "CONTINUE":
                skip_to = _ABORT_SKIPS_TO[phase_type]
        return skip_to != "FINALIZING"

    def _run_phase(self, phase: build_spec.PhaseSpec,
                   phase_type: str) -> tuple[str, str] | None:
        """Run a phase, again while ``on-failure: RETRY`` allows; its last failure or None."""
        user = self._run_as(phase.run_as, phase_type)
        attempt = 0
        while True:
            context = self._run_commands(phase, user)
            if context is None or phase.on_failure != "RETRY" or attempt >= phase.retries:
                return context
            if not re.search(phase.retry_pattern, context[1]):
                self._log.container(f"Phase {phase_type} failed with an error that does not "
                                    f"match {phase.retry_pattern!r}: not retried")
                return context
            attempt += 1
            self._log.container(f"Phase {phase_type} failed: retrying it (attempt {attempt} of "
                                f"{phase.retries})")

    def _run_as(self, name: str | None, phase_type: str) -> RunAs | None:
        """The user a phase's commands run as, or None for the sandbox's own user."""
        if name is None:
            return None
        current = pwd.getpwuid(os.geteuid()).pw_name
        if name == current:
            return None
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            reason = f"there is no user {name} on this machine"
        else:
            if os.geteuid() == 0:
                self._log.container(f"Running the {phase_type} phase as {name}")
                self._open_workdir()
                return RunAs(name, entry.pw_uid, entry.pw_gid)
            reason = "the sandbox does not run as root and cannot switch users"
        self._log.container(f"run-as {name} is not honoured in the {phase_type} phase: "
                            f"{reason}; its commands run as {current}")
        return None

    def _open_workdir(self) -> None:
        """Let another user reach the source: the build's directory and the two above it (the
        sandbox's CodeBuild area and work directory) become traversable, as CodeBuild's source
        directory is for ``codebuild-user``."""
        for directory in (self.plan.workdir, *list(self.plan.workdir.parents)[:2],
                          self.plan.workdir / "src"):
            with contextlib.suppress(OSError):
                directory.chmod(directory.stat().st_mode | 0o011)

    def _run_commands(self, phase: build_spec.PhaseSpec,
                      user: RunAs | None = None) -> tuple[str, str] | None:
        """Run a phase's commands, then its ``finally``; return the first failure's context."""
        failure = self._run_list(phase.commands, user)
        finally_failure = self._run_list(phase.finally_commands, user)
        return failure or finally_failure

    def _run_list(self, commands: tuple[str, ...],
                  user: RunAs | None = None) -> tuple[str, str] | None:
        assert self._session is not None
        for command in commands:
            self._check()
            self._session.env["CODEBUILD_BUILD_SUCCEEDING"] = "0" if self._failed else "1"
            self._log.container(f"Running command {command}")
            outcome = self._session.run(command, self._log.line, should_stop=self._should_stop,
                                        user=user)
            if outcome.interrupted is not None:
                raise _Interrupted(outcome.interrupted)
            if outcome.returncode != 0:
                self._log.container(f"Command did not exit successfully {command} "
                                    f"{outcome.reason}")
                return ("COMMAND_EXECUTION_ERROR",
                        self._log.masked(f"Error while executing command: {command}. "
                                         f"Reason: {outcome.reason}"))
        return None

    def _upload_artifacts(self, spec: build_spec.Buildspec, src_dir: Path) -> None:
        self.record.enter("UPLOAD_ARTIFACTS")
        self._log.container("Entering phase UPLOAD_ARTIFACTS")
        if not build_artifacts.wanted(spec.artifacts, self.plan.artifacts):
            self._phase_complete(SUCCEEDED, [])
            return
        assert spec.artifacts is not None
        assert self._session is not None
        try:
            location = build_artifacts.upload(
                self.plan.s3, spec.artifacts, self.plan.artifacts, src_dir=src_dir,
                project=self.record.project, build_uuid=self.record.uuid,
                env=self._session.env)
        except Exception as error:  # an S3 refusal or no matching file fails this phase only
            self._failed = True
            self._phase_complete(FAILED, [("CLIENT_ERROR", str(error))])
            return
        self.record.set_artifacts_location(location)
        self._phase_complete(SUCCEEDED, [])

    def _fail_setup(self, code: str, message: str) -> str:
        self._log.container(f"Phase complete: {self.record.current_phase} State: FAILED")
        self._log.container(f"Phase context status code: {code} Message: {message}")
        self.record.finish_phase(FAILED, [(code, message)])
        return FAILED

    def _phase_complete(self, status: str, contexts: list[tuple[str, str]]) -> None:
        phase = self.record.current_phase
        self.record.finish_phase(status, contexts)
        self._log.container(f"Phase complete: {phase} State: {status}")
        code, message = contexts[0] if contexts else ("", "")
        self._log.container(f"Phase context status code: {code} Message: {message}")

    def _check(self) -> None:
        reason = self._should_stop()
        if reason is not None:
            raise _Interrupted(reason)


def _interruption_contexts(reason: str) -> list[tuple[str, str]]:
    """A timed-out phase says so; a stopped one has no context beyond its status."""
    if reason == TIMED_OUT:
        return [("BUILD_TIMED_OUT", "Build has timed out.")]
    return []

