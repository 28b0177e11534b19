"""Validation of a loaded document against the packaged JSON Schema, with human messages.

Every schema error becomes one :class:`Diagnostic` at the node it is about: an unknown key points
at the key itself (with a "did you mean" when a known key is close), everything else at the value.
For ``oneOf``/``anyOf`` the best-matching branch's error is reported, as check-jsonschema does.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

# jsonschema ships no type hints and types-jsonschema is not among the dev dependencies.
from jsonschema import Draft202012Validator
from jsonschema.exceptions import (
    ValidationError,
    best_match,
)

from lmi_delivery.config.yamlpos import Document, PathKey, dotted
from lmi_delivery.errors import Diagnostic, Location

SCHEMA_NAME = "lmi-delivery.schema.json"

_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}


@cache
def load_schema() -> dict[str, Any]:
    """The configuration schema, read from the package data."""
    text = (files("lmi_delivery") / "schemas" / SCHEMA_NAME).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(document: Document, schema: Mapping[str, Any] | None = None) -> list[Diagnostic]:
    """Every error of ``document`` against ``schema`` (default: the packaged one), deduplicated."""
    validator = _validator() if schema is None else Draft202012Validator(
        schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    found: dict[tuple[Location, str, str], Diagnostic] = {}
    for error in validator.iter_errors(document.value):
        for diagnostic in _diagnostics(error, document):
            key = (diagnostic.location, diagnostic.message, diagnostic.path)
            found.setdefault(key, diagnostic)
    return sorted(found.values())


#: Where the config holds references to secrets; values found there are never echoed.
SECRET_REFERENCES: PathKey = ("codebuild", "secrets")


def describe(value: object) -> str:
    """A short, human rendering of a value and its type: ``string '3'``, ``integer 3``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"string {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def suggest(word: str, candidates: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or nothing."""
    if len(word) > 100:  # no typo is that long, and difflib is quadratic
        return ""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _diagnostics(error: ValidationError, document: Document) -> Iterator[Diagnostic]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        chosen = best_match([error])
        if chosen is not None and chosen is not error:
            yield from _diagnostics(chosen, document)
            return
        yield _at(document, tuple(error.absolute_path), _no_branch(error))
        return
    path: PathKey = tuple(error.absolute_path)
    if path[:2] == SECRET_REFERENCES and len(path) > 2:
        # A value here may be a secret pasted by mistake: say what is wrong, never echo it.
        yield _at(document, path, "expected a reference (ssm:/parameter/name or "
                                  "secretsmanager:name-or-arn); the value is not shown")
        return
    if len(path) == 3 and path[0] == "notifications" and path[2] == "url":
        # A webhook URL is a secret (whoever has it can post): never echo it, not even here.
        yield _at(document, path, "expected a reference to the webhook URL (ssm:/parameter/name "
                                  "or secretsmanager:name-or-arn), never the URL itself; the "
                                  "value is not shown")
        return
    if "propertyNames" in error.schema_path:
        name = str(error.instance)
        at = (*path, name)
        hint = error.schema.get("x-hint", "a valid name") if isinstance(error.schema, dict) else ""
        yield _at(document, at, f"invalid name {name!r}: expected {hint}", key=True)
        return
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        known = sorted(props)
        for name in error.instance:
            if name not in known:
                message = f"unknown key {name!r}{suggest(name, known)}"
                yield _at(document, (*path, name), message, key=True)
        return
    if error.validator == "uniqueItems" and isinstance(error.instance, list):
        seen: list[object] = []
        for index, item in enumerate(error.instance):
            if item in seen:
                yield _at(document, (*path, index), f"duplicate item {describe(item)} in the list")
            seen.append(item)
        return
    yield _at(document, path, _message(error))


def _no_branch(error: ValidationError) -> str:
    """Message for a ``oneOf``/``anyOf`` none of whose branches comes close."""
    if all(e.validator == "type" for e in error.context):
        names = [_TYPE_NAMES.get(str(e.validator_value), str(e.validator_value))
                 for e in error.context]
        return f"expected {' or '.join(names)}, got {describe(error.instance)}"
    return f"{describe(error.instance)} matches none of the allowed forms"


def _message(error: ValidationError) -> str:
    kind = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    hint = schema.get("x-hint")
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        expected = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in types)
        return f"expected {expected}, got {describe(instance)}"
    if kind == "required" and isinstance(instance, dict):
        missing = [k for k in value if k not in instance]
        return f"missing required key {missing[0]!r}" if missing else error.message
    if kind == "enum":
        options = ", ".join(repr(v) for v in value)
        extra = suggest(instance, [str(v) for v in value]) if isinstance(instance, str) else ""
        return f"expected one of {options}, got {describe(instance)}{extra}"
    if kind == "const":
        return f"expected {value!r}, got {describe(instance)}"
    if kind in ("pattern", "format"):
        wanted = hint or (f"a string matching {value}" if kind == "pattern" else f"a {value}")
        return f"expected {wanted}, got {describe(instance)}"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"expected at least {value}, got {describe(instance)}"
    if kind in ("maximum", "exclusiveMaximum"):
        return f"expected at most {value}, got {describe(instance)}"
    if kind == "minLength":
        return "must not be empty" if value == 1 else f"expected at least {value} characters"
    if kind == "maxLength":
        return f"expected at most {value} characters, got {len(instance)}"
    if kind == "minProperties":
        return "must have at least one entry"
    return str(error.message)


def _at(document: Document, path: PathKey, message: str, *, key: bool = False) -> Diagnostic:
    return Diagnostic(_location(document, path, key=key), message, dotted(path))


def _location(document: Document, path: PathKey, *, key: bool = False) -> Location:
    if key and path in document.key_locations:
        return document.key_locations[path]
    probe = path
    while probe:
        if probe in document.locations:
            return document.locations[probe]
        probe = probe[:-1]
    return document.locations.get((), Location("", 1, 1))
