"""The lock of build dependencies follows pyproject, and the buildspecs install through it.

``lmi_delivery/data/build-requirements.txt`` pins, by version and sha256, everything a build's
lmi-delivery needs (pyproject's runtime dependencies and theirs). After changing those
dependencies, regenerate it with the command in its header.
"""

from __future__ import annotations

import re
import tomllib
import zipfile
from importlib.resources import files
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from lmi_delivery.selfdist import bootstrap

ROOT = Path(__file__).resolve().parents[3]
LOCK = files("lmi_delivery").joinpath("data", "build-requirements.txt").read_text("utf-8")


def pins() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of every requirement of the lock."""
    found = {}
    for block in re.split(r"\n(?=\S)", re.sub(r"\\\n", " ", LOCK)):
        line = block.split("#", 1)[0].strip()
        if not line:
            continue
        name, version = re.match(r"([A-Za-z0-9._-]+)==([^\s;]+)", line).groups()  # type: ignore[union-attr]
        found[canonicalize_name(name)] = (version, re.findall(r"--hash=sha256:([0-9a-f]{64})",
                                                              line))
    return found


def test_every_runtime_dependency_is_pinned_by_version_and_hash() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    locked = pins()
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is a dependency but not in the lock: " \
                               "regenerate it (the command is in its header)"
        assert Version(locked[name][0]) in requirement.specifier, \
            f"the lock pins {name}=={locked[name][0]}, outside pyproject's {spec!r}"
    assert all(hashes for _, hashes in locked.values()), "every pin carries its sha256"
    assert "lmi-delivery" not in locked


def test_the_bootstrap_installs_the_lock_and_the_wheel_each_by_its_hash(tmp_path: Path) -> None:
    wheel = tmp_path / "lmi_delivery-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(bootstrap.LOCK, LOCK)
    text = bootstrap.requirements(wheel, "ab" * 32)
    assert text.startswith(LOCK.rstrip())
    assert text.endswith(f"\nlmi-delivery @ {wheel.resolve().as_uri()} "
                         f"--hash=sha256:{'ab' * 32}\n")


def test_the_three_buildspecs_get_lmi_delivery_the_same_way() -> None:
    installs = [yaml.safe_load((ROOT / "buildspecs" / name).read_text("utf-8"))["phases"][
        "install"] for name in ("plan.yml", "apply.yml", "post-deploy.yml")]
    fetch = {phase["commands"][0] for phase in installs}
    assert len(fetch) == 1, "the install phases differ in how they fetch lmi-delivery"
    [program] = fetch
    assert 'read("lmi_delivery/selfdist/bootstrap.py")' in program
    assert program.index("digest(wheels[0]) != sha") < program.index("exec(")
    assert {phase["commands"][1] for phase in installs} == {
        'set -a && . .lmi-delivery/install.env && set +a && export PATH="$LMI_DELIVERY_BIN:$PATH"'}
    assert {tuple(phase["finally"]) for phase in installs} == {(
        "if [ -f .lmi-delivery/install.env ]; then set -a && . .lmi-delivery/install.env && "
        "set +a; fi",)}
    for name in ("plan.yml", "apply.yml", "post-deploy.yml"):
        text = (ROOT / "buildspecs" / name).read_text("utf-8")
        assert "LMI_DELIVERY_INSTALLED_SHA256" in text
        assert "pip install" not in text
