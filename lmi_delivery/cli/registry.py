"""Every ``lmi-delivery`` command: its name and where it lives. Its help is its docstring.

The registry holds no help text of its own. ``lmi-delivery COMMAND --help`` is click's rendering
of the command function's docstring; the one-line summaries of ``lmi-delivery --help`` are the
first sentence of the same docstrings, read from the modules' source with :mod:`ast` (so that
listing the commands imports none of them, and ``--help`` starts fast).
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util

import click

#: name → ``module:attribute`` of the click command (or group).
COMMANDS: dict[str, str] = {
    "alias": "lmi_delivery.cli.commands.postdeploy:alias_command",
    "apply": "lmi_delivery.cli.commands.run:apply_command",
    "bootstrap": "lmi_delivery.cli.commands.bootstrap:bootstrap_command",
    "ci": "lmi_delivery.cli.commands.ci:ci_command",
    "codebuild": "lmi_delivery.cli.commands.codebuild:codebuild_group",
    "doctor": "lmi_delivery.cli.commands.doctor:doctor_command",
    "gates": "lmi_delivery.cli.commands.gates:gates_group",
    "init": "lmi_delivery.cli.commands.init:init_command",
    "names": "lmi_delivery.cli.commands.plan:names_command",
    "plan": "lmi_delivery.cli.commands.plan:plan_command",
    "post-deploy": "lmi_delivery.cli.commands.postdeploy:post_deploy_command",
    "prune": "lmi_delivery.cli.commands.prune:prune_command",
    "publish": "lmi_delivery.cli.commands.postdeploy:publish_command",
    "rollback": "lmi_delivery.cli.commands.postdeploy:rollback_command",
    "run": "lmi_delivery.cli.commands.run:run_command",
    "sandbox": "lmi_delivery.cli.commands.sandbox:sandbox_group",
    "scale": "lmi_delivery.cli.commands.postdeploy:scale_command",
    "self-check": "lmi_delivery.cli.commands.self_check:self_check_command",
    "status": "lmi_delivery.cli.commands.status:status_command",
    "terraform": "lmi_delivery.cli.commands.terraform:terraform_group",
    "validate": "lmi_delivery.cli.commands.plan:validate_command",
    "warm": "lmi_delivery.cli.commands.postdeploy:warm_command",
}
#: Width of a summary in ``lmi-delivery --help`` (click's 80 columns, less the names).
SUMMARY_WIDTH = 80 - 6 - max(map(len, COMMANDS))


def load(name: str) -> click.Command:
    """Import the command ``name`` (only when it is about to run or show its help)."""
    module_name, attr = COMMANDS[name].split(":")
    command = getattr(importlib.import_module(module_name), attr)
    assert isinstance(command, click.Command), COMMANDS[name]
    return command


@functools.cache
def _docstrings(module_name: str) -> dict[str, str]:
    """Docstrings of a module's functions, without importing it: by function name, and by the
    name a ``@….command("NAME")`` or ``@….group("NAME")`` decorator gives the function."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:  # pragma: no cover - a registry typo; a test checks
        raise LookupError(module_name)
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), spec.origin)
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef) or not (doc := ast.get_docstring(node)):
            continue
        found.setdefault(node.name, doc)
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and decorator.args and \
                    isinstance(name := decorator.args[0], ast.Constant) and \
                    isinstance(name.value, str):
                found.setdefault(f"@{name.value}", doc)
    return found


def summary(name: str) -> str:
    """The command's summary line: the first sentence of its docstring, as click cuts it."""
    module_name, attr = COMMANDS[name].split(":")
    docs = _docstrings(module_name)
    doc = docs.get(attr) or docs.get(f"@{name}", "")
    return click.Command(name, help=doc).get_short_help_str(SUMMARY_WIDTH)
