"""Checks on the files a configuration points at: the Terraform root and its variable files.

Paths are relative to the repository root (the directory holding the configuration file);
variable files are relative to the working directory, as Terraform reads them under ``-chdir``.
Nothing may resolve (through ``..`` or symlinks) outside the repository root.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config
from lmi_delivery.config.yamlpos import PathKey, dotted
from lmi_delivery.errors import Diagnostic


def check_paths(config: Config, *, templates_ok: bool = True) -> list[Diagnostic]:
    """Problems with ``terraform.working_directory`` and, if it is sound, the var files.

    A config with ``terraform.roots`` has its roots checked one by one
    (:mod:`lmi_delivery.config.roots_check`, through :func:`check_root_paths`)."""
    if config.terraform.roots or not config.terraform.working_directory:
        return []
    return check_root_paths(config, ("terraform", "working_directory"),
                            "terraform working directory", templates_ok=templates_ok)


def check_root_paths(config: Config, at: PathKey, label: str, *, templates_ok: bool = True,
                     var_files_at: PathKey = ("terraform", "var_files")) -> list[Diagnostic]:
    """Problems with the working directory of a one-root ``config`` (reported at ``at`` as
    ``label``) and, if it is sound, its var files (at ``var_files_at``)."""
    directory = config.terraform.working_directory
    try:
        root = config.root.resolve()
        workdir = (root / directory).resolve()
        problem = _workdir_problem(root, workdir)
    except (OSError, ValueError, RuntimeError) as exc:
        problem = f"is not a usable path ({exc.__class__.__name__})"
    if problem:
        return [_at(config, at, f"{label} {directory!r} {problem}")]
    if not templates_ok:
        return []
    return list(_var_files(config, root, workdir, var_files_at))


def _workdir_problem(root: Path, workdir: Path) -> str | None:
    if not workdir.is_relative_to(root):
        return "is outside the repository root"
    if not workdir.is_dir():
        return "does not exist" if not workdir.exists() else "is not a directory"
    if not any(p.is_file() for pattern in ("*.tf", "*.tf.json") for p in workdir.glob(pattern)):
        return "holds no .tf file"
    return None


def _var_files(config: Config, root: Path, workdir: Path,
               var_files_at: PathKey) -> Iterator[Diagnostic]:
    for index, template in enumerate(config.terraform.var_files):
        missing: list[str] = []
        outside: list[str] = []
        for env in config.environments.values():
            rendered = naming.render(template, **naming.values(config, env))
            try:
                target = (workdir / rendered).resolve()
                if not target.is_relative_to(root):
                    outside.append(f"{env.name} ({rendered})")
                elif not target.is_file():
                    missing.append(f"{env.name} ({rendered})")
            except (OSError, ValueError, RuntimeError):
                missing.append(f"{env.name} ({rendered})")
        at: PathKey = (*var_files_at, index)
        where = config.terraform.working_directory
        if outside:
            yield _at(config, at, f"var file {template!r} resolves outside the repository root "
                                  f"for environment {', '.join(outside)}")
        if missing:
            label = "environment" if len(missing) == 1 else "environments"
            yield _at(config, at, f"var file {template!r} not found in {where!r} for "
                                  f"{label} {', '.join(missing)}")


def _at(config: Config, path: PathKey, message: str) -> Diagnostic:
    return Diagnostic(config.location(*path), message, dotted(path))
