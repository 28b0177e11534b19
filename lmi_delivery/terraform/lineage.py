"""What git can prove about a commit inside a build: the branch's head, and ancestry.

The apply build applies a commit only when it is the head of the environment's branch and does
not go back behind the last applied commit. Both facts come from the build's own checkout (a
CodeBuild git source is a clone with an ``origin`` remote), never from a claim of the
orchestrator. When git cannot tell, the answer is ``None`` and the caller refuses.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def _git(root: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(root), *args], env=dict(env), capture_output=True,
                          text=True, check=False, stdin=subprocess.DEVNULL, timeout=120)


def branch_head(root: Path, branch: str, env: Mapping[str, str]) -> str | None:
    """The commit ``origin``'s ``branch`` points to now, or None when git cannot say."""
    try:
        result = _git(root, env, "ls-remote", "--heads", "origin", f"refs/heads/{branch}")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    for line in result.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.strip() == f"refs/heads/{branch}":
            return sha.strip().lower()
    return None


def is_ancestor(root: Path, older: str, newer: str, env: Mapping[str, str]) -> bool | None:
    """Whether ``older`` is an ancestor of (or equal to) ``newer``; None when unknown."""
    try:
        if _git(root, env, "cat-file", "-e", f"{older}^{{commit}}").returncode != 0:
            _git(root, env, "fetch", "--quiet", "origin", older)
        result = _git(root, env, "merge-base", "--is-ancestor", older, newer)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode in (0, 1):
        return result.returncode == 0
    return None
