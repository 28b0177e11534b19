"""The one builder of Terraform command lines: the dry run prints these, the builds run these.

Every command is ``terraform -chdir=<working_directory> ...`` with ``-input=false`` where the
command takes it, ``-no-color``, the environment's var files and backend configuration rendered
from their templates, and the plan file ``lmi-delivery.tfplan`` in the working directory.
:class:`~lmi_delivery.terraform.invoke.TerraformRunner` runs exactly these argvs (with its own
binary in place of ``terraform``); nothing else builds a Terraform command line.
"""

from __future__ import annotations

from collections.abc import Mapping

from lmi_delivery.config.model import TerraformSettings
from lmi_delivery.config.naming import render
from lmi_delivery.errors import InputError

PLAN_FILE = "lmi-delivery.tfplan"
#: How long plan and apply wait for the state lock another run holds (Terraform's -lock-timeout;
#: its default, 0s, fails at once). init takes the state lock only to migrate state, which
#: -input=false never does, so it goes without.
LOCK_TIMEOUT = "300s"
COMMANDS = ("fmt", "init", "validate", "plan", "show", "apply")


def rendered(templates: tuple[str, ...], values: Mapping[str, str], key: str) -> tuple[str, ...]:
    """``templates`` with their ``{placeholders}`` filled; a bad one is the user's input error."""
    out = []
    for template in templates:
        try:
            out.append(render(template, **values))
        except KeyError as exc:
            raise InputError(f"{key}: unknown placeholder {{{exc.args[0]}}} in "
                             f"{template!r}") from None
        except ValueError as exc:
            raise InputError(f"{key}: bad template {template!r}: {exc}") from None
    return tuple(out)


def terraform_argv(settings: TerraformSettings, values: Mapping[str, str], command: str, *,
                   planfile: str = PLAN_FILE, lock: bool = True) -> tuple[str, ...]:
    """The argv of one Terraform command (``COMMANDS``) for the environment of ``values``.

    ``values`` are the naming placeholders (``env``, ``service``, ``region``, ...) the var-file
    and backend-config templates may use. ``planfile`` is relative to the working directory.
    ``lock=False`` plans without the state lock (``-lock=false``): a review plan, which never
    writes state, so that a review build (a pull request's code) needs no write to the lock.
    """
    base = ("terraform", f"-chdir={settings.working_directory}")
    if command == "fmt":
        return (*base, "fmt", "-check", "-recursive", "-list=true", "-no-color")
    if command == "init":
        backend = rendered(settings.backend_config, values, "terraform.backend_config")
        return (*base, "init", "-input=false", "-no-color",
                *(f"-backend-config={b}" for b in backend))
    if command == "validate":
        return (*base, "validate", "-no-color")
    if command == "plan":
        var_files = rendered(settings.var_files, values, "terraform.var_files")
        locking = f"-lock-timeout={LOCK_TIMEOUT}" if lock else "-lock=false"
        return (*base, "plan", "-input=false", "-no-color", locking,
                *(f"-var-file={v}" for v in var_files), f"-out={planfile}")
    if command == "show":
        return (*base, "show", "-json", "-no-color", planfile)
    if command == "apply":
        return (*base, "apply", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}",
                planfile)
    raise ValueError(f"unknown terraform command {command!r}")
