"""Run a click command the way ``lmi-delivery`` does: errors become exit codes."""

from __future__ import annotations

import click
import pytest

from lmi_delivery.errors import LmiError


def invoke(capsys: pytest.CaptureFixture[str], command: click.Command,
           *args: str) -> tuple[int, str, str]:
    try:
        code = command.main(list(args), prog_name=command.name, standalone_mode=False)
    except LmiError as error:
        click.echo(str(error), err=True)
        code = error.exit_code
    out, err = capsys.readouterr()
    return int(code or 0), out, err
