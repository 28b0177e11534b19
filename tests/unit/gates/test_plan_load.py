"""Reading plan files as Terraform and its wrappers write them (plan_load) and refusing the
rest with the reason (plan_shape). The fixtures of tests/data/plans/shapes go through the CLI
in test_security_command; these are the edges."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from gates_helpers import change, plan_document

from lmi_delivery.errors import ConfigError
from lmi_delivery.gates.plan_json import Plan
from lmi_delivery.gates.plan_load import decode, load, parse

DOC = plan_document([change("aws_security_group.web", {"name": "web"})])
TEXT = json.dumps(DOC, indent=2)


@pytest.mark.parametrize(("raw", "why"), [
    (codecs.BOM_UTF8 + TEXT.encode(), "UTF-8 with a byte-order mark"),
    (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "UTF-16LE with a byte-order mark"),
    (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "UTF-16BE with a byte-order mark"),
    (TEXT.encode("utf-16-le"), "UTF-16LE without a byte-order mark"),
    (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "UTF-32 with a byte-order mark"),
    (TEXT.replace("\n", "\r\n").encode(), "CRLF line ends"),
])
def test_encodings_terraform_users_end_up_with(tmp_path: Path, raw: bytes, why: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(raw)
    assert load(path).data == DOC, why


def test_an_undecodable_file_names_the_byte() -> None:
    with pytest.raises(ConfigError, match=r"plan.json: is not UTF-8 text \(byte 2 cannot be "):
        decode(b'{"\xff"}', "plan.json")
    with pytest.raises(ConfigError, match=r"is not UTF-16 text \(byte 4 cannot be decoded\)"):
        decode(codecs.BOM_UTF16_LE + b"{\x00\x00\xdc", "plan.json")


def test_wrapper_lines_are_skipped_and_errors_keep_the_file_s_line_numbers() -> None:
    wrapped = ("[command]/opt/runner/_temp/terraform-bin show -json tfplan\n"
               "::debug::starting\n" + TEXT + "\n::debug::exitcode: 0\n"
               "::set-output name=exitcode::0\n")
    assert parse(wrapped, "plan.json") == DOC
    broken = "[command]terraform-bin show -json tfplan\n{\n  \"format_version\": }\n"
    with pytest.raises(ConfigError) as error:
        parse(broken, "plan.json")
    assert str(error.value).startswith("plan.json:3:21: malformed plan JSON: Expecting value")


def test_hand_written_plans_without_mode_or_name_are_read() -> None:
    plan = Plan({"format_version": "1.2", "resource_changes": [
        {"address": "module.net.aws_security_group.web", "type": "aws_security_group",
         "change": {"actions": ["create"], "before": None, "after": {"name": "web"}}}]})
    resource = next(plan.resources("aws_security_group"))
    assert (resource.mode, resource.name, resource.module) == ("managed", "web", "module.net")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["resource_changes"][0].__setitem__("mode", 1),
     "resource_changes[0].mode is a number, where Terraform writes a string"),
    (lambda d: d["resource_changes"][0]["change"].__setitem__("actions", []),
     "resource_changes[0].change.actions is a list, where Terraform writes a list of actions"),
    (lambda d: d["resource_changes"][0]["change"]["after"].__setitem__(
        "ingress", [{"from_port": "22"}]),
     "change.after.ingress[0].from_port is a string, where Terraform writes a number"),
    (lambda d: d.__setitem__("configuration", []), "configuration is a list, where Terraform "
     "writes an object"),
    (lambda d: d["planned_values"]["root_module"].__setitem__("resources", [7]),
     "planned_values.root_module.resources[0] is a number, where Terraform writes an object"),
])
def test_malformed_shapes_are_refused_by_json_path(edit: object, message: str) -> None:
    document = json.loads(json.dumps(DOC))
    edit(document)  # type: ignore[operator]  # a lambda
    with pytest.raises(ConfigError, match=r"plan\.json: ") as error:
        Plan(document, "plan.json")
    assert message in str(error.value)


def test_refusals_never_show_a_value() -> None:
    document = json.loads(json.dumps(DOC))
    document["resource_changes"][0]["change"]["after"]["ingress"] = "canary-Pa55w0rd"
    with pytest.raises(ConfigError) as error:
        Plan(document, "plan.json")
    assert "canary" not in str(error.value)
