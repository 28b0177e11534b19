"""Every command's help is its one docstring: the list ``lmi-delivery --help`` prints is read
from the same docstrings click renders for ``COMMAND --help``, without importing the commands."""

from __future__ import annotations

import inspect
import subprocess
import sys

import click
import pytest

from lmi_delivery.cli import registry


@pytest.mark.parametrize("name", sorted(registry.COMMANDS))
def test_the_summary_is_the_loaded_command_s_own(name: str) -> None:
    command = registry.load(name)
    assert command.name == name
    assert command.help, f"{name} has no docstring"
    callback = command.callback
    assert callback is not None
    assert inspect.cleandoc(command.help) == inspect.getdoc(callback)
    assert registry.summary(name) == command.get_short_help_str(registry.SUMMARY_WIDTH)
    assert not registry.summary(name).endswith("..."), "the first sentence fits the list"


def test_the_top_level_help_lists_every_command_without_importing_one() -> None:
    code = ("import sys\nfrom lmi_delivery.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('lmi_delivery.cli.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    listing, _, imported = out.rpartition("\n[")
    assert imported.strip() == "]", f"commands imported for --help: [{imported}"
    for name in registry.COMMANDS:
        assert f"  {name} " in listing
        assert registry.summary(name) in listing


def test_an_unknown_command_is_a_usage_error() -> None:
    from lmi_delivery.cli.main import cli

    with pytest.raises(click.UsageError, match="No such command 'nope'"):
        cli.main(["nope"], standalone_mode=False)
