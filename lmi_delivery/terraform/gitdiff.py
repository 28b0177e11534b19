"""The change set of an event, read from the repository's own git history.

A pull request changes what its head adds since the merge base with its base commit
(``base...head``); a push changes what ``after`` adds to ``before`` (``before..after``); a merge
group what its head adds to its base. When the event names no base (a new branch, a dispatch, a
local run without ``--base``), or git cannot compare the two commits (a shallow clone, a forced
push that dropped ``before``), the answer is ``None``: no change set, and every root runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmi_delivery.plan.changes import Change, ChangeStatus
from lmi_delivery.plan.context import CiContext, is_null_sha

_STATUS: Mapping[str, ChangeStatus] = {"A": "added", "M": "modified", "D": "deleted",
                                       "R": "renamed", "C": "added", "T": "modified"}


@dataclass(frozen=True)
class ChangeRange:
    base: str
    head: str
    merge_base: bool
    """Compare with the merge base of the two (a pull request), not ``base`` itself."""

    def spec(self) -> str:
        return f"{self.base}...{self.head}" if self.merge_base else f"{self.base}..{self.head}"


def change_range(context: CiContext) -> ChangeRange | None:
    """What the event changed, as two commits; ``None`` when it names no base."""
    payload: Mapping[str, Any] = context.payload
    head = context.commit
    if not head:
        return None
    base: object = None
    if context.is_pull_request:
        pr = payload.get("pull_request")
        base = pr.get("base", {}).get("sha") if isinstance(pr, Mapping) else None
        return _range(base, head, merge_base=True)
    if context.event == "merge_group":
        group = payload.get("merge_group")
        base = group.get("base_sha") if isinstance(group, Mapping) else None
    elif context.event == "push":
        base = payload.get("before")
    return _range(base, head, merge_base=False)


def _range(base: object, head: str, *, merge_base: bool) -> ChangeRange | None:
    if not isinstance(base, str) or not base or is_null_sha(base):
        return None
    return ChangeRange(base, head, merge_base)


def parse_name_status(output: str) -> tuple[Change, ...]:
    """``git diff --name-status -z`` output as changes."""
    fields = output.split("\0")
    found: list[Change] = []
    i = 0
    while i < len(fields) and fields[i]:
        code = fields[i][0]
        if code in "RC" and i + 2 < len(fields):
            old, new = fields[i + 1], fields[i + 2]
            found.append(Change(_STATUS[code], new, old_path=old if code == "R" else None))
            i += 3
            continue
        if i + 1 >= len(fields):
            break
        found.append(Change(_STATUS.get(code, "modified"), fields[i + 1]))
        i += 2
    return tuple(found)


def changed_files(repo: Path, span: ChangeRange,
                  environ: Mapping[str, str]) -> tuple[Change, ...] | None:
    """The changes of ``span`` in the git repository at ``repo``; ``None`` when git cannot say."""
    argv = ["git", "-C", str(repo), "diff", "--no-ext-diff", "--no-textconv", "--name-status",
            "-z", "-M", "--relative", span.spec(), "--"]
    try:
        result = subprocess.run(argv, env=dict(environ), capture_output=True, text=True,
                                check=False, stdin=subprocess.DEVNULL, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return parse_name_status(result.stdout)
