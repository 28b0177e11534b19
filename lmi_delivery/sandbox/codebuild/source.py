"""A fresh working copy of a build's source, from a local directory.

The sandbox's convention: a project's ``source.location`` (or ``sourceLocationOverride``) is an
absolute path on this machine, optionally written ``file:///abs/path``. If that directory is a
git repository and the build has a source version, that commit's tree is extracted (a clone
checked out at it, with its history and an ``origin`` remote, as CodeBuild's git sources give;
``git archive`` of a subdirectory); otherwise the directory is copied as it is, without
``.git``, ``.venv*`` and ``.terraform``. The resolved source version is the full commit id when
git knows one.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path

SKIPPED = (".git", ".venv*", ".terraform")


class SourceError(Exception):
    """The source cannot be found or the version cannot be checked out."""


def local_path(location: str) -> Path:
    """The directory a project's source location names; raises :class:`SourceError`."""
    raw = location.removeprefix("file://")
    path = Path(raw)
    if not raw or not path.is_absolute():
        raise SourceError(f"source location {location!r} is not an absolute local path")
    if not path.is_dir():
        raise SourceError(f"source location {location!r} is not a directory")
    return path


def prepare(location: str, version: str | None, dest: Path,
            env: Mapping[str, str]) -> str | None:
    """Fill ``dest`` (which must not exist) with the source; return the resolved version."""
    origin = local_path(location)
    repo = _git_toplevel(origin, env)
    if repo is not None and version:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{version}^{{commit}}"], origin, env)
        if commit is None:
            raise SourceError(f"source version {version!r} is not a commit of {location}")
        _extract(origin, commit, dest, env)
        return commit
    # The working copy may be created inside the source directory (a source of /tmp, say):
    # never copy the destination into itself.
    destination = dest.resolve()

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if any(fnmatch.fnmatch(name, p) for p in SKIPPED)}
        here = Path(directory).resolve()
        return skipped | {n for n in names if destination.is_relative_to(here / n)}

    shutil.copytree(origin, dest, symlinks=True, ignore=ignore)
    return None if repo is None else _git(["rev-parse", "HEAD"], origin, env)


def _git_toplevel(path: Path, env: Mapping[str, str]) -> str | None:
    if shutil.which("git", path=env.get("PATH")) is None:
        return None
    return _git(["rev-parse", "--show-toplevel"], path, env)


def _git(args: list[str], cwd: Path, env: Mapping[str, str]) -> str | None:
    result = subprocess.run(["git", *args], cwd=cwd, env=dict(env), capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def _extract(origin: Path, commit: str, dest: Path, env: Mapping[str, str]) -> None:
    """Extract ``commit``'s tree of the directory ``origin`` (which may be a subdirectory)."""
    prefix = _git(["rev-parse", "--show-prefix"], origin, env) or ""
    if not prefix:
        # The repository itself: a clone at the commit, with its history and an ``origin``
        # remote, as CodeBuild's git sources give a build.
        for args in (["clone", "--quiet", "--no-checkout", str(origin), str(dest)],
                     ["-C", str(dest), "checkout", "--quiet", "--detach", commit]):
            result = subprocess.run(["git", *args], env=dict(env), capture_output=True,
                                    text=True, check=False, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                raise SourceError(f"git {args[0]} of {commit} failed in {origin}: "
                                  f"{result.stderr.strip()}")
        return
    dest.mkdir(parents=True)
    proc = subprocess.Popen(["git", "archive", "--format=tar", f"{commit}:{prefix}"], cwd=origin,
                            env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            archive.extractall(dest, filter="data")
    except tarfile.TarError as error:
        proc.kill()
        raise SourceError(f"cannot extract {commit} of {origin}: {error}") from None
    finally:
        stderr = proc.stderr.read().decode("utf-8", "replace")
        proc.wait()
    if proc.returncode != 0:
        raise SourceError(f"git archive {commit} failed in {origin}: {stderr.strip()}")
