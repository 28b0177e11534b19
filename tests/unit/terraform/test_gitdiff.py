"""The change set of an event from real git repositories: a pull request and a push compared in
a clone with the whole history, and in the shallow clone ``actions/checkout`` makes by default
(``fetch-depth: 1``), where git cannot compare and every root runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from lmi_delivery.plan.changes import Change
from lmi_delivery.plan.context import CiContext
from lmi_delivery.terraform.gitdiff import change_range, changed_files

GIT = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
       "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
       "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
ENVIRON = {**os.environ, **GIT}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENVIRON, check=True, capture_output=True,
                          text=True).stdout.strip()


class Origin:
    """GitHub's copy of a repository with two roots: dev, a pull request changing one service
    root (its head and GitHub's test merge ``refs/pull/7/merge``), and a push of that merge."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        git(path, "init", "-q", "-b", "dev")
        self.write("platform/provider/main.tf", "# provider\n")
        self.write("services/orders/main.tf", "# orders\n")
        self.base = self.commit("the platform")
        git(path, "switch", "-q", "-c", "orders")
        self.write("services/orders/main.tf", "# orders, release 2\n")
        self.head = self.commit("orders: release 2")
        git(path, "switch", "-q", "--detach", "dev")
        git(path, "merge", "-q", "--no-ff", "-m", "test merge", "orders")
        self.merge = git(path, "rev-parse", "HEAD")
        git(path, "update-ref", "refs/pull/7/merge", self.merge)
        git(path, "switch", "-q", "dev")
        git(path, "merge", "-q", "--no-ff", "-m", "Merge pull request #7", "orders")
        self.pushed = git(path, "rev-parse", "HEAD")

    def write(self, name: str, text: str) -> None:
        (self.path / name).parent.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_text(text, encoding="utf-8")

    def commit(self, message: str) -> str:
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "-m", message)
        return git(self.path, "rev-parse", "HEAD")


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return Origin(tmp_path / "origin")


def checkout(origin: Origin, dest: Path, sha: str, *, depth: int) -> Path:
    """What actions/checkout@v4 runs for ``fetch-depth: depth``: with 1, only ``sha``, one
    commit deep; with 0, every branch and tag, then ``sha``."""
    dest.mkdir()
    git(dest, "init", "-q")
    git(dest, "remote", "add", "origin", f"file://{origin.path}")
    if depth == 0:
        git(dest, "fetch", "-q", "--prune", "origin", "+refs/heads/*:refs/remotes/origin/*",
            "+refs/tags/*:refs/tags/*")
        git(dest, "fetch", "-q", "origin", f"+{sha}:refs/remotes/origin/checked-out")
    else:
        git(dest, "fetch", "-q", "--no-tags", f"--depth={depth}", "origin",
            f"+{sha}:refs/remotes/origin/checked-out")
    git(dest, "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", sha)
    return dest


def pull_request(origin: Origin) -> CiContext:
    return CiContext(source="github", event="pull_request", ref="refs/pull/7/merge",
                     base_ref="dev", sha=origin.merge, head_sha=origin.head, pr_number=7,
                     payload={"pull_request": {"number": 7, "base": {"sha": origin.base},
                                               "head": {"sha": origin.head}}})


def push(origin: Origin) -> CiContext:
    return CiContext(source="github", event="push", ref="refs/heads/dev", sha=origin.pushed,
                     payload={"before": origin.base, "after": origin.pushed})


ORDERS = (Change("modified", "services/orders/main.tf"),)


def test_with_the_whole_history_a_pull_request_and_a_push_change_one_root(
        origin: Origin, tmp_path: Path) -> None:
    pr = checkout(origin, tmp_path / "pr", origin.merge, depth=0)
    span = change_range(pull_request(origin))
    assert span is not None
    assert changed_files(pr, span, ENVIRON) == ORDERS
    pushed = checkout(origin, tmp_path / "push", origin.pushed, depth=0)
    span = change_range(push(origin))
    assert span is not None
    assert changed_files(pushed, span, ENVIRON) == ORDERS


def test_in_a_shallow_clone_git_cannot_compare_and_the_change_set_is_unknown(
        origin: Origin, tmp_path: Path) -> None:
    for name, sha, context in (("pr", origin.merge, pull_request(origin)),
                               ("push", origin.pushed, push(origin))):
        clone = checkout(origin, tmp_path / name, sha, depth=1)
        assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
        span = change_range(context)
        assert span is not None
        # No change set (every root runs), never a partial one: the base is not in the clone.
        assert changed_files(clone, span, ENVIRON) is None, name
        # What fetch-depth: 0 gives the same clone: then git can say.
        git(clone, "fetch", "-q", "--unshallow", "origin", "+refs/heads/*:refs/remotes/origin/*")
        assert changed_files(clone, span, ENVIRON) == ORDERS, name


def test_a_real_shallow_clone_of_the_repository_is_shallow_too(origin: Origin,
                                                              tmp_path: Path) -> None:
    """``git clone --depth 1``, the other way a shallow checkout is made."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "dev", f"file://{origin.path}",
        str(clone))
    span = change_range(push(origin))
    assert span is not None
    assert changed_files(clone, span, ENVIRON) is None
    full = tmp_path / "full"
    git(tmp_path, "clone", "-q", "--branch", "dev", f"file://{origin.path}", str(full))
    assert changed_files(full, span, ENVIRON) == ORDERS
