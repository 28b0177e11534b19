"""LMD011: a buildspec installs packages from an index without a version pin and a hash.

A build runs what it installs with its project's role (the apply role, for the apply build):
a package taken by its name from an index is whatever the index serves under that name today,
and anyone who registers the name (or takes it over) runs code there. lmi-delivery itself is
never to be installed by name: the buildspecs install the orchestrator's wheel, checked by the
sha256 it passes (``LMI_DELIVERY_WHEEL_URL``, ``LMI_DELIVERY_WHEEL_SHA256``).

Reported, in every buildspec command (here-document bodies are input, not commands):

- ``pip install`` (``pip3``, ``python -m pip``, ``uv pip``) of anything not pinned by hash:
  fine only with ``--require-hashes``, with ``--no-index``, with requirements files (found in
  the repository) whose every requirement carries ``--hash``, or for local files with
  ``--no-deps``; ``pipx install`` always;
- ``npm install``/``npm i``/``npm add`` (and ``yarn add``, ``pnpm add``): ``npm ci`` installs
  exactly the lock file, integrity hashes included;
- a download piped into a shell: ``curl … | sh``, ``bash <(curl …)``, ``sh -c "$(wget …)"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.shell import program
from lmi_delivery.doctor.sources import Repo
from lmi_delivery.doctor.workflow import buildspec_scripts, located_commands
from lmi_delivery.findings import Finding

#: pip options that take a value (``--opt value``); ``--opt=value`` needs no list.
_PIP_VALUED = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
    "--python", "--platform", "--implementation", "--abi", "--python-version", "--src",
    "--upgrade-strategy", "--report", "--log", "--cache-dir", "--trusted-host", "--proxy",
    "--timeout", "--retries", "--cert", "--client-cert", "--exists-action", "-C",
    "--config-settings", "--global-option", "--no-binary", "--only-binary", "--progress-bar",
})
_REQUIREMENT_LINE = re.compile(r"^\s*(?![#-]|$)")
_PIPED_SHELL = re.compile(
    r"\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+(-\S+\s+)*)?(ba|z|da|k)?sh\b"
    r"|\b(ba|z|da|k)?sh\s+(-c\s+)?[\"']?(<\(|\$\()\s*(curl|wget)\b")
FIX = ("pin each package with == and --hash in a requirements file and install it with "
       "pip install --require-hashes -r FILE (or --no-index from a wheelhouse you verify)")


def check(repo: Repo) -> Iterator[Finding]:
    for file in repo.buildspecs:
        for path, script in buildspec_scripts(file):
            for command, where in located_commands(file, path, script):
                problem = unpinned(command.argv, repo.root)
                if problem:
                    yield finding("LMD011", where, problem)
            for line in script.splitlines():
                match = _PIPED_SHELL.search(line)
                if match:
                    start = file.location(*path)
                    yield finding("LMD011", file.find(match.group(0).split()[0], start),
                                  f"{match.group(0)!r} runs whatever that URL serves today: "
                                  "download a pinned release, check its sha256 (or signature), "
                                  "then run it")


def _pip_args(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """The arguments after ``install`` of a pip install, else None."""
    name = program(argv)
    if re.fullmatch(r"pip(\d+(\.\d+)*)?", name) and argv[1:2] == ("install",):
        return argv[2:]
    if re.fullmatch(r"python(\d+(\.\d+)*)?|py", name) and argv[1:4] == ("-m", "pip", "install"):
        return argv[4:]
    if name == "uv" and argv[1:3] == ("pip", "install"):
        return argv[3:]
    return None


def _hashed_file(root: Path, name: str) -> bool:
    """Whether the requirements file ``name`` (relative to the repository) pins every line."""
    if "$" in name or name.startswith("/"):
        return False
    try:
        text = (root / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    joined = re.sub(r"\\\n", " ", text)
    lines = [line.split(" #", 1)[0] for line in joined.splitlines()
             if _REQUIREMENT_LINE.match(line)]
    return bool(lines) and all("==" in line and "--hash=" in line for line in lines)


def _split(args: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
    """Options, requirements files and positional requirements of pip install's arguments."""
    options, files, specs = [], [], []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in _PIP_VALUED and index + 1 < len(args):
            options.append(arg)
            if arg in ("-r", "--requirement"):
                files.append(args[index + 1])
            elif arg in ("-e", "--editable"):
                specs.append(args[index + 1])
            index += 2
            continue
        if arg.startswith("-"):
            key, _, value = arg.partition("=")
            options.append(key)
            if key == "--requirement" and value:
                files.append(value)
        else:
            specs.append(arg)
        index += 1
    return options, files, specs


def _local(spec: str) -> bool:
    return spec.startswith((".", "/", "file:")) or spec.endswith((".whl", ".tar.gz", ".zip"))


def unpinned(argv: tuple[str, ...], root: Path) -> str | None:
    """Why this command installs something unpinned from an index, else None."""
    name = program(argv)
    if name == "pipx" and argv[1:2] == ("install",):
        return f"pipx install {' '.join(argv[2:])} installs from an index without a hash: {FIX}"
    if name in ("npm", "pnpm", "yarn") and len(argv) > 1 and (
            argv[1] in ("install", "i", "add") if name == "npm" else argv[1] == "add"):
        return (f"{name} {argv[1]} resolves packages by name from the registry: use npm ci, "
                "which installs exactly the lock file and its integrity hashes")
    args = _pip_args(argv)
    if args is None:
        return None
    options, files, specs = _split(args)
    if "--require-hashes" in options or "--no-index" in options:
        return None
    if specs and all(_local(s) for s in specs) and "--no-deps" in options and not files:
        return None
    if not specs and files and all(_hashed_file(root, f) for f in files):
        return None
    what = " ".join([*specs, *(f"-r {f}" for f in files)]) or "packages"
    if any("lmi-delivery" in s.lower() or "lmi_delivery" in s.lower() for s in specs):
        return (f"pip install {what}: lmi-delivery is never installed by name from an index "
                "(anyone may register the name): the buildspecs install the orchestrator's own "
                "wheel, checked by the sha256 it passes (LMI_DELIVERY_WHEEL_URL, "
                "LMI_DELIVERY_WHEEL_SHA256); see lmi-delivery's buildspecs/")
    return (f"pip install {what} takes packages from an index without a version pin and a "
            f"hash: {FIX}")
