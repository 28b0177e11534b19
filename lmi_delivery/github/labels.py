"""The labels a plan puts on its pull request: ``lmi:<env>:changes``, ``lmi:<env>:no-changes``
and ``lmi:<env>:destroy`` (with ``changes``, when the plan destroys or replaces anything).

:func:`sync` creates the labels it needs in the repository when they are missing, adds the ones
this plan calls for and removes the environment's others: a push that drops the destroy leaves
no stale ``destroy`` label. Labels of other environments and anyone's other labels are never
touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from lmi_delivery.github.rest import GithubApiError

KINDS = ("changes", "no-changes", "destroy")
_LOOK = {"changes": ("fbca04", "lmi-delivery: the plan of {env} changes something"),
         "no-changes": ("0e8a16", "lmi-delivery: the plan of {env} has no changes"),
         "destroy": ("d93f0b", "lmi-delivery: the plan of {env} destroys or replaces resources")}


class LabelsApi(Protocol):
    def list_labels(self, repo: str) -> list[dict[str, Any]]: ...

    def create_label(self, repo: str, name: str, color: str, description: str) -> None: ...

    def list_issue_labels(self, repo: str, number: int) -> list[dict[str, Any]]: ...

    def add_issue_labels(self, repo: str, number: int, names: list[str]) -> None: ...

    def remove_issue_label(self, repo: str, number: int, name: str) -> None: ...


def name(environment: str, kind: str) -> str:
    return f"lmi:{environment}:{kind}"


def wanted(environment: str, has_changes: bool, destroys: int) -> list[str]:
    """The environment's labels for a plan."""
    if not has_changes:
        return [name(environment, "no-changes")]
    kinds = ["changes", "destroy"] if destroys else ["changes"]
    return [name(environment, k) for k in kinds]


@dataclass(frozen=True)
class Synced:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    created: tuple[str, ...]


def _names(items: list[dict[str, Any]]) -> set[str]:
    return {str(i.get("name")) for i in items if isinstance(i, dict)}


def sync(api: LabelsApi, repo: str, number: int, environment: str,
         labels: list[str]) -> Synced:
    """Make the environment's labels on pull request ``number`` exactly ``labels``."""
    ours = {name(environment, k) for k in KINDS}
    if not set(labels) <= ours:
        raise ValueError(f"{sorted(set(labels) - ours)} are not labels of {environment}")
    created = []
    existing = _names(api.list_labels(repo))
    for label in labels:
        if label not in existing:
            color, description = _LOOK[label.rsplit(":", 1)[1]]
            try:
                api.create_label(repo, label, color, description.format(env=environment))
            except GithubApiError as exc:
                if exc.status != 422:  # 422: another job created it meanwhile
                    raise
            created.append(label)
    present = _names(api.list_issue_labels(repo, number))
    add = [label for label in labels if label not in present]
    remove = sorted((present & ours) - set(labels))
    if add:
        api.add_issue_labels(repo, number, add)
    for label in remove:
        try:
            api.remove_issue_label(repo, number, label)
        except GithubApiError as exc:
            if exc.status != 404:  # 404: already gone
                raise
    return Synced(tuple(add), tuple(remove), tuple(created))
