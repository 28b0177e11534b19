"""IAM policy documents compared by meaning, not by bytes.

AWS hands a document back in whatever form it was written, or reformatted (a one-element list
as a string, keys reordered, ``Statement`` as an object); :func:`normalize` makes both sides
comparable, and :func:`differences` says, statement by statement (by ``Sid``), what the deployed
document has that the rendering has not, and the reverse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Normalized = dict[str, dict[str, Any]]
#: Keys whose value may be one string or a list of them.
_LISTS = ("Action", "NotAction", "Resource", "NotResource")


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _condition(block: Any) -> Any:
    if not isinstance(block, Mapping):
        return block
    return {op: ({key: sorted(str(v) for v in _as_list(val)) for key, val in values.items()}
                 if isinstance(values, Mapping) else values)
            for op, values in block.items()}


def _principal(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {kind: sorted(str(v) for v in _as_list(who)) for kind, who in value.items()}


def _statement(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        return {"?": raw}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _LISTS:
            out[key] = sorted({str(v) for v in _as_list(value)})
        elif key == "Condition":
            out[key] = _condition(value)
        elif key in ("Principal", "NotPrincipal"):
            out[key] = _principal(value)
        elif key != "Sid":
            out[key] = value
    return out


def parse(document: str | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A document as a mapping: AWS answers some as JSON text (bucket policies), some decoded."""
    if document is None or isinstance(document, Mapping):
        return document
    try:
        parsed = json.loads(document)
    except ValueError:
        return None
    return parsed if isinstance(parsed, Mapping) else None


def normalize(document: str | Mapping[str, Any] | None) -> Normalized:
    """Each statement by its ``Sid`` (``#N`` for one without), in a canonical form."""
    parsed = parse(document) or {}
    statements = _as_list(parsed.get("Statement", []))
    found: Normalized = {}
    for index, raw in enumerate(statements):
        sid = raw.get("Sid") if isinstance(raw, Mapping) else None
        found[str(sid) if sid else f"#{index}"] = _statement(raw)
    return found


def _delta(name: str, deployed: Any, rendered: Any) -> str | None:
    if deployed == rendered:
        return None
    if isinstance(deployed, list) and isinstance(rendered, list):
        added = [v for v in deployed if v not in rendered]
        removed = [v for v in rendered if v not in deployed]
        parts = ([f"+{', '.join(added)}"] if added else []) + (
            [f"-{', '.join(removed)}"] if removed else [])
        return f"{name} {' '.join(parts)}"
    return f"{name} {json.dumps(deployed, sort_keys=True)} instead of " \
           f"{json.dumps(rendered, sort_keys=True)}"


def differences(deployed: str | Mapping[str, Any] | None,
                rendered: str | Mapping[str, Any]) -> list[str]:
    """What differs, one phrase per statement; empty when the documents mean the same."""
    have, want = normalize(deployed), normalize(rendered)
    found: list[str] = []
    for sid in sorted(have.keys() - want.keys()):
        found.append(f"statement {sid} is not in the rendering "
                     f"({json.dumps(have[sid], sort_keys=True)})")
    for sid in sorted(want.keys() - have.keys()):
        found.append(f"statement {sid} is missing")
    for sid in sorted(have.keys() & want.keys()):
        keys = sorted(have[sid].keys() | want[sid].keys())
        deltas = [d for key in keys
                  if (d := _delta(key, have[sid].get(key), want[sid].get(key)))]
        if deltas:
            found.append(f"statement {sid}: {'; '.join(deltas)}")
    return found
