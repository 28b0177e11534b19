"""Policy documents rebuilt from the parts of ``data.aws_iam_policy_document`` known at plan
time, merged as the AWS provider merges them."""

from __future__ import annotations

import json

from lmi_delivery.gates.iam_documents import from_data_source, from_json
from lmi_delivery.gates.plan_json import Resource


def _doc(values: dict[str, object], unknown: dict[str, object] | None = None) -> Resource:
    return Resource("data.aws_iam_policy_document.d", "aws_iam_policy_document", "d", "data",
                    values=values, unknown={"json": True, **(unknown or {})})


def _policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_known_json_wins_over_the_parts() -> None:
    read = from_data_source(Resource(
        "data.aws_iam_policy_document.d", "aws_iam_policy_document", "d", "data",
        values={"json": _policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
                "statement": [{"actions": ["*"]}]}))
    assert [s.actions for s in read.statements] == [("s3:GetObject",)]


def test_statements_replace_sources_and_overrides_replace_both_by_sid() -> None:
    source = _policy({"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"},
                     {"Sid": "B", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    override = _policy({"Sid": "B", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                       {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})
    read = from_data_source(_doc({
        "source_policy_documents": [source], "override_policy_documents": [override],
        "statement": [{"sid": "A", "actions": ["logs:PutLogEvents"], "resources": [None]}]}))
    assert [(s.sid, s.actions) for s in read.statements] == [
        ("A", ("logs:PutLogEvents",)), ("B", ("s3:*",)), ("", ("sqs:SendMessage",))]
    assert read.unreadable == ()


def test_what_stays_unknown_is_said() -> None:
    read = from_data_source(_doc(
        {"source_policy_documents": [None], "statement": [{"sid": "S", "actions": None}]},
        {"source_policy_documents": [True], "statement": [{"actions": True}]}))
    assert read.unreadable == ("its source_policy_documents[0] is known only after the apply",
                               "the actions of its statement S are known only after the apply")
    assert from_data_source(_doc({}, {"statement": True})).unreadable == (
        "its statement blocks are known only after the apply",)


def test_json_statements_take_strings_or_lists() -> None:
    read = from_json(_policy({"Effect": "Deny", "NotAction": "iam:*", "Resource": ["a", "b"]}))
    statement = read.statements[0]
    assert (statement.effect, statement.not_action, statement.resources) == \
        ("Deny", True, ("a", "b"))
    assert from_json("not json").statements == ()
