"""The packaged schema: well-formed, documented, in step with the model, and its messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs
from schema_walk import subschemas

from lmi_delivery.config import builder, model
from lmi_delivery.config.schema import describe, load_schema, validate
from lmi_delivery.config.yamlpos import parse

REPO = Path(__file__).resolve().parents[3]


def test_schema_is_valid_against_its_metaschema() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/lmi-delivery.schema.json")
    Draft202012Validator.check_schema(schema)


def test_top_level_schemas_folder_holds_the_packaged_schema() -> None:
    on_disk = json.loads((REPO / "schemas" / "lmi-delivery.schema.json").read_text())
    assert on_disk == load_schema()


def test_every_property_has_a_description() -> None:
    walked = list(subschemas(load_schema(), "$"))
    assert len(walked) > 60
    missing = [where for where, sub in walked if not sub.get("description")]
    assert missing == []


def test_every_object_refuses_unknown_keys() -> None:
    loose = [where for where, sub in subschemas(load_schema(), "$")
             if "object" in sub.get("type", []) and sub.get("additionalProperties") is True]
    assert loose == []
    objects = [sub for _, sub in subschemas(load_schema(), "$") if sub.get("type") == "object"]
    assert all("additionalProperties" in sub for sub in objects)


def _prop(*path: str) -> dict[str, Any]:
    node = load_schema()
    for part in path:
        node = node["additionalProperties"] if part == "*" else node["properties"][part]
    return node


@pytest.mark.parametrize(("path", "expected"), [
    (("naming",), builder.DEFAULT_NAMING),
    (("terraform", "version"), builder.DEFAULT_TERRAFORM_VERSION),
    (("codebuild", "projects"), dict(builder.DEFAULT_PROJECTS)),
    (("codebuild", "projects", "plan"), builder.DEFAULT_PROJECTS["plan"]),
    (("codebuild", "projects", "post_deploy"), builder.DEFAULT_PROJECTS["post_deploy"]),
    (("codebuild", "timeout_minutes"), model.CodeBuildSettings.timeout_minutes),
    (("codebuild", "queued_timeout_minutes"), model.CodeBuildSettings.queued_timeout_minutes),
    (("codebuild", "poll_interval_seconds"), model.CodeBuildSettings.poll_interval_seconds),
    (("codebuild", "lmi_delivery"), model.CodeBuildSettings.lmi_delivery),
    (("environments", "*", "apply"), model.Environment.apply),
    (("environments", "*", "require_distinct_approver"),
     model.Environment.require_distinct_approver),
    (("functions", "*", "alias"), model.Function.alias),
    (("functions", "*", "warm", "concurrency"), model.Warm.concurrency),
    (("post_deploy", "steps"), list(model.DEFAULT_POST_DEPLOY_STEPS)),
    (("post_deploy", "prune", "keep"), model.PostDeploy.prune_keep),
    (("gates", "security", "enabled"), model.SecurityGate.enabled),
    (("gates", "security", "fail_on"), model.SecurityGate.fail_on),
    (("gates", "security", "require_kms"), model.SecurityGate.require_kms),
    (("gates", "validation", "enabled"), model.ValidationGate.enabled),
    (("gates", "validation", "fmt"), model.ValidationGate.fmt),
])
def test_schema_defaults_are_the_models_defaults(path: tuple[str, ...], expected: object) -> None:
    assert _prop(*path)["default"] == expected


def test_enums_match_the_model_literals() -> None:
    assert _prop("environments", "*", "apply")["enum"] == list(model.ApplyMode.__args__)
    assert _prop("gates", "security", "fail_on")["enum"] == list(model.Severity.__args__)
    steps = _prop("post_deploy", "steps")["items"]["enum"]
    assert steps == list(model.PostDeployStep.__args__)


def messages(text: str, schema: dict[str, Any] | None = None) -> list[str]:
    return [str(d) for d in validate(parse(text, "c.yml"), schema)]


BASE = """\
version: 1
service: shop
region: us-east-1
terraform: {working_directory: tf}
codebuild: {artifacts: s3://bucket/prefix}
environments:
  dev: {branch: dev}
"""


def test_a_valid_document_has_no_errors() -> None:
    assert messages(BASE) == []


def test_every_error_is_reported_with_its_position_and_path() -> None:
    text = BASE.replace("version: 1", "version: '1'").replace("{branch: dev}",
                                                               "{branch: dev, aply: auto}")
    text += "functions:\n  f:\n    scaling: {min: -1, max: many}\n"
    assert messages(text) == [
        "c.yml:1:10: expected 1, got string '1' (at version)",
        "c.yml:7:22: unknown key 'aply'; did you mean 'apply'? (at environments.dev.aply)",
        "c.yml:10:20: expected at least 0, got integer -1 (at functions.f.scaling.min)",
        "c.yml:10:29: expected an integer, got string 'many' (at functions.f.scaling.max)",
    ]


def test_unknown_keys_without_a_close_match_get_no_suggestion() -> None:
    assert messages(BASE + "zzz: 1\n") == ["c.yml:8:1: unknown key 'zzz' (at zzz)"]


def test_several_unknown_keys_in_one_mapping_are_each_reported() -> None:
    assert messages(BASE + "colour: 1\nflavour: 2\n") == [
        "c.yml:8:1: unknown key 'colour' (at colour)",
        "c.yml:9:1: unknown key 'flavour' (at flavour)",
    ]


def test_one_of_reports_the_best_matching_branch() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"oneOf": [
            {"type": "object", "properties": {"min": {"type": "integer"}}, "required": ["min"]},
            {"type": "string", "pattern": "^auto$"},
        ]}},
    }
    assert messages("n: {min: x}\n", schema) == [
        "c.yml:1:10: expected an integer, got string 'x' (at n.min)"
    ]


def test_any_of_with_type_errors_picks_a_branch() -> None:
    schema = {"properties": {"n": {"anyOf": [{"type": "integer"}, {"type": "boolean"}]}}}
    (found,) = messages("n: [1]\n", schema)
    assert found.startswith("c.yml:1:4: expected ")
    assert found.endswith(", got a list (at n)")


@pytest.mark.parametrize(("value", "shown"), [
    (None, "nothing"), (True, "boolean true"), (3, "integer 3"), (2.5, "number 2.5"),
    ("3", "string '3'"), ({}, "a mapping"), ([], "a list"), ("x" * 100, "string '" + "x" * 57),
])
def test_describe_is_human(value: object, shown: str) -> None:
    assert describe(value).startswith(shown)
