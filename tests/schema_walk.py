"""Walk a JSON Schema: every subschema that describes a property, a map value or a list item."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def subschemas(node: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON-path-like place, subschema) for every property, map value, list item and $defs."""
    if not isinstance(node, dict):
        return
    for name, sub in node.get("properties", {}).items():
        yield f"{where}.{name}", sub
        yield from subschemas(sub, f"{where}.{name}")
    for keyword in ("additionalProperties", "items"):
        sub = node.get(keyword)
        if isinstance(sub, dict):
            yield f"{where}[{keyword}]", sub
            yield from subschemas(sub, f"{where}[{keyword}]")
    for name, sub in node.get("$defs", {}).items():
        yield f"$defs.{name}", sub
        yield from subschemas(sub, f"$defs.{name}")
