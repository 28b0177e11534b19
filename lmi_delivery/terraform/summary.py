"""What a Terraform plan would do, from ``terraform show -json PLANFILE`` (format 1.x).

:func:`summarize` is pure: plan JSON in, :class:`PlanSummary` out. Each resource change is
classified once: ``create``, ``update``, ``delete``, ``replace`` (actions ``[delete, create]``
or ``[create, delete]``), ``forget`` or ``import`` (an import with nothing else to do).
No-ops and data-source reads are left out. Unlike Terraform's own line, a replacement is
counted only as a replacement, not also as an add and a destroy.

Resources of Lambda Managed Instances are called out: every ``aws_lambda_capacity_provider``
and every ``aws_lambda_function`` that has a ``capacity_provider_config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lmi_delivery.errors import InputError

CAPACITY_PROVIDER_TYPE = "aws_lambda_capacity_provider"
FUNCTION_TYPE = "aws_lambda_function"

_ACTIONS: dict[tuple[str, ...], str] = {
    ("create",): "create",
    ("update",): "update",
    ("delete",): "delete",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("forget",): "forget",
    ("no-op",): "no-op",
    ("read",): "read",
}


@dataclass
class Counts:
    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0
    forget: int = 0
    imports: int = 0

    def count(self, action: str, importing: bool) -> None:
        if importing:
            self.imports += 1
        attr = {"create": "add", "update": "change", "delete": "destroy",
                "replace": "replace", "forget": "forget"}.get(action)
        if attr is not None:
            setattr(self, attr, getattr(self, attr) + 1)

    @property
    def total(self) -> int:
        return self.add + self.change + self.destroy + self.replace + self.forget + self.imports

    def to_dict(self) -> dict[str, int]:
        return {"add": self.add, "change": self.change, "destroy": self.destroy,
                "replace": self.replace, "forget": self.forget, "import": self.imports}


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    action: str
    """``create``, ``update``, ``delete``, ``replace``, ``forget`` or ``import``."""
    importing: bool = False
    lmi: str | None = None
    """``"capacity_provider"`` or ``"function"`` for Lambda Managed Instances resources."""
    reason: str | None = None
    """Terraform's ``action_reason`` (e.g. why a replacement is needed), if any."""
    previous_address: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"address": self.address, "type": self.type, "action": self.action}
        for key in ("importing", "lmi", "reason", "previous_address"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


@dataclass(frozen=True)
class PlanSummary:
    counts: Counts
    by_type: Mapping[str, Counts]
    resources: tuple[ResourceChange, ...]
    outputs: Mapping[str, str] = field(default_factory=dict)
    """Output name → ``create``/``update``/``delete`` (values are never copied: they may be
    sensitive)."""
    errored: bool = False

    @property
    def add(self) -> int:
        return self.counts.add

    @property
    def change(self) -> int:
        return self.counts.change

    @property
    def destroy(self) -> int:
        return self.counts.destroy

    @property
    def replace(self) -> int:
        return self.counts.replace

    @property
    def lmi(self) -> tuple[ResourceChange, ...]:
        return tuple(r for r in self.resources if r.lmi)

    @property
    def has_changes(self) -> bool:
        return bool(self.resources or self.outputs)

    def by_address(self) -> dict[str, str]:
        return {r.address: r.action for r in self.resources}

    def text(self) -> str:
        """One line: ``Plan: 1 to add, 0 to change, 0 to destroy, 1 to replace.``"""
        if not self.has_changes:
            return "No changes."
        c = self.counts
        parts = [f"{c.imports} to import"] if c.imports else []
        parts += [f"{c.add} to add", f"{c.change} to change", f"{c.destroy} to destroy",
                  f"{c.replace} to replace"]
        if c.forget:
            parts.append(f"{c.forget} to forget")
        line = f"Plan: {', '.join(parts)}."
        if self.outputs:
            n = len(self.outputs)
            line += f" {n} output{'s' if n != 1 else ''} changed."
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text(),
            "has_changes": self.has_changes,
            "errored": self.errored,
            "counts": self.counts.to_dict(),
            "by_type": {t: c.to_dict() for t, c in sorted(self.by_type.items())},
            "resources": [r.to_dict() for r in self.resources],
            "lmi": [r.to_dict() for r in self.lmi],
            "outputs": dict(sorted(self.outputs.items())),
        }


def summarize(plan_json: Mapping[str, Any]) -> PlanSummary:
    """Summarize the JSON of a saved plan (``terraform show -json PLANFILE``)."""
    version = str(plan_json.get("format_version", ""))
    if not version.startswith("1."):
        raise InputError(f"unsupported plan JSON format_version {version!r} (expected 1.x)")
    counts = Counts()
    by_type: dict[str, Counts] = {}
    resources: list[ResourceChange] = []
    for item in plan_json.get("resource_changes") or []:
        change = _resource_change(item)
        if change is None:
            continue
        counts.count(change.action, change.importing)
        by_type.setdefault(change.type, Counts()).count(change.action, change.importing)
        resources.append(change)
    outputs: dict[str, str] = {}
    for name, item in (plan_json.get("output_changes") or {}).items():
        action = _classify(item.get("actions") or [], f"output {name}")
        if action not in ("no-op", "read"):
            outputs[name] = action
    return PlanSummary(
        counts=counts,
        by_type=by_type,
        resources=tuple(sorted(resources, key=lambda r: r.address)),
        outputs=outputs,
        errored=bool(plan_json.get("errored", False)),
    )


def _classify(actions: list[str], what: str) -> str:
    try:
        return _ACTIONS[tuple(actions)]
    except KeyError:
        raise InputError(f"unknown plan actions {actions!r} for {what}") from None


def _resource_change(item: Mapping[str, Any]) -> ResourceChange | None:
    address = str(item.get("address", ""))
    change: Mapping[str, Any] = item.get("change") or {}
    action = _classify(change.get("actions") or [], address)
    importing = bool(change.get("importing"))
    if action == "read" or (action == "no-op" and not importing):
        return None
    if action == "no-op":
        action = "import"
    rtype = str(item.get("type", ""))
    return ResourceChange(
        address=address,
        type=rtype,
        action=action,
        importing=importing,
        lmi=_lmi_kind(rtype, change),
        reason=item.get("action_reason"),
        previous_address=item.get("previous_address"),
    )


def _lmi_kind(rtype: str, change: Mapping[str, Any]) -> str | None:
    if rtype == CAPACITY_PROVIDER_TYPE:
        return "capacity_provider"
    if rtype != FUNCTION_TYPE:
        return None
    for side in ("after", "before", "after_unknown"):
        values = change.get(side)
        if isinstance(values, Mapping) and values.get("capacity_provider_config"):
            return "function"
    return None
