"""The sandbox's policy evaluation: moto's matching, IAM's semantics for conditions."""

from __future__ import annotations

import pytest
from moto.iam.access_control import PermissionResult

from lmi_delivery.sandbox.iam.policy import condition_holds, evaluate

ALLOWED, DENIED, NEUTRAL = (PermissionResult.PERMITTED, PermissionResult.DENIED,
                            PermissionResult.NEUTRAL)


@pytest.mark.parametrize(("operator", "expected", "context", "holds"), [
    ("StringEquals", "a", {"k": ("a",)}, True),
    ("StringEquals", ["x", "a"], {"k": ("a",)}, True),
    ("StringEquals", "a", {}, False),
    ("StringNotEquals", "a", {}, True),  # a missing key is not equal
    ("StringLike", "plans/*", {"k": ("plans/x/y",)}, True),
    ("StringLike", "plans/?", {"k": ("plans/xy",)}, False),
    ("ArnLike", "arn:aws:codebuild:*:1:project/app", {"k": ("arn:aws:codebuild:r:1:project/app",)},
     True),
    ("Bool", "false", {"k": ("true",)}, False),
    ("Bool", False, {"k": ("false",)}, True),
    ("Null", "true", {}, True),
    ("Null", "false", {}, False),
    ("Null", "false", {"k": ("*",)}, True),
    ("StringEqualsIfExists", "a", {}, True),
    ("ForAnyValue:StringEquals", "alias/x", {"k": ("alias/y", "alias/x")}, True),
    ("ForAllValues:StringEquals", "alias/x", {"k": ("alias/y", "alias/x")}, False),
    ("NumericLessThan", "3", {"k": ("1",)}, False),  # an operator it does not know never holds
])
def test_conditions(operator: str, expected: object, context: dict[str, tuple[str, ...]],
                    holds: bool) -> None:
    assert condition_holds(operator, "k", expected, context) is holds


def document(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_an_allow_whose_condition_fails_grants_nothing_and_denies_nothing() -> None:
    allow = document({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
                      "Condition": {"Null": {"s3:if-none-match": "false"}}})
    assert evaluate([allow], "s3:PutObject", "arn:aws:s3:::b/k", {}) is NEUTRAL
    assert evaluate([allow], "s3:PutObject", "arn:aws:s3:::b/k",
                    {"s3:if-none-match": ("*",)}) is ALLOWED


def test_a_deny_applies_only_when_its_conditions_hold_and_wins_over_an_allow() -> None:
    policies = [document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
                document({"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Principal": "*",
                          "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
    assert evaluate(policies, "s3:GetObject", "arn:aws:s3:::b/k",
                    {"aws:SecureTransport": ("true",)}) is ALLOWED
    assert evaluate(policies, "s3:GetObject", "arn:aws:s3:::b/k",
                    {"aws:SecureTransport": ("false",)}) is DENIED


def test_principals_of_trust_and_resource_policies() -> None:
    trust = document({"Effect": "Allow", "Action": "sts:AssumeRole",
                      "Principal": {"Service": "codebuild.amazonaws.com"}})
    assert evaluate([trust], "sts:AssumeRole", "arn:aws:iam::1:role/r", {},
                    principal=("Service", "codebuild.amazonaws.com")) is ALLOWED
    assert evaluate([trust], "sts:AssumeRole", "arn:aws:iam::1:role/r", {},
                    principal=("Service", "lambda.amazonaws.com")) is NEUTRAL
    assert evaluate([trust], "sts:AssumeRole", "arn:aws:iam::1:role/r", {},
                    principal=("AWS", "arn:aws:iam::1:root")) is NEUTRAL


def test_resources_and_actions_match_with_wildcards() -> None:
    function = "arn:aws:lambda:r:1:function:f"
    policy = document({"Effect": "Allow", "Action": ["lambda:Get*"],
                       "Resource": [function, f"{function}:*"]})
    assert evaluate([policy], "lambda:GetAlias", "arn:aws:lambda:r:1:function:f:live", {}) \
        is ALLOWED
    assert evaluate([policy], "lambda:GetAlias", "arn:aws:lambda:r:1:function:g:live", {}) \
        is NEUTRAL
    assert evaluate([policy], "lambda:PublishVersion", "arn:aws:lambda:r:1:function:f", {}) \
        is NEUTRAL
