"""Just enough shell to read CI scripts: the simple commands of a script and what they run.

A script (a workflow ``run:`` or a buildspec command) is split into lines (backslash
continuations joined), each line into simple commands at ``&&``, ``||``, ``;``, ``|`` and ``&``.
Leading ``VAR=value`` assignments and wrappers such as ``time`` are dropped. The body of a
here-document (``<<WORD`` ... ``WORD``) is another program's input, not commands: it is skipped.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "(", ")", "|&"})
_WRAPPERS = frozenset({"time", "exec", "sudo", "command", "env", "nohup"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_HEREDOC = re.compile(r"(?<!<)<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
#: Spellings of the workspace root in CI scripts.
_ROOTS = re.compile(r"^(\$\{?(CODEBUILD_SRC_DIR|GITHUB_WORKSPACE)\}?"
                    r"|\$\{\{\s*github\.workspace\s*\}\})")

#: Terraform subcommands that read the working directory's configuration.
TERRAFORM_DIR_COMMANDS = frozenset({
    "init", "plan", "apply", "destroy", "validate", "refresh", "import", "output", "show",
    "state", "console", "graph", "providers", "get", "test", "workspace", "taint", "untaint",
    "force-unlock", "modules", "metadata",
})


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    line: int
    """0-based index of the script line the command is written on."""


def commands(script: str) -> list[Command]:
    """The simple commands of ``script``, in order."""
    lines = script.splitlines()
    found: list[Command] = []
    index = 0
    while index < len(lines):
        start = index
        logical = lines[index]
        while logical.rstrip().endswith("\\") and index + 1 < len(lines):
            index += 1
            logical = logical.rstrip()[:-1] + " " + lines[index]
        index += 1
        found += [Command(argv, start) for argv in _split(logical)]
        for dash, _, word in _HEREDOC.findall(logical):
            while index < len(lines) and (lines[index].lstrip("\t") if dash
                                          else lines[index]) != word:
                index += 1
            index += 1
    return found


def _split(line: str) -> list[tuple[str, ...]]:
    try:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: fall back to words
        tokens = line.split("#", 1)[0].split()
    out: list[tuple[str, ...]] = []
    current: list[str] = []
    for token in [*tokens, ";"]:
        if token in _SEPARATORS:
            argv = _strip(current)
            if argv:
                out.append(tuple(argv))
            current = []
        else:
            current.append(token)
    return out


def _strip(argv: list[str]) -> list[str]:
    index = 0
    while index < len(argv) and (_ASSIGNMENT.match(argv[index]) or argv[index] in _WRAPPERS):
        index += 1
    return argv[index:]


def program(argv: tuple[str, ...]) -> str:
    return posixpath.basename(argv[0]) if argv else ""


@dataclass(frozen=True)
class TerraformCall:
    chdir: str | None
    subcommand: str


def terraform_call(argv: tuple[str, ...]) -> TerraformCall | None:
    """``terraform [-chdir=DIR] SUBCOMMAND ...``, or None for any other command."""
    if program(argv) != "terraform":
        return None
    chdir: str | None = None
    index = 1
    while index < len(argv) and argv[index].startswith("-"):
        if argv[index].startswith(("-chdir=", "--chdir=")):
            chdir = argv[index].split("=", 1)[1]
        index += 1
    return TerraformCall(chdir, argv[index] if index < len(argv) else "")


def lmi_words(argv: tuple[str, ...]) -> list[str] | None:
    """The subcommand words of an ``lmi-delivery`` call (options dropped), else None."""
    if program(argv) == "lmi-delivery":
        rest = argv[1:]
    elif program(argv).startswith("python") and argv[1:3] == ("-m", "lmi_delivery"):
        rest = argv[3:]
    else:
        return None
    return [w for w in rest if not w.startswith("-")]


def resolve(cwd: str | None, target: str) -> str | None:
    """The repository-relative directory ``target`` names from ``cwd``; None if unknowable."""
    if cwd is None:
        return None
    target = _ROOTS.sub(".", target.strip().strip("'\""))
    if not target or "$" in target or target.startswith(("~", "-")):
        return None
    if target.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(cwd, target))
    return None if joined.startswith("..") else joined
