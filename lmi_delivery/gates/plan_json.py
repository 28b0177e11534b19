"""Reading ``terraform show -json PLANFILE`` (format 1.x) for the gates.

:func:`load` turns a file into a :class:`Plan`, refusing unreadable or malformed input with
``file:line:col``. A :class:`Plan` offers the resources the gates look at: each managed resource
that will exist after the apply (``resource_changes[].change.after`` of creates, updates,
replacements and no-ops; deletes are left out), each data source Terraform read (from
``prior_state`` or a plan-time read), and the ``configuration`` of any address, whose
``expressions`` keep the references values came from.

Blocks and ``= [{…}]`` attributes both appear as a list of objects (sometimes a bare object in
the wild): :func:`blocks` accepts all three shapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmi_delivery.errors import ConfigError

_INDEX = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class Resource:
    address: str
    type: str
    name: str
    mode: str
    """``managed`` or ``data``."""
    module: str = ""
    """``module.a.module.b`` (indexes removed) or ``""`` for the root module."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """What the resource will be after the apply (a data source: what was read)."""
    unknown: Mapping[str, Any] = field(default_factory=dict)
    """``after_unknown``: the attributes known only after the apply."""
    before: Mapping[str, Any] | None = None
    actions: tuple[str, ...] = ()

    @property
    def config_address(self) -> str:
        """The address in configuration: module and resource indexes removed."""
        return _INDEX.sub("", self.address)


@dataclass(frozen=True)
class Plan:
    data: Mapping[str, Any]
    path: str = ""

    def resources(self, *types: str) -> Iterator[Resource]:
        """Managed resources (created, updated, replaced or unchanged), then data sources."""
        seen: set[str] = set()
        for item in self.data.get("resource_changes") or []:
            change = item.get("change") or {}
            after = change.get("after")
            if not isinstance(after, Mapping) or item.get("mode") == "data":
                continue
            if types and item.get("type") not in types:
                continue
            seen.add(str(item.get("address")))
            yield _resource(item, after, change)
        for item in self._data_sources():
            if item.address not in seen and (not types or item.type in types):
                seen.add(item.address)
                yield item

    def changes(self, *types: str) -> Iterator[Resource]:
        """Every resource change (deletes included) of the given types."""
        for item in self.data.get("resource_changes") or []:
            if types and item.get("type") not in types:
                continue
            change = item.get("change") or {}
            after = change.get("after")
            yield _resource(item, after if isinstance(after, Mapping) else {}, change)

    def _data_sources(self) -> Iterator[Resource]:
        for item in self.data.get("resource_changes") or []:
            change = item.get("change") or {}
            if item.get("mode") == "data" and isinstance(change.get("after"), Mapping):
                yield _resource(item, change["after"], change)
        for key in ("prior_state", "planned_values"):
            root = ((self.data.get(key) or {}).get("values") or {}).get("root_module") or {}
            for item in _walk_modules(root):
                if item.get("mode") == "data":
                    yield _resource(item, item.get("values") or {}, {})

    def config(self, resource: Resource) -> Mapping[str, Any]:
        """The resource's ``configuration`` entry (``expressions``, ...), or ``{}``."""
        module = self.module_config(resource.module)
        local = resource.config_address.removeprefix(f"{resource.module}.") \
            if resource.module else resource.config_address
        for item in module.get("resources") or []:
            if item.get("address") == local:
                return dict(item)
        return {}

    def module_config(self, module: str) -> Mapping[str, Any]:
        """The ``configuration`` of ``module.a.module.b`` (``""``: the root module)."""
        current: Mapping[str, Any] = (self.data.get("configuration") or {}).get("root_module") \
            or {}
        for name in module.split(".")[1::2] if module else []:
            call = (current.get("module_calls") or {}).get(name) or {}
            current = call.get("module") or {}
        return current

    def references(self, resource: Resource, attribute: str) -> list[str]:
        """The references of one attribute's expression (nested blocks searched too)."""
        expressions = self.config(resource).get("expressions") or {}
        return sorted(set(references_in(expressions.get(attribute))))

    def all_references(self, resource: Resource) -> list[str]:
        return sorted(set(references_in(self.config(resource).get("expressions"))))


def _resource(item: Mapping[str, Any], after: Mapping[str, Any],
              change: Mapping[str, Any]) -> Resource:
    module = _INDEX.sub("", str(item.get("module_address") or ""))
    unknown = change.get("after_unknown")
    before = change.get("before")
    return Resource(
        address=str(item.get("address", "")),
        type=str(item.get("type", "")),
        name=str(item.get("name", "")),
        mode=str(item.get("mode", "managed")),
        module=module,
        values=after,
        unknown=unknown if isinstance(unknown, Mapping) else {},
        before=before if isinstance(before, Mapping) else None,
        actions=tuple(change.get("actions") or ()),
    )


def _walk_modules(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from module.get("resources") or []
    for child in module.get("child_modules") or []:
        yield from _walk_modules(child)


def references_in(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "references" and isinstance(value, list):
                yield from (str(v) for v in value)
            else:
                yield from references_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from references_in(value)


def blocks(value: Any) -> list[Mapping[str, Any]]:
    """A block, list of blocks or ``= [{…}]`` attribute as a list of mappings."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, Mapping)]
    return []


def first(value: Any) -> Mapping[str, Any]:
    found = blocks(value)
    return found[0] if found else {}


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def load(path: str | Path) -> Plan:
    """Read and parse a plan JSON file; errors point at ``file:line:col``."""
    file = str(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.at(file, "no such file (expected `terraform show -json` output)") \
            from None
    except UnicodeDecodeError as exc:
        raise ConfigError.at(file, f"is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError.at(file, f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError.at(file, f"malformed plan JSON: {exc.msg}",
                             line=exc.lineno, column=exc.colno) from None
    if not isinstance(data, dict):
        raise ConfigError.at(file, "a plan JSON document must be an object", line=1, column=1)
    version = str(data.get("format_version", ""))
    if not version.startswith("1."):
        raise ConfigError.at(file, f"unsupported plan format_version {version!r} "
                             "(expected 1.x from `terraform show -json PLANFILE`)")
    return Plan(data, file)
