"""``lmi-delivery terraform ...``: the click layer over :mod:`lmi_delivery.terraform.install`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

from lmi_delivery.terraform.install import DEFAULT_BASE_URL, DEFAULT_VERSION, install


def default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CACHE_HOME/lmi-delivery/terraform``, else ``~/.cache/...``; None without either."""
    base = environ.get("XDG_CACHE_HOME") or (
        str(Path(environ["HOME"]) / ".cache") if environ.get("HOME") else ""
    )
    return Path(base) / "lmi-delivery" / "terraform" if base else None


@click.group("terraform")
def terraform_group() -> None:
    """Install a pinned, verified Terraform."""


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
