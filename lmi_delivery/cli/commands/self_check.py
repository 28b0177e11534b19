"""``lmi-delivery self-check``: the first thing a build runs with the lmi-delivery it installed."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

import click

from lmi_delivery.errors import GateRefused


@click.command("self-check")
@click.option("--version", "version", required=True,
              help="The version the orchestrator passed (LMI_DELIVERY_VERSION).")
@click.option("--wheel-sha256", "wheel_sha256", required=True,
              help="The sha256 of the wheel it passed (LMI_DELIVERY_WHEEL_SHA256).")
@click.option("--exports", "exports", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the result as KEY=VALUE lines for the buildspec to source "
                   "(LMI_DELIVERY_INSTALLED_*, and LMI_VERDICT=refused on a refusal).")
def self_check_command(version: str, wheel_sha256: str, exports: Path | None) -> None:
    """In a build: refuse unless this is the orchestrator's wheel.

    Check that this lmi-delivery is the wheel the orchestrator handed the build.

    The version must be VERSION and the wheel sha256 pip recorded when it installed this
    lmi-delivery (with hash checking) must be SHA256; otherwise refuse, exit 3, naming both. An
    editable install, or one from an index, records no wheel sha256 and is refused.
    """
    from lmi_delivery.selfdist.check import check, installed
    from lmi_delivery.selfdist.variables import INSTALLED_SHA256, INSTALLED_VERSION

    found = installed()
    values = {INSTALLED_VERSION: found.version, INSTALLED_SHA256: found.wheel_sha256 or ""}
    try:
        check(version, wheel_sha256, found)
    except GateRefused as refused:
        if exports is not None:
            write_exports(exports, {**values, "LMI_VERDICT": "refused",
                                    "LMI_VERDICT_DETAIL": str(refused)})
        raise
    if exports is not None:
        write_exports(exports, values)
    click.echo(f"lmi-delivery {found}: the wheel the orchestrator passed")


def write_exports(path: Path, values: Mapping[str, str]) -> None:
    """``KEY=VALUE`` lines quoted for a POSIX shell, as ``terraform plan --exports`` writes them
    (not imported from there: this runs first in every build and must start fast)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}={shlex.quote(' '.join(value.split()))}\n"
                            for key, value in values.items()), encoding="utf-8")
