"""``lmi-delivery terraform ...``: the click layer over :mod:`~lmi_delivery.terraform.install`
(``install``) and :mod:`~lmi_delivery.terraform.builds` (``plan``, ``apply``).

The environment is read here, once, and handed down; boto3 is imported only by the factory the
``plan`` and ``apply`` callbacks call, never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lmi_delivery.terraform.install import DEFAULT_BASE_URL, DEFAULT_VERSION, install

if TYPE_CHECKING:
    from lmi_delivery.terraform.builds import BuildRequest


def default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CACHE_HOME/lmi-delivery/terraform``, else ``~/.cache/...``; None without either."""
    base = environ.get("XDG_CACHE_HOME") or (
        str(Path(environ["HOME"]) / ".cache") if environ.get("HOME") else ""
    )
    return Path(base) / "lmi-delivery" / "terraform" if base else None


@click.group("terraform")
def terraform_group() -> None:
    """Install a verified Terraform; the plan build and the apply build."""


@terraform_group.command("install")
@click.option("--version", "version", default=DEFAULT_VERSION, show_default=True,
              help="Exact Terraform version.")
@click.option("--dir", "dest_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".lmi-delivery/bin"), show_default=True,
              help="Directory to put the terraform binary in.")
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              help="Where releases live (a mirror must serve the same signed files).")
@click.option("--embedded", is_flag=True,
              help="Write a shim running the embedded Terraform instead of downloading.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Cache of verified releases. Default: $XDG_CACHE_HOME/lmi-delivery/terraform.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
def install_command(version: str, dest_dir: Path, base_url: str, embedded: bool,
                    cache_dir: Path | None, no_cache: bool) -> None:
    """Download Terraform, verify HashiCorp's signature and the sha256, install it.

    Nothing is written to --dir unless the SHA256SUMS signature verifies with HashiCorp's key
    (shipped with lmi-delivery) and the archive matches its signed checksum. Prints the path
    of the installed binary.
    """
    cache = None if no_cache else cache_dir or default_cache_dir(os.environ)
    path = install(version, dest_dir=dest_dir, base_url=base_url, cache_dir=cache,
                   embedded=embedded)
    click.echo(str(path))


def _build_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--env", "env_name", required=True, envvar="LMI_DELIVERY_ENV",
                     help="The environment (default: $LMI_DELIVERY_ENV)."),
        click.option("--config", "config_path", default="lmi-delivery.yml", show_default=True,
                     type=click.Path(path_type=str),
                     help="The lmi-delivery configuration file; its directory is the repo root."),
        click.option("--commit", help="The commit (default: CodeBuild's "
                     "$CODEBUILD_RESOLVED_SOURCE_VERSION, else $LMI_DELIVERY_COMMIT; every "
                     "one given must agree)."),
        click.option("--terraform", "terraform_bin", default="terraform", show_default=True,
                     help="The Terraform binary: a path, or a name looked up on PATH."),
        click.option("--exports", "exports_path", type=click.Path(dir_okay=False,
                                                                  path_type=Path),
                     help="Also write the results as KEY=VALUE lines (shell-quoted values) to "
                          "this file, for the buildspec to source and export."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _request(env_name: str, config_path: str, commit: str | None,
             terraform_bin: str) -> BuildRequest:
    from lmi_delivery.terraform.builds import BuildRequest

    return BuildRequest(config_path=config_path, env_name=env_name, commit=commit,
                        terraform=terraform_bin)


def _log(line: str) -> None:
    click.echo(line, err=True)


@terraform_group.command("plan")
@_build_options
def plan_command(env_name: str, config_path: str, commit: str | None, terraform_bin: str,
                 exports_path: Path | None) -> None:
    """The plan build: init, validate, plan, show; store the plan and its metadata.

    The plan file and a metadata document (its sha256, the commit, environment, working
    directory, Terraform version, config digest and the summary) go to the artifacts bucket
    under this service, environment and commit. Terraform's output goes to stderr, the summary
    to stdout. --exports writes LMI_PLAN_URL, LMI_PLAN_METADATA_URL, LMI_PLAN_SHA256,
    LMI_PLAN_SUMMARY and LMI_PLAN_HAS_CHANGES.
    """
    from lmi_delivery.terraform.builds import make_services, plan_build, write_exports

    services = make_services(_request(env_name, config_path, commit, terraform_bin),
                             dict(os.environ), stream=_log)
    outcome = plan_build(services)
    if exports_path is not None:
        write_exports(exports_path, outcome.exports())
    click.echo(outcome.report(), nl=False)


@terraform_group.command("apply")
@_build_options
def apply_command(env_name: str, config_path: str, commit: str | None, terraform_bin: str,
                  exports_path: Path | None) -> None:
    """The apply build: apply exactly the reviewed plan of this commit and environment.

    The stored plan is refused (exit 3, nothing applied) when there is none, when it was
    already applied, when the file's sha256 differs from its metadata, when it was made for
    another commit, environment, working directory, Terraform version or configuration, or when
    Terraform calls it stale. Nothing is re-planned. --exports writes LMI_APPLIED_PLAN_SHA256,
    LMI_APPLIED_AT and LMI_PLAN_SUMMARY.
    """
    from lmi_delivery.terraform.builds import apply_build, make_services, write_exports

    services = make_services(_request(env_name, config_path, commit, terraform_bin),
                             dict(os.environ), stream=_log)
    outcome = apply_build(services)
    if exports_path is not None:
        write_exports(exports_path, outcome.exports())
    click.echo(outcome.report(), nl=False)
