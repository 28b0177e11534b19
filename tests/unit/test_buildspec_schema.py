"""The buildspec schema: well-formed, documented, closed; our buildspecs and the examples.

Every file under ``tests/data/buildspec/valid/`` must validate; every file under ``invalid/``
must not, and its first line ``# expect: <text>`` names a part of the error it must produce.

In the shared corpus of real buildspecs beside the repository (``../shared/corpus``, as in
CI), the ``real/`` files must validate and its ``real-invalid/`` ones must not; ``real-warn/``
holds files CodeBuild runs with a warning about keys it does not know: the schema refuses them,
as it refuses every unknown key (a misspelt key is almost always a mistake).
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import shared_corpus
import yaml
from jsonschema import Draft202012Validator
from schema_walk import subschemas

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "buildspec"
VALID = sorted((DATA / "valid").glob("*.yml"))
INVALID = sorted((DATA / "invalid").glob("*.yml"))
OURS = sorted((REPO / "buildspecs").glob("*.yml"))
SCHEMA: dict[str, Any] = json.loads(
    (files("lmi_delivery") / "schemas" / "buildspec.schema.json").read_text(encoding="utf-8"))
#: Objects that are maps with free keys (names chosen by the user), closed by their value schema.
MAPS = {"$.env.variables", "$.env.parameter-store", "$.env.secrets-manager", "$.reports",
        "$.phases.install.runtime-versions", "$.artifacts.secondary-artifacts"}


def _corpus(folder: str) -> list[Path]:
    return sorted((shared_corpus.corpus("buildspecs") / folder).glob("*.yml"))


def _errors(path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    validator = Draft202012Validator(SCHEMA)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]


def test_schema_is_valid_against_its_metaschema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_top_level_schemas_folder_holds_the_packaged_schema() -> None:
    on_disk = json.loads((REPO / "schemas" / "buildspec.schema.json").read_text())
    assert on_disk == SCHEMA


def test_every_property_is_described() -> None:
    walked = list(subschemas(SCHEMA, "$"))
    assert len(walked) > 80
    assert [where for where, sub in walked if not sub.get("description")] == []


def test_every_object_of_the_format_is_closed() -> None:
    loose = [where for where, sub in subschemas(SCHEMA, "$")
             if sub.get("type") == "object" and where not in MAPS
             and sub.get("additionalProperties") is not False
             and "propertyNames" not in sub]
    assert loose == []


@pytest.mark.parametrize("path", OURS, ids=[p.name for p in OURS])
def test_our_buildspecs_validate(path: Path) -> None:
    assert _errors(path) == []


def test_our_buildspecs_are_the_three_the_planner_names() -> None:
    from lmi_delivery.plan.planner import BUILDSPECS

    # The review project runs the plan buildspec: the mode, not the file, tells them apart.
    assert sorted(f"buildspecs/{p.name}" for p in OURS) == sorted(set(BUILDSPECS.values()))


@pytest.mark.parametrize("path", OURS, ids=[p.name for p in OURS])
def test_our_buildspecs_abort_on_failure_and_never_trace(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert {p.get("on-failure") for p in document["phases"].values()} == {"ABORT"}
    assert "set -x" not in path.read_text(encoding="utf-8")
    commands = [c for p in document["phases"].values() for c in p.get("commands", [])]
    assert not any(c.lstrip().startswith(("echo", "printenv", "env")) for c in commands)


@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_valid_examples_validate(path: Path) -> None:
    assert _errors(path) == []


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_invalid_examples_fail_with_the_expected_error(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: ...'"
    expected = first.removeprefix("# expect: ")
    errors = _errors(path)
    assert errors, f"{path.name} validated"
    assert any(expected in error for error in errors), errors


def test_the_examples_cover_the_usual_mistakes() -> None:
    names = {p.stem for p in INVALID}
    assert {"unknown-phase", "commands-a-mapping", "bad-on-failure", "missing-version",
            "exported-variable-not-a-string", "string-version-with-batch",
            "artifacts-without-files", "no-phases"} <= names
    assert {"batch-only", "single-strings", "version-0-1", "runtimes-and-reports"} <= {
        p.stem for p in VALID}


def test_every_real_buildspec_validates() -> None:
    found = {path.name: _errors(path) for path in _corpus("real")}
    assert len(found) >= 59
    assert {name: errors[:2] for name, errors in found.items() if errors} == {}


def test_every_real_buildspec_codebuild_refuses_is_refused() -> None:
    found = {path.name: _errors(path) for path in _corpus("real-invalid")}
    assert found
    assert [name for name, errors in found.items() if not errors] == []


def test_real_buildspecs_codebuild_warns_about_are_refused_for_their_unknown_keys() -> None:
    found = {path.name: _errors(path) for path in _corpus("real-warn")}
    assert found
    for name, errors in found.items():
        assert any("was unexpected" in error for error in errors), (name, errors)
