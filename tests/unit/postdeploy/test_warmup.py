"""``is_warmup``: recognises the warm-up payload and imports nothing outside the stdlib."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from lmi_delivery import warmup
from lmi_delivery.warmup import is_warmup, warmup_payload


def test_the_payload_lmi_delivery_sends_is_a_warmup() -> None:
    assert is_warmup(warmup_payload("run-1"))
    assert is_warmup(json.loads(json.dumps(warmup_payload("x"))))
    assert is_warmup({"lmi-delivery": {"warmup": True}, "other": 1})


@pytest.mark.parametrize("event", [
    None, "lmi-delivery", 1, [], {}, {"warmup": True}, {"lmi-delivery": True},
    {"lmi-delivery": {"warmup": "true"}}, {"lmi-delivery": {"warmup": 1}},
    {"lmi-delivery": {"warmup": False}}, {"lmi-delivery": {}},
    {"body": '{"lmi-delivery": {"warmup": true}}'},
])
def test_anything_else_is_not(event: object) -> None:
    assert is_warmup(event) is False


def test_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(warmup.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names)
