"""The files a Terraform root is made of, read from the repository: what change detection needs.

Local modules are found by reading the ``source`` of every ``module`` block in the root's
``*.tf`` files (``./x`` or ``../x``), then in those modules' files, and so on. Registry and git
sources are not files of this repository and are left out; a local source that resolves outside
the repository root is left out too (no change inside the repository can touch it), as is one
that is not a directory.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.config.roots import for_root
from lmi_delivery.doctor import hcl
from lmi_delivery.plan.changes import RootFiles

#: At most this many module directories are followed from one root.
MAX_MODULES = 200


def module_sources(directory: Path) -> list[str]:
    """The ``source`` strings of the ``module`` blocks of ``directory``'s Terraform files."""
    found: list[str] = []
    for path in sorted(directory.glob("*.tf")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        shape = hcl.masked(text)
        for block in hcl.blocks(text, shape):
            if block.type != "module":
                continue
            for attribute in hcl.attributes(text, shape, block):
                if attribute.name == "source":
                    value = attribute.value
                    if len(value) >= 2 and value[0] == value[-1] == '"':
                        found.append(value[1:-1])
    for path in sorted(directory.glob("*.tf.json")):
        found += _json_sources(path)
    return found


def _json_sources(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    modules = data.get("module") if isinstance(data, dict) else None
    if not isinstance(modules, dict):
        return []
    return [str(body["source"]) for body in modules.values()
            if isinstance(body, dict) and isinstance(body.get("source"), str)]


def local_modules(repo: Path, directory: str) -> tuple[str, ...]:
    """Repository-relative directories of the local modules ``directory`` calls, directly or
    not, in the order first met."""
    root = repo.resolve()
    seen: dict[str, None] = {}
    frontier = [posixpath.normpath(directory)]
    while frontier and len(seen) < MAX_MODULES:
        current = frontier.pop(0)
        for source in module_sources(root / current):
            if not source.startswith(("./", "../")):
                continue
            target = (root / current / source.split("//", 1)[0]).resolve()
            if not target.is_relative_to(root) or not target.is_dir():
                continue
            relative = target.relative_to(root).as_posix()
            if relative not in seen and relative != posixpath.normpath(directory):
                seen[relative] = None
                frontier.append(relative)
    return tuple(seen)


def root_files(config: Config, env: Environment) -> tuple[RootFiles, ...]:
    """Every root of ``config`` that deploys to ``env``, as change detection reads it."""
    found = []
    for key, root in config.terraform.roots.items():
        if not root.deploys_to(env.name):
            continue
        projected = for_root(config, key)
        directory = posixpath.normpath(root.working_directory)
        fields = naming.values(config, env)
        var_files = tuple(posixpath.normpath(posixpath.join(
            directory, naming.render(t, **fields))) for t in projected.terraform.var_files)
        found.append(RootFiles(key, directory, var_files, local_modules(config.root, directory),
                               root.watch, tuple(d for d in root.depends_on
                                                 if config.terraform.roots[d].deploys_to(
                                                     env.name))))
    return tuple(found)
