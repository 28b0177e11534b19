"""The only place lmi-delivery runs Terraform.

Every command runs as ``terraform -chdir=<working_directory> ...`` from the repository root
(so the working directory appears in logs exactly as configured) through
:func:`lmi_delivery.process.run`, with ``TF_IN_AUTOMATION=1``, ``-input=false`` where the
command takes it, ``-no-color`` unless writing to a terminal, and the environment's var files
and backend configuration from the settings. Before the first command, ``terraform version
-json`` must report exactly the pinned version.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lmi_delivery import process
from lmi_delivery.config.model import TerraformSettings
from lmi_delivery.config.naming import render
from lmi_delivery.errors import CommandFailed, InputError, OperationFailed
from lmi_delivery.plan.planner import LOCK_TIMEOUT
from lmi_delivery.redact import Redactor
from lmi_delivery.terraform.summary import summarize

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
        tty: bool = False,
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
        self.root = Path(os.path.abspath(root))
        self.environment_name = environment_name
        self.tty = tty
        self.stream = stream if stream is None or redact is None else redact.lines(stream)
        self.working_dir = self.root / settings.working_directory
        values = {"env": environment_name, **(placeholders or {})}
        self.var_files = tuple(
            _render(t, values, "terraform.var_files") for t in settings.var_files
        )
        self.backend_config = tuple(
            _render(t, values, "terraform.backend_config") for t in settings.backend_config
        )
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
        result = self._run(["version", "-json"], version_check=False, quiet=True)
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

    def init(self) -> None:
        args = ["init", "-input=false", *self._color()]
        args += [f"-backend-config={value}" for value in self.backend_config]
        self._run(args)

    def validate(self) -> None:
        self._run(["validate", *self._color()])

    def fmt_check(self) -> list[str]:
        """Files (relative to the working directory) that ``terraform fmt`` would change."""
        args = ["fmt", "-check", "-recursive", "-list=true", *self._color()]
        result = self._run(args, check=False)
        if result.returncode == 0:
            return []
        if result.returncode == FMT_UNFORMATTED:
            return [line.strip() for line in result.stdout.splitlines() if line.strip()]
        raise CommandFailed(self.argv(args), result.returncode, result.stdout, result.stderr)

    def plan(self, out: Path, detailed_exitcode: bool = False) -> bool:
        """Write a plan to ``out``; return whether it changes anything.

        With ``detailed_exitcode`` the answer is Terraform's exit code (2 = changes); without
        it, the saved plan is read back with ``show -json``.
        """
        self._check_var_files()
        planfile = Path(os.path.abspath(out))
        args = ["plan", "-input=false", *self._color(), f"-lock-timeout={LOCK_TIMEOUT}",
                f"-out={planfile}", *self._var_args()]
        if detailed_exitcode:
            args.append("-detailed-exitcode")
            result = self._run(args, check=False)
            if result.returncode not in (0, 2):
                raise CommandFailed(self.argv(args), result.returncode, result.stdout,
                                    result.stderr)
            return result.returncode == 2
        self._run(args)
        return summarize(self.show_json(planfile)).has_changes

    def show_json(self, planfile: Path) -> dict[str, Any]:
        args = ["show", "-json", "-no-color", os.path.abspath(planfile)]
        result = self._run(args, quiet=True)  # machine output: not for the log
        try:
            data = json.loads(result.stdout)
        except ValueError as exc:
            raise OperationFailed(f"terraform show -json printed invalid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise OperationFailed("terraform show -json did not print a JSON object")
        return data

    def apply(self, planfile: Path) -> None:
        """Apply exactly the saved plan; a stale plan raises :class:`StalePlan`."""
        args = ["apply", "-input=false", *self._color(), f"-lock-timeout={LOCK_TIMEOUT}",
                os.path.abspath(planfile)]
        try:
            self._run(args)
        except CommandFailed as exc:
            if STALE_PLAN_MARKER in exc.stderr or STALE_PLAN_MARKER in exc.stdout:
                raise StalePlan(exc.argv, exc.returncode, exc.stdout, exc.stderr) from None
            raise

    # -- plumbing ---------------------------------------------------------------------------

    def argv(self, args: Sequence[str]) -> list[str]:
        """The full command line for a Terraform subcommand (always with ``-chdir``)."""
        return [self.binary, f"-chdir={self.settings.working_directory}", *args]

    def _color(self) -> list[str]:
        return [] if self.tty else ["-no-color"]

    def _var_args(self) -> list[str]:
        return [f"-var-file={path}" for path in self.var_files]

    def _check_var_files(self) -> None:
        for path in self.var_files:
            if not (self.working_dir / path).is_file():
                raise InputError(
                    f"{self.working_dir / path}: var file not found "
                    f"(terraform.var_files, environment {self.environment_name})"
                )

    def _run(self, args: Sequence[str], *, check: bool = True, version_check: bool = True,
             quiet: bool = False) -> process.Result:
        if not self.working_dir.is_dir():
            raise InputError(
                f"{self.working_dir}: terraform.working_directory does not exist"
            )
        # Terraform refuses to start with a TF_PLUGIN_CACHE_DIR that does not exist.
        self.plugin_cache_dir.mkdir(parents=True, exist_ok=True)
        if version_check:
            self.check_version()
        return process.run(self.argv(args), cwd=self.root, env=self.env, check=check,
                           stream=None if quiet else self.stream)


def _render(template: str, values: Mapping[str, str], key: str) -> str:
    try:
        return render(template, **values)
    except KeyError as exc:
        raise InputError(f"{key}: unknown placeholder {{{exc.args[0]}}} in {template!r}") from None
    except ValueError as exc:
        raise InputError(f"{key}: bad template {template!r}: {exc}") from None
