"""Build secrets that reach Terraform as plain variables (SEC032).

A ``codebuild.secrets`` entry named ``TF_VAR_<name>`` sets the root module's variable
``<name>``. Unless that variable is declared ``sensitive = true``, Terraform prints its value
wherever it flows (plan output, ``terraform show``, error messages): into the build's log. The
declaration is read from the plan's configuration
(``configuration.root_module.variables.<name>.sensitive``, which ``terraform show -json`` writes
only when true); only when the plan does not declare the variable are the working directory's
``*.tf`` files read. A variable declared nowhere is not used, and not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from lmi_delivery.errors import Location
from lmi_delivery.findings import Finding
from lmi_delivery.gates.plan_json import Plan
from lmi_delivery.gates.rules import finding
from lmi_delivery.gates.sources import relative_to, tf_files

PREFIX = "TF_VAR_"
_SENSITIVE = re.compile(r"^\s*sensitive\s*=\s*true\s*(?:#.*|//.*)?$", re.MULTILINE)


def check_build_secrets(plan: Plan, secrets: Iterable[str], working_dir: Path | None = None,
                        repo_root: Path | None = None) -> list[Finding]:
    """SEC032 for each ``TF_VAR_`` secret whose variable is declared but not sensitive."""
    declared = plan.module_config("").get("variables")
    variables = declared if isinstance(declared, Mapping) else {}
    found: list[Finding] = []
    for secret in sorted(set(secrets)):
        name = secret[len(PREFIX):] if secret.startswith(PREFIX) else ""
        if not name:
            continue
        where = _declaration(working_dir, repo_root or working_dir, name) if working_dir \
            else None
        entry = variables.get(name)
        if isinstance(entry, Mapping):
            sensitive = entry.get("sensitive") is True
        elif where is not None:
            sensitive = where[1]
        else:
            continue
        if not sensitive:
            item = finding("SEC032", f"var.{name}",
                           f"codebuild.secrets {secret} sets variable {name}, which is not "
                           "declared sensitive = true: Terraform would print its value in "
                           "the build's log")
            found.append(item if where is None else replace(item, location=where[0]))
    return found


def _declaration(working_dir: Path, repo_root: Path | None,
                 name: str) -> tuple[Location, bool] | None:
    """Where ``variable "name"`` is declared in the ``*.tf`` files, and whether it says
    ``sensitive = true``."""
    header = re.compile(rf'^[ \t]*variable[ \t]+"?{re.escape(name)}"?[ \t]*\{{', re.MULTILINE)
    for path, text in tf_files(working_dir):
        match = header.search(text)
        if match is None:
            continue
        body = _block(text, match.end())
        line = text.count("\n", 0, match.start()) + 1
        column = len(match.group(0)) - len(match.group(0).lstrip()) + 1
        location = Location(relative_to(path, repo_root), line, column)
        return location, bool(_SENSITIVE.search(body))
    return None


def _block(text: str, start: int) -> str:
    """The body of the block whose ``{`` ends just before ``start`` (strings skipped)."""
    depth, i, quoted = 1, start, False
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
        i += 1
    return text[start:]

