"""The sandbox enforces IAM when asked: callers are refused what their policies do not allow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from codebuild_helpers import ENVIRONMENT, run
from iam_helpers import assume, client_as, github_role, policy, statement
from sandbox_helpers import function, provider

from lmi_delivery.sandbox import Sandbox, SandboxOptions

ACCOUNT = "123456789012"
REPO = "repo:acme/shop"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function"


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(iam=True)) as running:
        yield running


@pytest.fixture
def box(sandbox: Sandbox) -> Sandbox:
    return sandbox


def as_role(box: Sandbox, service: str, name: str, sub: str, *statements: Any) -> Any:
    arn = github_role(box.client("iam"), name, sub, policy(*statements))
    creds = assume(box.client("sts"), arn, sub)
    return client_as(box.endpoint_url, box.region, service, creds)


def refusal(error: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = error.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"]["Message"])


def test_the_sandbox_credentials_stay_the_accounts_own(box: Sandbox) -> None:
    iam = box.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    assert box.client("lambda").list_functions()["Functions"] == []


def test_lambda_calls_are_allowed_on_the_granted_function_only(box: Sandbox) -> None:
    arn = provider(box.client("lambda"), box.client("iam"))
    for name in ("mine", "theirs"):
        function(box.client("lambda"), box.client("iam"), name, arn)
    lam = as_role(box, "lambda", "reader", f"{REPO}:pull_request",
                  statement(["lambda:GetFunctionConfiguration", "lambda:PublishVersion"],
                            [f"{FN}:mine", f"{FN}:mine:*"]))
    assert lam.get_function_configuration(FunctionName="mine")["FunctionName"] == "mine"
    with pytest.raises(ClientError) as denied:
        lam.get_function_configuration(FunctionName="theirs")
    status, code, message = refusal(denied)
    assert (status, code) == (403, "AccessDeniedException")
    assert "assumed-role/reader/github is not authorized to perform: " \
           f"lambda:GetFunctionConfiguration on resource: {FN}:theirs" in message
    assert lam.publish_version(FunctionName="mine")["Version"] == "1"
    with pytest.raises(ClientError) as denied:
        lam.publish_version(FunctionName="theirs")
    assert refusal(denied)[:2] == (403, "AccessDeniedException")
    with pytest.raises(ClientError) as denied:
        lam.list_functions()
    assert refusal(denied)[:2] == (403, "AccessDeniedException")


def test_the_trust_policy_checks_the_tokens_subject_and_audience(box: Sandbox) -> None:
    arn = github_role(box.client("iam"), "deploy", f"{REPO}:environment:prod",
                      policy(statement(["lambda:ListFunctions"], ["*"])))
    sts = box.client("sts")
    with pytest.raises(ClientError) as denied:
        assume(sts, arn, f"{REPO}:pull_request")
    assert refusal(denied)[:2] == (403, "AccessDenied")
    with pytest.raises(ClientError) as denied:
        assume(sts, arn, f"{REPO}:environment:prod", aud="someone-else")
    assert refusal(denied)[1] == "InvalidIdentityToken"
    with pytest.raises(ClientError) as denied:
        assume(sts, arn, f"{REPO}:environment:prod", exp=time.time() - 60)
    assert refusal(denied)[1] == "ExpiredTokenException"
    creds = assume(sts, arn, f"{REPO}:environment:prod")
    lam = client_as(box.endpoint_url, box.region, "lambda", creds)
    assert lam.list_functions()["Functions"] == []


def test_a_token_of_an_unknown_issuer_is_refused(box: Sandbox) -> None:
    box.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    with pytest.raises(ClientError) as denied:
        assume(box.client("sts"), f"arn:aws:iam::{ACCOUNT}:role/r", "repo:a/b:pull_request")
    _, code, message = refusal(denied)
    assert code == "InvalidIdentityToken"
    assert "No OpenIDConnect provider" in message


def test_s3_conditions_and_bucket_policies_decide(box: Sandbox) -> None:
    box.client("s3").create_bucket(Bucket="bkt")
    box.client("s3").put_bucket_policy(Bucket="bkt", Policy=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
        '"Action":"s3:PutObject","Resource":"arn:aws:s3:::bkt/locked/*"},'
        '{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bkt/*",'
        '"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}'))
    s3 = as_role(box, "s3", "writer", f"{REPO}:pull_request",
                 statement(["s3:PutObject"], ["arn:aws:s3:::bkt/*"],
                           Condition={"Null": {"s3:if-none-match": "false"}}),
                 statement(["s3:GetObject"], ["arn:aws:s3:::bkt/plans/*"]))
    s3.put_object(Bucket="bkt", Key="plans/a", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="bkt", Key="plans/a", Body=b"2")  # an overwrite
    assert refusal(denied)[:2] == (403, "AccessDenied")
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="bkt", Key="locked/a", Body=b"1", IfNoneMatch="*")
    assert "explicit deny in a resource-based policy" in refusal(denied)[2]
    assert s3.get_object(Bucket="bkt", Key="plans/a")["Body"].read() == b"1"
    with pytest.raises(ClientError) as denied:
        s3.list_objects_v2(Bucket="bkt")
    assert refusal(denied)[:2] == (403, "AccessDenied")


def test_codebuild_refusals_are_json_access_denied(box: Sandbox) -> None:
    codebuild = as_role(box, "codebuild", "starter", f"{REPO}:pull_request",
                        statement(["codebuild:BatchGetBuilds"],
                                  [f"arn:aws:codebuild:us-east-1:{ACCOUNT}:project/other"]))
    with pytest.raises(ClientError) as denied:
        codebuild.start_build(projectName="app")
    status, code, message = refusal(denied)
    assert (status, code) == (400, "AccessDeniedException")
    assert f"codebuild:StartBuild on resource: arn:aws:codebuild:us-east-1:{ACCOUNT}:" \
           "project/app" in message


def _service_role(box: Sandbox, project: str, bucket: str) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "codebuild.amazonaws.com"},
        "Condition": {"ArnLike": {"aws:SourceArn":
                                  f"arn:aws:codebuild:us-east-1:{ACCOUNT}:project/{project}"}}}]}
    iam = box.client("iam")
    arn = str(iam.create_role(RoleName=f"cb-{project}",
                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    iam.put_role_policy(RoleName=f"cb-{project}", PolicyName="p", PolicyDocument=json.dumps(
        policy(statement(["s3:PutObject"], [f"arn:aws:s3:::{bucket}/allowed/*"]))))
    return arn


def test_builds_run_as_their_projects_service_role(box: Sandbox, tmp_path: Path) -> None:
    box.client("s3").create_bucket(Bucket="out")
    (tmp_path / "f").write_text("x")
    buildspec = ("version: 0.2\nphases:\n  build:\n    commands:\n"
                 "      - aws s3 cp f s3://out/allowed/f\n"
                 "      - aws s3 cp f s3://out/denied/f || echo refused > r\n"
                 "      - test -f r\n")
    codebuild = box.client("codebuild")
    for name in ("app", "stranger"):
        codebuild.create_project(
            name=name, source={"type": "NO_SOURCE", "location": str(tmp_path),
                               "buildspec": buildspec},
            artifacts={"type": "NO_ARTIFACTS"}, environment=ENVIRONMENT,
            serviceRole=_service_role(box, "app", "out") if name == "app" else
            f"arn:aws:iam::{ACCOUNT}:role/cb-app")
    build = run(codebuild, "app", timeout=60)
    assert build["buildStatus"] == "SUCCEEDED", build["phases"]
    keys = [o["Key"] for o in box.client("s3").list_objects_v2(Bucket="out")["Contents"]]
    assert keys == ["allowed/f"]
    # The role trusts CodeBuild for builds of "app" only: "stranger" cannot use it.
    with pytest.raises(ClientError) as refused:
        codebuild.start_build(projectName="stranger")
    assert "not authorized to perform: sts:AssumeRole" in refusal(refused)[2]


def test_the_cost_of_authorizing_a_call(box: Sandbox) -> None:
    lam = as_role(box, "lambda", "lister", f"{REPO}:pull_request",
                  statement(["lambda:ListFunctions"], ["*"]))
    root = box.client("lambda")
    for client in (lam, root):
        client.list_functions()
    began = time.perf_counter()
    for _ in range(50):
        root.list_functions()
    unchecked = (time.perf_counter() - began) / 50
    began = time.perf_counter()
    for _ in range(50):
        lam.list_functions()
    checked = (time.perf_counter() - began) / 50
    print(f"ListFunctions: {unchecked * 1000:.2f} ms as the account, "
          f"{checked * 1000:.2f} ms as a role (policies evaluated)")
    assert checked < unchecked + 0.02  # a loose bound: the machine is shared


def test_serve_iam_enforces_iam_for_any_client(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    argv = [sys.executable, "-m", "lmi_delivery.cli.commands.sandbox", "serve", "--iam"]
    bad = subprocess.run([*argv, "--repository", f"https://github.com/a/b.git={tmp_path}/no"],
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    assert bad.returncode == 2
    assert "expected URL=DIR with an existing DIR" in bad.stderr
    assert "Traceback" not in bad.stderr
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    try:
        assert process.stdout is not None
        exports = dict(process.stdout.readline().strip().removeprefix("export ").split("=", 1)
                       for _ in range(4))
        url = exports["AWS_ENDPOINT_URL"]
        root = {"aws_access_key_id": exports["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": exports["AWS_SECRET_ACCESS_KEY"]}
        iam = client_as(url, "us-east-1", "iam", root)
        arn = github_role(iam, "nothing", f"{REPO}:pull_request",
                          policy(statement(["s3:GetObject"], ["arn:aws:s3:::none/*"])))
        creds = assume(client_as(url, "us-east-1", "sts", root), arn, f"{REPO}:pull_request")
        with pytest.raises(ClientError) as denied:
            client_as(url, "us-east-1", "lambda", creds).list_functions()
        assert refusal(denied)[:2] == (403, "AccessDeniedException")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_objects_encrypted_with_a_kms_key_need_the_key_too(box: Sandbox) -> None:
    kms = box.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/artifacts", TargetKeyId=key)
    s3 = box.client("s3")
    s3.create_bucket(Bucket="enc")
    s3.put_bucket_encryption(Bucket="enc", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                               "KMSMasterKeyID": key}}]})
    objects = statement(["s3:PutObject", "s3:GetObject"], ["arn:aws:s3:::enc/*"])
    without = as_role(box, "s3", "no-key", f"{REPO}:pull_request", objects)
    with pytest.raises(ClientError) as denied:
        without.put_object(Bucket="enc", Key="a", Body=b"1")
    assert f"kms:GenerateDataKey on resource: {key}" in refusal(denied)[2]
    s3.put_object(Bucket="enc", Key="a", Body=b"1")
    with pytest.raises(ClientError) as denied:
        without.get_object(Bucket="enc", Key="a")
    assert f"kms:Decrypt on resource: {key}" in refusal(denied)[2]
    # Granted through the alias, as the bootstrap grants its key.
    via_alias = statement(["kms:GenerateDataKey", "kms:Decrypt"],
                          [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"],
                          Condition={"ForAnyValue:StringEquals": {
                              "kms:ResourceAliases": "alias/artifacts"}})
    keyed = as_role(box, "s3", "keyed", f"{REPO}:pull_request", objects, via_alias)
    keyed.put_object(Bucket="enc", Key="b", Body=b"2")
    assert keyed.get_object(Bucket="enc", Key="a")["Body"].read() == b"1"
