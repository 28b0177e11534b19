"""Reading ``terraform show -json PLANFILE`` (formats 0.1, 0.2 and 1.x) for the gates.

:func:`~lmi_delivery.gates.plan_load.load` turns a file into a :class:`Plan`; a :class:`Plan`
checks its document on construction (:mod:`~lmi_delivery.gates.plan_shape`), so no rule meets
a shape it cannot read. A :class:`Plan` offers the resources the gates look at: each managed
resource that will exist after the apply (``resource_changes[].change.after`` of creates,
updates, replacements and no-ops; deletes are left out), each data source Terraform read (from
``prior_state``, ``planned_values`` or a plan-time read), and the ``configuration`` of any
address, whose ``expressions`` keep the references values came from.
:meth:`Plan.traced_references` follows references across module boundaries: a ``var.x`` inside
a module to what its module call sets ``x`` to, a ``module.m.out`` to that output's expression.

Blocks and ``= [{…}]`` attributes both appear as a list of objects (sometimes a bare object in
the wild): :func:`blocks` accepts all three shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmi_delivery.gates import plan_shape

_INDEX = re.compile(r"\[[^\]]*\]")
_MODULE_STEP = re.compile(r'module\.([\w-]+)((?:\[(?:"[^"]*"|[^\]"])*\])?)')
_MODULE_OUTPUT = re.compile(r'^module\.([\w-]+)((?:\[(?:"[^"]*"|[^\]"])*\])?)\.([\w-]+)')
_LEADING_MODULES = re.compile(r'^((?:module\.[\w-]+(?:\[(?:"[^"]*"|[^\]"])*\])?\.)*)')
#: (module instance, reference): ``("module.app[0]", "data.aws_vpc.default.id")``.
Reference = tuple[str, str]


@dataclass(frozen=True)
class Resource:
    address: str
    type: str
    name: str
    mode: str
    """``managed`` or ``data``."""
    module: str = ""
    """``module.a.module.b`` (indexes removed) or ``""`` for the root module."""
    module_instance: str = ""
    """``module.a[0].module.b`` (indexes kept) or ``""`` for the root module."""
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

    def __post_init__(self) -> None:
        plan_shape.check(self.data, self.path or "plan JSON")

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
        prior = ((self.data.get("prior_state") or {}).get("values") or {}).get("root_module")
        planned = (self.data.get("planned_values") or {}).get("root_module")
        for root in (prior or {}, planned or {}):
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

    def traced_references(self, resource: Resource,
                          attribute: str | None = None) -> set[Reference]:
        """Every reference an attribute's expression (all of them: ``None``) leads to, each
        with the module instance it is written in, through module variables and outputs."""
        expressions = self.config(resource).get("expressions") or {}
        node = expressions if attribute is None else expressions.get(attribute)
        return self.trace({(resource.module_instance, r) for r in references_in(node)})

    def trace(self, start: set[Reference]) -> set[Reference]:
        todo, seen = set(start), set[Reference]()
        while todo:
            instance, ref = todo.pop()
            if (instance, ref) in seen or len(seen) > 10_000:
                continue
            seen.add((instance, ref))
            if ref.startswith("var."):
                todo |= self._variable_sources(instance, ref.split(".")[1])
            elif (output := _MODULE_OUTPUT.match(ref)) is not None:
                name, index, out = output.groups()
                child = f"{instance}.module.{name}{index}" if instance \
                    else f"module.{name}{index}"
                outputs = self.module_config(_INDEX.sub("", child)).get("outputs") or {}
                expression = (outputs.get(out) or {}).get("expression")
                todo |= {(child, r) for r in references_in(expression)}
        return seen

    def _variable_sources(self, instance: str, variable: str) -> set[Reference]:
        steps = _MODULE_STEP.findall(instance)
        if not steps:
            return set()
        parent = ".".join(f"module.{n}{i}" for n, i in steps[:-1])
        call = (self.module_config(_INDEX.sub("", parent)).get("module_calls") or {}) \
            .get(steps[-1][0]) or {}
        expression = (call.get("expressions") or {}).get(variable)
        return {(parent, r) for r in references_in(expression)}


def _resource(item: Mapping[str, Any], after: Mapping[str, Any],
              change: Mapping[str, Any]) -> Resource:
    address = str(item.get("address", ""))
    instance = str(item.get("module_address") or "")
    if not instance and address.startswith("module."):  # hand-written plans leave it out
        leading = _LEADING_MODULES.match(address)
        instance = leading.group(1).rstrip(".") if leading else ""
    unknown = change.get("after_unknown")
    before = change.get("before")
    local = address.removeprefix(f"{instance}.") if instance else address
    return Resource(
        address=address,
        type=str(item.get("type", "")),
        name=str(item.get("name") or _INDEX.sub("", local).split(".")[-1]),
        mode=str(item.get("mode") or "managed"),
        module=_INDEX.sub("", instance),
        module_instance=instance,
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
    """Read a plan file (see :func:`lmi_delivery.gates.plan_load.load`)."""
    from lmi_delivery.gates import plan_load

    return plan_load.load(path)
