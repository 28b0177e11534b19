"""The sandbox image's package index: lmi-delivery's locked dependencies, as local wheels.

Builds install lmi-delivery's dependencies with pip's hash checking from the lock file the
package ships (``lmi_delivery/data/build-requirements.txt``); a real build gets them from PyPI
or the team's index. The sandbox's builds get them from a *wheelhouse*: the lock's wheels for
this machine's Python, downloaded once with ``pip download --require-hashes`` (from the index this
machine's pip is configured with) into the user's cache, ``$XDG_CACHE_HOME/lmi-delivery/
sandbox-wheelhouse/<lock digest>-<python>/``, and served to the builds' pip as a local simple
index (``file://…/simple/``, each link carrying its sha256). Once filled it works offline.
"""

from __future__ import annotations

import hashlib
import html
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

from lmi_delivery import process
from lmi_delivery.errors import LmiError

LOCK = ("data", "build-requirements.txt")
COMPLETE = ".complete"


class WheelhouseError(Exception):
    """The wheelhouse could not be filled; the message says why and how."""


def lock_text() -> str:
    return files("lmi_delivery").joinpath(*LOCK).read_text(encoding="utf-8")


def location(environ: Mapping[str, str]) -> Path:
    """This lock's wheelhouse for this interpreter, in the user's cache."""
    base = environ.get("XDG_CACHE_HOME") or (
        str(Path(environ["HOME"]) / ".cache") if environ.get("HOME") else tempfile.gettempdir())
    digest = hashlib.sha256(lock_text().encode()).hexdigest()[:16]
    tag = f"{sys.implementation.cache_tag}-{sys.platform}-{platform.machine()}"
    return Path(base) / "lmi-delivery" / "sandbox-wheelhouse" / f"{digest}-{tag}"


def project_name(wheel: str) -> str:
    """PEP 503's normalized project name of a wheel file name."""
    return re.sub(r"[-_.]+", "-", wheel.split("-", 1)[0]).lower()


def write_index(wheels: Path) -> Path:
    """A simple index (``simple/<project>/index.html``) of the wheels in ``wheels``."""
    simple = wheels / "simple"
    by_project: dict[str, list[Path]] = {}
    for wheel in sorted(wheels.glob("*.whl")):
        by_project.setdefault(project_name(wheel.name), []).append(wheel)
    for project, listed in by_project.items():
        links = "".join(
            f'<a href="../../{html.escape(w.name)}#sha256='
            f'{hashlib.sha256(w.read_bytes()).hexdigest()}">{html.escape(w.name)}</a>\n'
            for w in listed)
        (simple / project).mkdir(parents=True, exist_ok=True)
        (simple / project / "index.html").write_text(
            f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n", encoding="utf-8")
    return simple


def ensure(environ: Mapping[str, str]) -> Path:
    """The simple index of the filled wheelhouse (filling it first if needed)."""
    where = location(environ)
    if (where / COMPLETE).is_file():
        return where / "simple"
    where.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".fill-", dir=where.parent))
    try:
        (scratch / "requirements.txt").write_text(lock_text(), encoding="utf-8")
        try:
            process.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                         "--only-binary=:all:", "--require-hashes", "--disable-pip-version-check",
                         "-r", str(scratch / "requirements.txt"), "-d", str(scratch)],
                        cwd=scratch, env=dict(environ), timeout=600)
        except LmiError as exc:
            raise WheelhouseError(
                f"could not download the wheels of lmi-delivery's locked dependencies into "
                f"{where} (once, from the index pip is configured with): {exc}") from None
        write_index(scratch)
        (scratch / COMPLETE).write_text("", encoding="utf-8")
        try:
            scratch.rename(where)
        except OSError:  # filled by another sandbox meanwhile
            if not (where / COMPLETE).is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return where / "simple"
