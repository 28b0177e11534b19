"""Test helpers for the sandbox's IAM: GitHub-like tokens, assumed roles, clients of them."""

from __future__ import annotations

import json
from typing import Any

from botocore.config import Config as BotoConfig

from lmi_delivery.aws.clients import shared_model_session
from lmi_delivery.sandbox.iam.webidentity import unsigned_token

GITHUB = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"


def github_token(sub: str, aud: str = AUDIENCE, **claims: Any) -> str:
    return unsigned_token({"iss": f"https://{GITHUB}", "sub": sub, "aud": aud, **claims})


def oidc_provider(iam: Any) -> str:
    arns = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    if arns:
        return str(arns[0])
    return str(iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB}", ClientIDList=[AUDIENCE], ThumbprintList=[])[
        "OpenIDConnectProviderArn"])


def github_role(iam: Any, name: str, sub: str, policy: dict[str, Any]) -> str:
    provider = oidc_provider(iam)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": provider},
        "Condition": {"StringEquals": {f"{GITHUB}:sub": sub, f"{GITHUB}:aud": AUDIENCE}}}]}
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"]["Arn"])
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def assume(sts: Any, role_arn: str, sub: str, **claims: Any) -> dict[str, str]:
    """The role's credentials for a GitHub token of ``sub``, as configure-aws-credentials
    gets them (an unsigned AssumeRoleWithWebIdentity)."""
    answer = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="github", WebIdentityToken=github_token(sub, **claims))
    creds = answer["Credentials"]
    return {"aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"]}


def client_as(endpoint_url: str, region: str, service: str, credentials: dict[str, str]) -> Any:
    session = shared_model_session(region_name=region, **credentials)
    factory: Any = session.client
    return factory(service, endpoint_url=endpoint_url, config=BotoConfig(
        retries={"mode": "standard", "total_max_attempts": 1}, s3={"addressing_style": "path"}))


def statement(actions: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}
