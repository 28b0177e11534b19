"""Install the orchestrator's lmi-delivery inside a build: the bootstrap in the wheel itself.

The buildspecs' install phase fetches the wheel, checks that its bytes hash to the sha256 the
orchestrator passed, and only then runs this file, read from inside that verified wheel, with
the image's ``python3``. It uses the standard library only (nothing is installed yet) and:

1. makes a virtualenv, ``<cache>/venvs/<sha256>-<python>`` (``<cache>`` is
   ``$LMI_DELIVERY_CACHE_DIR``, else ``~/.lmi-delivery``), unless one made from this very wheel
   is there (a build cache), holding a lock while it does;
2. installs into it, with pip's hash checking (``--require-hashes``, wheels only), the
   dependencies pinned by the lock file the wheel ships (``lmi_delivery/data/
   build-requirements.txt``) and the wheel itself by its sha256: from the team's index when
   ``LMI_DELIVERY_INDEX_URL`` is set, else from the index the image's pip is configured with.
   Nothing without a hash is installed, so no index can substitute a package;
3. runs ``lmi-delivery self-check`` of the new virtualenv: the version and the wheel sha256 the
   installation recorded must be the ones the orchestrator passed, else exit 3;
4. writes ``.lmi-delivery/install.env`` for the buildspec to source: ``LMI_DELIVERY_BIN``
   (put first on ``PATH``) and what ``self-check`` exports, or the refusal's
   ``LMI_VERDICT=refused`` and ``LMI_VERDICT_DETAIL``.

Exit codes: 3 refused (the check failed), 1 anything else that went wrong.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

REQUIRES_PYTHON = (3, 11)
LOCK = "lmi_delivery/data/build-requirements.txt"
READY = "lmi-delivery-ready.json"
OUT = Path(".lmi-delivery")
ENV_FILE = OUT / "install.env"
#: pip 22.3 is the first that installs into another interpreter's environment (--python).
PIP_WITH_PYTHON = (22, 3)


def fail(code: int, why: str) -> NoReturn:
    """Stop the build's install: exit 3 writes the refusal for CodeBuild's record."""
    if code == 3:
        OUT.mkdir(exist_ok=True)
        ENV_FILE.write_text(f"LMI_VERDICT=refused\nLMI_VERDICT_DETAIL={shlex.quote(why)}\n",
                            encoding="utf-8")
    print(("refused: " if code == 3 else "error: ") + why, file=sys.stderr, flush=True)
    raise SystemExit(code)


def _run(argv: Sequence[str], what: str) -> None:
    try:
        subprocess.run(list(argv), check=True, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as error:
        fail(1, f"{what}: {error}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build at a time makes a given virtualenv (builds of one host share a cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pip_version(python: str) -> tuple[int, ...]:
    try:
        out = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, check=True).stdout
        return tuple(int(part) for part in out.split()[1].split(".")[:2])
    except (OSError, subprocess.CalledProcessError, IndexError, ValueError):
        return ()


def _make_venv(venv: Path) -> list[str]:
    """An empty virtualenv at ``venv``; return the pip command that installs into it."""
    python = str(venv / "bin" / "python")
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)],
         f"cannot create a virtualenv with {sys.executable}")
    if _pip_version(sys.executable) >= PIP_WITH_PYTHON:
        return [sys.executable, "-m", "pip", "--python", python]
    _run([python, "-m", "ensurepip", "--default-pip"], "cannot install pip into the virtualenv")
    return [python, "-m", "pip"]


def requirements(wheel: Path, sha256: str) -> str:
    """The lock the wheel ships, and the wheel itself, each line pinned by its sha256."""
    with zipfile.ZipFile(wheel) as archive:
        lock = archive.read(LOCK).decode("utf-8")
    return f"{lock.rstrip()}\nlmi-delivery @ {wheel.resolve().as_uri()} --hash=sha256:{sha256}\n"


def install(venv: Path, wheel: Path, sha256: str, environ: Mapping[str, str]) -> None:
    """A fresh virtualenv at ``venv`` with the wheel and its locked dependencies."""
    shutil.rmtree(venv, ignore_errors=True)
    pip = _make_venv(venv)
    pinned = venv / "lmi-delivery-requirements.txt"
    pinned.write_text(requirements(wheel, sha256), encoding="utf-8")
    argv = [*pip, "install", "--quiet", "--no-input", "--no-compile",
            "--disable-pip-version-check", "--require-hashes", "--only-binary=:all:",
            "-r", str(pinned)]
    index = environ.get("LMI_DELIVERY_INDEX_URL", "")
    if index:
        argv += ["--index-url", index]
    _run(argv, "pip could not install lmi-delivery and its locked dependencies "
               f"({'from ' + index if index else 'from the image pip index'})")
    (venv / READY).write_text(json.dumps({"wheel": wheel.name, "wheel_sha256": sha256}) + "\n",
                              encoding="utf-8")


def ready(venv: Path, sha256: str) -> bool:
    """Whether ``venv`` was completely made from the wheel with ``sha256``."""
    try:
        record = json.loads((venv / READY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(record, dict) and record.get("wheel_sha256") == sha256
            and (venv / "bin" / "lmi-delivery").is_file())


def self_check(venv: Path, version: str, sha256: str) -> tuple[int, str]:
    """``lmi-delivery self-check`` of ``venv``: its exit code and what it exported."""
    exports = venv.parent / f"{venv.name}.{os.getpid()}.check.env"
    exports.unlink(missing_ok=True)
    try:
        code = subprocess.run([str(venv / "bin" / "lmi-delivery"), "self-check", "--version",
                               version, "--wheel-sha256", sha256, "--exports", str(exports)],
                              stdin=subprocess.DEVNULL, check=False).returncode
        text = exports.read_text(encoding="utf-8") if exports.is_file() else ""
    except OSError as error:
        fail(1, f"cannot run lmi-delivery self-check: {error}")
    finally:
        exports.unlink(missing_ok=True)
    return code, text


def main(wheel: str, sha256: str, environ: Mapping[str, str]) -> None:
    """Install the verified ``wheel`` and check it; see the module documentation."""
    if sys.version_info < REQUIRES_PYTHON:
        fail(1, f"lmi-delivery needs Python >= {'.'.join(map(str, REQUIRES_PYTHON))}; the "
                f"image's python3 ({sys.executable}) is {platform.python_version()}")
    version = environ.get("LMI_DELIVERY_VERSION", "")
    cache = Path(environ.get("LMI_DELIVERY_CACHE_DIR") or Path.home() / ".lmi-delivery")
    venv = cache / "venvs" / f"{sha256[:24]}-{sys.implementation.cache_tag}"
    with _locked(venv.parent / f"{venv.name}.lock"):
        if ready(venv, sha256):
            print(f"lmi-delivery: {venv} was made from this wheel (build cache)", flush=True)
        else:
            print(f"lmi-delivery: installing {Path(wheel).name} (sha256 {sha256}) and its "
                  f"locked dependencies into {venv}", flush=True)
            install(venv, Path(wheel), sha256, environ)
        code, exported = self_check(venv, version, sha256)
    OUT.mkdir(exist_ok=True)
    if code == 0:
        ENV_FILE.write_text(f"LMI_DELIVERY_BIN={shlex.quote(str(venv / 'bin'))}\n{exported}",
                            encoding="utf-8")
        return
    if code == 3:
        ENV_FILE.write_text(exported, encoding="utf-8")
        raise SystemExit(3)
    fail(1, f"lmi-delivery self-check exited {code}")
