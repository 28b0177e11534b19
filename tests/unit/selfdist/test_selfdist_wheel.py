"""The orchestrator's own wheel: built from a source tree (cached), or packed back from an
installed distribution, as ``pip install .`` (the Action) leaves it; and what pip records of it."""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from selfdist_helpers import this_wheel

from lmi_delivery.selfdist import bootstrap
from lmi_delivery.selfdist.wheel import (
    Wheel,
    built_wheel,
    is_source_tree,
    repacked_wheel,
    source_digest,
)

# One worker runs the module (pytest-xdist's loadgroup): the virtualenv with this wheel
# installed is made once.
pytestmark = pytest.mark.xdist_group("selfdist-wheel")

ROOT = Path(__file__).resolve().parents[3]


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _install(venv: Path, wheel: Path, sha256: str) -> Path:
    """``wheel`` (no dependencies) in a fresh virtualenv, hash-checked, as a build installs it."""
    pip = bootstrap._make_venv(venv)
    (venv / "req.txt").write_text(f"lmi-delivery @ {wheel.as_uri()} --hash=sha256:{sha256}\n")
    subprocess.run([*pip, "install", "--quiet", "--no-deps", "--no-compile", "--require-hashes",
                    "-r", str(venv / "req.txt")], check=True, capture_output=True,
                   env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
    [site] = (venv / "lib").glob("python*/site-packages")
    return site


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Wheel, Path, Path]:
    """This lmi-delivery's wheel, installed from its file into a virtualenv."""
    wheel = this_wheel()
    base = tmp_path_factory.mktemp("installed")
    (base / wheel.filename).write_bytes(wheel.data)
    venv = base / "venv"
    return wheel, venv, _install(venv, base / wheel.filename, wheel.sha256)


def _distribution(site: Path) -> importlib.metadata.Distribution:
    [dist] = importlib.metadata.distributions(name="lmi-delivery", path=[str(site)])
    return dist


def test_an_installed_distribution_is_packed_back_to_the_same_files(
        installed: tuple[Wheel, Path, Path]) -> None:
    wheel, _, site = installed
    repacked = repacked_wheel(_distribution(site))
    assert repacked.filename == wheel.filename
    original, again = _members(wheel.data), _members(repacked.data)
    record = next(n for n in again if n.endswith(".dist-info/RECORD"))
    assert {n: d for n, d in again.items() if n != record} == {
        n: d for n, d in original.items() if n != record}
    # Its RECORD describes exactly its files, each by its sha256 and size.
    lines = again[record].decode().splitlines()
    assert lines[-1] == f"{record},,"
    for line in lines[:-1]:
        name, digest, size = line.rsplit(",", 2)
        assert int(size) == len(again[name])
        assert digest.startswith("sha256=")
    assert not any("/bin/" in n or n.endswith((".pyc", "INSTALLER", "direct_url.json"))
                   for n in again)


def test_packing_back_twice_gives_the_same_bytes(installed: tuple[Wheel, Path, Path]) -> None:
    _, _, site = installed
    first, second = (repacked_wheel(_distribution(site)) for _ in range(2))
    assert first.data == second.data
    assert first.sha256 == hashlib.sha256(second.data).hexdigest()


def test_the_installed_copy_hands_builds_its_own_files_and_pip_recorded_its_hash(
        installed: tuple[Wheel, Path, Path]) -> None:
    """What the Action's ``pip install`` leaves: ``own_wheel`` packs the running code back, and
    ``installed()`` reads the sha256 pip checked the wheel against."""
    wheel, venv, site = installed
    script = ("import json, os; from lmi_delivery.selfdist.wheel import own_wheel; "
              "from lmi_delivery.selfdist.check import installed; w = own_wheel(dict(os.environ));"
              " i = installed(); print(json.dumps([w.filename, w.sha256, w.origin, i.version,"
              " i.wheel_sha256]))")
    out = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", script], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    filename, sha, origin, version, recorded = json.loads(out)
    assert (filename, sha) == (wheel.filename, repacked_wheel(_distribution(site)).sha256)
    assert origin.startswith("the installed distribution at ")
    assert (version, recorded) == (wheel.version, wheel.sha256)


def test_a_source_tree_is_recognised_and_its_digest_follows_its_files(tmp_path: Path) -> None:
    assert is_source_tree(ROOT)
    assert not is_source_tree(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "lmi-delivery"\n')
    (tmp_path / "README.md").write_text("readme\n")
    (tmp_path / "lmi_delivery" / "__pycache__").mkdir(parents=True)
    (tmp_path / "lmi_delivery" / "__init__.py").write_text("")
    assert is_source_tree(tmp_path)
    before = source_digest(tmp_path)
    (tmp_path / "lmi_delivery" / "__pycache__" / "x.pyc").write_bytes(b"bytecode")
    assert source_digest(tmp_path) == before, "bytecode is not source"
    (tmp_path / "README.md").write_text("readme, changed\n")  # it is the wheel's description
    assert source_digest(tmp_path) != before


def test_a_built_wheel_is_taken_from_the_cache_while_the_sources_are_unchanged(
        tmp_path: Path) -> None:
    (tmp_path / "src" / "lmi_delivery").mkdir(parents=True)
    (tmp_path / "src" / "pyproject.toml").write_text('[project]\nname = "lmi-delivery"\n')
    (tmp_path / "src" / "lmi_delivery" / "__init__.py").write_text("")
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    entry = (tmp_path / "cache" / "lmi-delivery" / "wheels"
             / source_digest(tmp_path / "src")[:32])
    entry.mkdir(parents=True)
    (entry / "lmi_delivery-0.1.0-py3-none-any.whl").write_bytes(b"cached")
    # A cache hit hands back the cached bytes: nothing is built (which would give a real wheel).
    wheel = built_wheel(tmp_path / "src", environ)
    assert (wheel.data, wheel.version) == (b"cached", "0.1.0")
