"""The wheel of the lmi-delivery that is running: what the orchestrator hands every build.

Where the running ``lmi_delivery`` package comes from decides how its wheel is made:

- **a source tree** (an editable install, or the package imported from a checkout): the tree's
  ``pyproject.toml``, ``README.md`` and ``lmi_delivery/`` are copied aside and built with
  ``pip wheel --no-deps`` (the build backend pyproject names, in pip's isolated build
  environment). The result is cached per digest of those files, so a run, or a test suite,
  builds it once per change of the source;
- **an installed distribution** (``pip install .``, as the Action does, or a wheel): its
  files, as its ``RECORD`` lists them, are packed back into a wheel, byte for byte the running
  code, with fixed timestamps and order, so the same installation always gives the same sha256.

Either way :func:`own_wheel` returns the wheel's bytes and its sha256.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import io
import os
import re
import shutil
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lmi_delivery import process
from lmi_delivery.errors import CommandFailed, OperationFailed

DIST_NAME = "lmi-delivery"
#: The files of a source tree a wheel is built from (and whose digest keys the cache).
SOURCE_FILES = ("pyproject.toml", "README.md")
PACKAGE = "lmi_delivery"
#: 1980-01-01, the earliest time a zip file can hold: wheels built here do not depend on when.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
SOURCE_DATE_EPOCH = "315532800"
#: How many built wheels (source digests) the cache keeps.
CACHE_KEEP = 5
_INSTALL_ONLY = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


@dataclass(frozen=True)
class Wheel:
    filename: str
    data: bytes
    origin: str
    """Where it came from, for messages: the source tree or the installed distribution."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def version(self) -> str:
        return self.filename.split("-")[1]


def own_wheel(environ: Mapping[str, str]) -> Wheel:
    """The wheel of the running lmi-delivery; ``environ`` is what ``pip wheel`` runs with."""
    import lmi_delivery

    package_dir = Path(lmi_delivery.__file__).resolve().parent
    root = package_dir.parent
    if is_source_tree(root):
        return built_wheel(root, environ)
    dist = owning_distribution(package_dir / "__init__.py")
    if dist is None:
        raise OperationFailed(f"cannot hand builds this lmi-delivery: {package_dir} is neither a "
                              "source tree nor part of an installed distribution")
    return repacked_wheel(dist)


def is_source_tree(root: Path) -> bool:
    """Whether ``root`` holds this project's ``pyproject.toml`` beside its package."""
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(project.get("project", {}).get("name") == DIST_NAME
                and (root / PACKAGE / "__init__.py").is_file())


def owning_distribution(module: Path) -> importlib.metadata.Distribution | None:
    """The installed lmi-delivery whose ``RECORD`` lists ``module`` (the running copy); a
    source tree's ``*.egg-info`` (no ``RECORD``: nothing installed it) is none."""
    target = module.resolve()
    relative = f"{PACKAGE}/{module.name}"
    for dist in importlib.metadata.distributions(name=DIST_NAME):
        if dist.read_text("RECORD") is None:
            continue
        listed = {str(f) for f in dist.files or ()}
        if relative in listed and Path(str(dist.locate_file(relative))).resolve() == target:
            return dist
    return None


# -- from a source tree -------------------------------------------------------------------------

def _source_files(root: Path) -> Iterator[tuple[str, Path]]:
    for name in SOURCE_FILES:
        if (root / name).is_file():
            yield name, root / name
    for directory, subdirs, names in os.walk(root / PACKAGE):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith((".pyc", ".pyo")):
                path = Path(directory) / name
                yield path.relative_to(root).as_posix(), path


def source_digest(root: Path) -> str:
    """sha256 over the names and contents of the files a wheel of ``root`` is built from."""
    digest = hashlib.sha256()
    for name, path in sorted(_source_files(root)):
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def cache_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/lmi-delivery`` (else ``~/.cache/lmi-delivery``)."""
    base = environ.get("XDG_CACHE_HOME") or (
        str(Path(environ["HOME"]) / ".cache") if environ.get("HOME") else tempfile.gettempdir())
    return Path(base) / "lmi-delivery"


def built_wheel(root: Path, environ: Mapping[str, str]) -> Wheel:
    """``pip wheel`` of ``root``, from the cache when its sources have not changed."""
    digest = source_digest(root)
    wheels = cache_dir(environ) / "wheels"
    entry = wheels / digest[:32]
    origin = f"the source tree {root}"
    found = sorted(entry.glob("*.whl")) if entry.is_dir() else []
    if len(found) == 1:
        return Wheel(found[0].name, found[0].read_bytes(), origin)
    shutil.rmtree(entry, ignore_errors=True)
    wheels.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-", dir=wheels) as scratch:
        source, out = Path(scratch) / "src", Path(scratch) / "out"
        for name, path in _source_files(root):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
        try:
            process.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                         "--disable-pip-version-check", "--wheel-dir", str(out), str(source)],
                        cwd=scratch, env={**environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
                        timeout=600)
        except CommandFailed as exc:
            raise OperationFailed(f"cannot build lmi-delivery's wheel from {root} (every build "
                                  f"is handed it): {exc}") from None
        [built] = sorted(out.glob("*.whl"))
        wheel = Wheel(built.name, built.read_bytes(), origin)
        staged = Path(scratch) / "entry"
        staged.mkdir()
        shutil.move(built, staged / built.name)
        with contextlib.suppress(OSError):  # cached by another process meanwhile: theirs stays
            staged.rename(entry)
    _prune(wheels)
    return wheel


def _prune(wheels: Path) -> None:
    entries = sorted((p for p in wheels.iterdir() if p.is_dir() and not p.name.startswith(
        "build-")), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[CACHE_KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


# -- from an installed distribution -------------------------------------------------------------

def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def repacked_wheel(dist: importlib.metadata.Distribution) -> Wheel:
    """The wheel of the installed ``dist``: its files as ``RECORD`` lists them, the files pip
    writes at install time (``INSTALLER``, ``direct_url.json``, scripts, bytecode) left out."""
    files: dict[str, bytes] = {}
    dist_info = ""
    top = set((dist.read_text("top_level.txt") or PACKAGE).split())
    for item in dist.files or ():
        name = str(item)
        parts = name.split("/")
        if "__pycache__" in parts or name.endswith((".pyc", ".pyo")):
            continue
        if parts[0].endswith(".dist-info"):
            dist_info = parts[0]
            if parts[-1] in _INSTALL_ONLY:
                continue
        elif parts[0] not in top:  # console scripts and anything else pip made at install
            continue
        files[name] = Path(str(dist.locate_file(item))).read_bytes()
    wheel_meta = files.get(f"{dist_info}/WHEEL", b"").decode("utf-8", "replace")
    tag = re.search(r"^Tag:\s*(\S+)\s*$", wheel_meta, re.MULTILINE)
    if not dist_info or tag is None:
        raise OperationFailed(f"the installed lmi-delivery at {dist.locate_file('')} has no "
                              "wheel metadata (dist-info WHEEL) to repack it from")
    record = f"{dist_info}/RECORD"
    lines = [f"{name},{_record_hash(data)},{len(data)}" for name, data in files.items()]
    files[record] = ("\n".join([*sorted(lines), f"{record},,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # The package first, the metadata last and RECORD at the very end, as wheels are laid.
        for name in sorted(files, key=lambda n: (n.startswith(dist_info), n == record, n)):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    filename = f"{dist_info.removesuffix('.dist-info')}-{tag.group(1)}.whl"
    return Wheel(filename, buffer.getvalue(), f"the installed distribution at "
                                               f"{dist.locate_file('')}")
