"""The only place lmi-delivery runs Terraform.

Every command is the argv :mod:`lmi_delivery.terraform.argv` builds (the one the dry run
shows), run from the repository root with this runner's binary in place of ``terraform`` (so the
working directory appears in logs exactly as configured) through :func:`lmi_delivery.process.run`,
with ``TF_IN_AUTOMATION=1``. Each command line is echoed to the stream (``$ terraform ...``)
before it runs. Before the first command, ``terraform version -json`` must report exactly the
pinned version.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lmi_delivery import process
from lmi_delivery.config.model import TerraformSettings
from lmi_delivery.errors import CommandFailed, InputError, OperationFailed
from lmi_delivery.plan.steps import TerraformCommand
from lmi_delivery.redact import Redactor
from lmi_delivery.terraform.argv import PLAN_FILE, rendered, terraform_argv

STALE_PLAN_MARKER = "Saved plan is stale"
#: Exit code of ``fmt -check`` when files need formatting (Terraform 1.x).
FMT_UNFORMATTED = 3


class StalePlan(CommandFailed):
    """``terraform apply`` refused a saved plan made against state that has since changed."""


class TerraformRunner:
    def __init__(
        self,
        binary: Path | str,
        settings: TerraformSettings,
        root: Path,
        env: Mapping[str, str],
        environment_name: str,
        *,
        stream: process.LineCallback | None = None,
        redact: Redactor | None = None,
        placeholders: Mapping[str, str] | None = None,
        plugin_cache_dir: Path | None = None,
    ) -> None:
        """``env`` is the complete environment Terraform runs with (plus the variables set here).

        ``redact`` takes the build's secret values out of every streamed line.
        ``placeholders`` adds values for the var-file and backend-config templates besides
        ``env`` (the environment name), e.g. ``service`` and ``region``. ``plugin_cache_dir``
        defaults to ``TF_PLUGIN_CACHE_DIR`` from ``env``, else ``<root>/.lmi-delivery/plugins``.
        """
        # A path is made absolute (Terraform runs from ``root``); a bare name is looked up on
        # the PATH of ``env``.
        self.binary = os.path.abspath(binary) if os.sep in str(binary) else str(binary)
        self.settings = settings
        #: Whether plans take the state lock: off for review plans (they never write state).
        self.state_lock = True
        self.root = Path(os.path.abspath(root))
        self.environment_name = environment_name
        self.stream = stream if stream is None or redact is None else redact.lines(stream)
        self.working_dir = self.root / settings.working_directory
        self.values = {"env": environment_name, **(placeholders or {})}
        self.var_files = rendered(settings.var_files, self.values, "terraform.var_files")
        cache = plugin_cache_dir or Path(
            env.get("TF_PLUGIN_CACHE_DIR") or self.root / ".lmi-delivery" / "plugins"
        )
        self.plugin_cache_dir = cache if cache.is_absolute() else self.root / cache
        self.env = {**env, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
                    "TF_PLUGIN_CACHE_DIR": str(self.plugin_cache_dir)}
        self._version_checked = False

    # -- commands ---------------------------------------------------------------------------

    def version(self) -> str:
        """The version ``terraform version -json`` reports (runs even before the check)."""
        result = self._run(("terraform", "version", "-json"), version_check=False, quiet=True)
        try:
            return str(json.loads(result.stdout)["terraform_version"])
        except (ValueError, KeyError, TypeError):
            raise OperationFailed(
                f"{self.binary} did not report its version as JSON: {result.stdout[:200]!r}"
            ) from None

    def check_version(self) -> None:
        """Refuse a binary that is not the pinned version (done once, before anything else)."""
        if self._version_checked:
            return
        found = self.version()
        if found != self.settings.version:
            raise OperationFailed(
                f"{self.binary} is Terraform {found}, but terraform.version pins "
                f"{self.settings.version}; refusing to run it",
                context={"expected": self.settings.version, "found": found},
            )
        self._version_checked = True

    @property
    def planfile(self) -> Path:
        """``lmi-delivery.tfplan`` in the working directory: the file every plan step names."""
        return self.working_dir / PLAN_FILE

    def command(self, command: str) -> tuple[str, ...]:
        """The argv (with ``terraform`` for the binary) of one command, as the dry run shows it;
        a plan without the state lock when :attr:`state_lock` is off (review plans)."""
        return terraform_argv(self.settings, self.values, command, lock=self.state_lock)

    def run_step(self, step: TerraformCommand) -> Any:
        """Run a planned Terraform step: its argv must be the one this runner derives.

        Returns what the command's method returns (``fmt``: the unformatted files, ``show``: the
        plan JSON).
        """
        command = step.argv[2] if len(step.argv) > 2 else ""
        if command not in ("fmt", "init", "validate", "plan", "show", "apply") or \
                tuple(step.argv) != self.command(command):
            raise OperationFailed(f"the step `{' '.join(step.argv)}` is not a command this build "
                                  "derives from its config; refusing to run it")
        methods = {"fmt": self.fmt_check, "init": self.init, "validate": self.validate,
                   "plan": self.plan, "show": self.show_json, "apply": self.apply}
        return methods[command]()

    def init(self) -> None:
        self._run(self.command("init"))

    def validate(self) -> None:
        self._run(self.command("validate"))

    def fmt_check(self) -> list[str]:
        """Files (relative to the working directory) that ``terraform fmt`` would change."""
        argv = self.command("fmt")
        result = self._run(argv, check=False)
        if result.returncode == 0:
            return []
        if result.returncode == FMT_UNFORMATTED:
            return [line.strip() for line in result.stdout.splitlines() if line.strip()]
        raise CommandFailed(self.argv(argv), result.returncode, result.stdout, result.stderr)

    def plan(self) -> str:
        """Write the plan to :attr:`planfile` (``show`` reads it back); return Terraform's
        output: the text plan and its warnings."""
        self._check_var_files()
        result = self._run(self.command("plan"))
        return result.stdout + result.stderr

    def show_json(self) -> dict[str, Any]:
        result = self._run(self.command("show"), quiet=True)  # machine output: not for the log
        try:
            data = json.loads(result.stdout)
        except ValueError as exc:
            raise OperationFailed(f"terraform show -json printed invalid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise OperationFailed("terraform show -json did not print a JSON object")
        return data

    def apply(self) -> None:
        """Apply exactly the saved plan; a stale plan raises :class:`StalePlan`."""
        try:
            self._run(self.command("apply"))
        except CommandFailed as exc:
            if STALE_PLAN_MARKER in exc.stderr or STALE_PLAN_MARKER in exc.stdout:
                raise StalePlan(exc.argv, exc.returncode, exc.stdout, exc.stderr) from None
            raise

    # -- plumbing ---------------------------------------------------------------------------

    def argv(self, command: Sequence[str]) -> list[str]:
        """The command line that runs: this runner's binary in place of ``terraform``."""
        return [self.binary, *command[1:]]

    def _check_var_files(self) -> None:
        for path in self.var_files:
            if not (self.working_dir / path).is_file():
                raise InputError(
                    f"{self.working_dir / path}: var file not found "
                    f"(terraform.var_files, environment {self.environment_name})"
                )

    def _run(self, command: Sequence[str], *, check: bool = True, version_check: bool = True,
             quiet: bool = False) -> process.Result:
        if not self.working_dir.is_dir():
            raise InputError(
                f"{self.working_dir}: terraform.working_directory does not exist"
            )
        # Terraform refuses to start with a TF_PLUGIN_CACHE_DIR that does not exist.
        self.plugin_cache_dir.mkdir(parents=True, exist_ok=True)
        if version_check:
            self.check_version()
        if self.stream is not None and version_check:
            self.stream(f"$ {' '.join(command)}")
        return process.run(self.argv(command), cwd=self.root, env=self.env, check=check,
                           stream=None if quiet else self.stream)

