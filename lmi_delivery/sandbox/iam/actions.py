"""Which IAM action on which resource each AWS call is, with the condition keys it carries.

Lambda, CodeBuild, CloudWatch Logs, EventBridge, CloudWatch, SSM, Secrets Manager, KMS and STS
calls name their resource by ARN as AWS authorizes them; S3 calls are read from method, path
and query (path-style addressing, as the sandbox's clients use). A call this module does not
place on a resource is authorized on ``*``, so only a ``Resource: "*"`` grant allows it (AWS
does the same for actions without resource-level permissions).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from werkzeug.wrappers import Request

from lmi_delivery.sandbox.extension import split_function
from lmi_delivery.sandbox.iam.policy import Context
from lmi_delivery.sandbox.protocol import Call

#: IAM actions whose name differs from the API operation's.
_LAMBDA_ACTIONS = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction",
                   "InvokeWithResponseStream": "InvokeFunction"}
_S3_BUCKET_QUERIES = {
    "policy": "BucketPolicy", "versioning": "BucketVersioning",
    "encryption": "EncryptionConfiguration",
    "lifecycle": "LifecycleConfiguration", "publicAccessBlock": "BucketPublicAccessBlock",
    "tagging": "BucketTagging", "ownershipControls": "BucketOwnershipControls",
    "acl": "BucketAcl", "cors": "BucketCORS", "notification": "BucketNotification",
    "object-lock": "BucketObjectLockConfiguration", "logging": "BucketLogging",
    "website": "BucketWebsite",
}


@dataclass(frozen=True)
class Check:
    """One IAM decision a call needs: ``action`` on ``resource`` with ``context``."""

    action: str
    resource: str = "*"
    context: Context = field(default_factory=dict)
    bucket: str | None = None
    """The S3 bucket whose policy also decides, for S3 calls."""


def checks(request: Request, call: Call, account: str) -> list[Check]:
    """The decisions ``request`` needs (at least one)."""
    service = call.service or ""
    region = call.region
    base: dict[str, tuple[str, ...]] = {"aws:SecureTransport": ("true",)}
    # The sandbox speaks plain HTTP on the loopback interface: it stands for the TLS endpoint
    # a client reaches on AWS, so a bucket policy's TLS-only rule holds.
    if service == "s3":
        return list(_s3(request, base))
    body = _json(request) if request.headers.get("X-Amz-Target") else {}
    operation = call.operation or ""
    if service == "lambda":
        return [Check(f"lambda:{_LAMBDA_ACTIONS.get(operation, operation)}",
                      _lambda_resource(call, request, account), base)]
    arn = f"arn:aws:{service}:{region}:{account}"
    resources = list(_json_resources(service, operation, body, arn, request))
    return [Check(f"{service}:{operation}", r, base) for r in resources or ["*"]]


def _lambda_resource(call: Call, request: Request, account: str) -> str:
    params = call.params
    prefix = f"arn:aws:lambda:{call.region}:{account}"
    if "CapacityProviderName" in params:
        return f"{prefix}:capacity-provider:{unquote(params['CapacityProviderName'])}"
    if "FunctionName" not in params:
        return "*"
    name, qualifier = split_function(unquote(params["FunctionName"]))
    qualifier = qualifier or request.args.get("Qualifier") or params.get("Name")
    if call.operation in ("CreateAlias", "ListAliases", "ListVersionsByFunction"):
        qualifier = None
    arn = f"{prefix}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _json_resources(service: str, operation: str, body: Mapping[str, Any], arn: str,
                    request: Request) -> Iterator[str]:
    if service == "codebuild":
        names = [body["projectName"]] if isinstance(body.get("projectName"), str) else []
        for key in ("ids", "names"):
            names += [str(v).split(":", 1)[0] for v in body.get(key) or []]
        if isinstance(body.get("id"), str):
            names.append(body["id"].split(":", 1)[0])
        if operation == "CreateProject" and isinstance(body.get("name"), str):
            names.append(body["name"])
        for name in dict.fromkeys(names):
            yield f"{arn}:project/{name.rsplit('/', 1)[-1]}"
    elif service == "logs" and isinstance(body.get("logGroupName"), str):
        group = f"{arn}:log-group:{body['logGroupName']}"
        stream = body.get("logStreamName")
        yield f"{group}:log-stream:{stream}" if isinstance(stream, str) else group
    elif service == "events":
        for key in ("Name", "Rule"):
            if isinstance(body.get(key), str):
                yield f"{arn}:rule/{body[key]}"
    elif service == "ssm":
        names = body.get("Names") or ([body["Name"]] if "Name" in body else [])
        for name in names:
            yield f"{arn}:parameter/{str(name).lstrip('/')}"
    elif service == "secretsmanager" and isinstance(body.get("SecretId"), str):
        secret = body["SecretId"]
        yield secret if secret.startswith("arn:") else f"{arn}:secret:{secret}"
    elif service == "kms" and isinstance(body.get("KeyId"), str):
        key = body["KeyId"]
        kind = "" if key.startswith("alias/") else "key/"
        yield key if key.startswith("arn:") else f"{arn}:{kind}{key}"
    elif service == "monitoring" and operation == "DescribeAlarms":
        form = parse_qs(request.get_data(as_text=True))
        for key, values in form.items():
            if key.startswith("AlarmNames.member."):
                yield f"{arn.replace(':monitoring:', ':cloudwatch:')}:alarm:{values[0]}"
    elif service == "sts" and operation == "AssumeRole":
        form = parse_qs(request.get_data(as_text=True))
        yield from form.get("RoleArn", [])


def _s3(request: Request, base: dict[str, tuple[str, ...]]) -> Iterator[Check]:
    parts = request.path.lstrip("/").split("/", 1)
    bucket, key = parts[0], unquote(parts[1]) if len(parts) > 1 else ""
    method, args = request.method, request.args
    if not bucket:
        yield Check("s3:ListAllMyBuckets", "*", base)
        return
    if not key:
        yield _s3_bucket(method, args, bucket, base)
        return
    obj = f"arn:aws:s3:::{bucket}/{key}"
    context = dict(base)
    if request.headers.get("If-None-Match"):
        context["s3:if-none-match"] = (request.headers["If-None-Match"],)
    versioned = "Version" if "versionId" in args else ""
    if "tagging" in args:
        verb = "Get" if method == "GET" else "Put" if method == "PUT" else "Delete"
        yield Check(f"s3:{verb}Object{versioned}Tagging", obj, context, bucket)
    elif method in ("GET", "HEAD"):
        yield Check(f"s3:GetObject{versioned}", obj, context, bucket)
    elif method in ("PUT", "POST"):
        yield Check("s3:PutObject", obj, context, bucket)
        if request.headers.get("x-amz-tagging"):
            yield Check("s3:PutObjectTagging", obj, context, bucket)
    elif method == "DELETE":
        if "uploadId" in args:
            yield Check("s3:AbortMultipartUpload", obj, context, bucket)
        else:
            yield Check(f"s3:DeleteObject{versioned}", obj, context, bucket)


def _s3_bucket(method: str, args: Mapping[str, str], bucket: str,
               base: dict[str, tuple[str, ...]]) -> Check:
    arn = f"arn:aws:s3:::{bucket}"
    for query, suffix in _S3_BUCKET_QUERIES.items():
        if query in args:
            verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, "Put")
            if verb == "Delete" and query in ("policy",):
                return Check("s3:DeleteBucketPolicy", arn, base, bucket)
            if verb == "Delete":
                verb = "Put"  # S3 authorizes deleting a configuration as putting one
            return Check(f"s3:{verb}{suffix}", arn, base, bucket)
    if method == "POST" and "delete" in args:
        return Check("s3:DeleteObject", f"{arn}/*", base, bucket)
    if method in ("GET", "HEAD"):
        context = dict(base)
        if "prefix" in args:
            context["s3:prefix"] = (args["prefix"],)
        action = "s3:ListBucketVersions" if "versions" in args else (
            "s3:ListBucketMultipartUploads" if "uploads" in args else "s3:ListBucket")
        return Check(action, arn, context, bucket)
    if method == "PUT":
        return Check("s3:CreateBucket", arn, base, bucket)
    return Check("s3:DeleteBucket", arn, base, bucket)
