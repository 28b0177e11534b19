"""Whatever bytes a configuration file holds, ``load`` returns a Config or a located error.

Generated and mutated inputs: valid configurations with keys deleted, inserted or retyped, valid
files with bytes flipped, YAML-ish text and raw bytes. Every outcome must be a ``Config`` or an
``InputError`` whose every diagnostic has a ``file:line:col``; any other exception fails.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from config_helpers import BASE, make_repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmi_delivery.config import load
from lmi_delivery.config.model import Config
from lmi_delivery.errors import ConfigError, InputError

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [BASE, *(p.read_text() for p in [
    ROOT / "tests" / "data" / "config" / "valid" / "full.yml",
    ROOT / "examples" / "quickstart" / "lmi-delivery.yml",
])]
BASES: list[dict[str, Any]] = [yaml.safe_load(text) for text in SOURCES]
# More examples than the profile's (tests/conftest.py) for these fuzzers of the loader, the
# first line of every command: YAML has many corners (one of them: a %YAML directive).
SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("prop"), envs=("dev", "qa", "prod"))
    return root / "lmi-delivery.yml"


def check(target: Path, data: bytes) -> None:
    target.write_bytes(data)
    try:
        outcome: object = load(target)
    except InputError as error:  # anything else escapes and fails the test
        outcome = error
    if isinstance(outcome, ConfigError):
        located = re.compile(rf"^{re.escape(str(target))}:[1-9]\d*:[1-9]\d*: \S")
        bad = [str(d) for d in outcome.diagnostics if not located.match(str(d))]
        assert bad == []
    elif isinstance(outcome, InputError):
        assert str(outcome).startswith(str(target))
    else:
        assert isinstance(outcome, Config)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-20_000, 20_000), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["1.12.2", "{env}", "{bad", "rate(1 minute)",
                                           "shared", "dev", "main", "", "s3://b/p", "0755"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    config = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(config) if p]
        path = draw(st.sampled_from(paths))
        parent: Any = config
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["delete", "insert", "retype"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "insert" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["name", "min", "max", "typo", "apply", "branch",
                                         "scaling", "var_files", "x"]))] = draw(VALUES)
        else:
            parent[path[-1]] = draw(VALUES)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(config, Dumper=dumper, sort_keys=False, allow_unicode=True).encode()


@st.composite
def flipped(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SOURCES)).encode())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.sampled_from([*b":{}[]&*!<|>-?#'\"\t\n %@`,", 0, 0x80, 0xC3, 0xFF]))
        if action == "replace":
            data[at] = byte
        elif action == "insert":
            data.insert(at, byte)
        else:
            del data[at]
    return bytes(data)


YAMLISH = st.lists(st.sampled_from([
    "version", "service", "functions", "environments", ":", " ", "\n", "  ", "- ", "{", "}",
    "[", "]", ",", "&a", "*a", "<<", "!!str", "!x", "'", '"', "#", "?", "|", ">", "---", "...",
    "1", "0.5", "1.10", "true", "null", "~", "%YAML 1.1", "\t", "é", "\\u0000", "@", "`",
]), max_size=40).map(lambda parts: "".join(parts).encode())


@settings(SETTINGS, max_examples=350)
@given(data=mutated())
def test_mutated_configs(target: Path, data: bytes) -> None:
    check(target, data)


@settings(SETTINGS, max_examples=450)
@given(data=flipped())
def test_flipped_bytes(target: Path, data: bytes) -> None:
    check(target, data)


@settings(SETTINGS, max_examples=700)
@given(data=YAMLISH)
def test_yamlish_text(target: Path, data: bytes) -> None:
    check(target, data)


@settings(SETTINGS, max_examples=500)
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_arbitrary_bytes(target: Path, data: bytes) -> None:
    check(target, data)


DIRECTIVES = st.lists(st.one_of(
    st.builds("%YAML {}.{}".format, st.integers(0, 12), st.integers(0, 12)),
    st.sampled_from(["%YAML", "%YAML 1", "%YAML 1.2 x", "%TAG !s! tag:yaml.org,2002:",
                     "%TAG ! tag:x,2000:", "%FOO bar", "%", "# note", "---", "..."])),
    min_size=1, max_size=4).map("\n".join)


@given(directives=DIRECTIVES, source=st.sampled_from(SOURCES), start=st.booleans())
def test_yaml_directives(target: Path, directives: str, source: str, start: bool) -> None:
    check(target, f"{directives}\n{'---' if start else ''}\n{source}".encode())
