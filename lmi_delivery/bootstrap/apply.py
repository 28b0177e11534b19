"""``bootstrap --env ENV --apply``: render the plane for the account the credentials reach and
deploy its CloudFormation stack (:mod:`.deploy`).

The account is ``environments.ENV.account_id`` or ``--account-id``, else the one STS says the
credentials belong to; credentials of another account than the environment's are refused
before anything is deployed. The stack is named by the naming rule (``{service}-{env}-delivery``
with the default rule), unless ``--stack-name`` names it. A template over CloudFormation's
inline limit is staged in ``--template-bucket``, else in the artifacts bucket; when neither
exists yet (the first create of a plane with many functions), the stack is created with the
buckets, the key and the OIDC provider first, then updated to the whole plane staged in the
bucket it made.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lmi_delivery.aws.errors import translated
from lmi_delivery.bootstrap.cloudformation import render_cloudformation
from lmi_delivery.bootstrap.deploy import (
    Deployed,
    deploy_stack,
    fits_inline,
    stack_status,
    storage_only,
)
from lmi_delivery.bootstrap.model import Plane
from lmi_delivery.bootstrap.plane import build_plane, resolve_account
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import GateRefused, UsageError

STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")


def stack_name(config: Config, env: Environment, flag: str | None) -> str:
    name = flag or naming.render(config.naming, **naming.values(config, env, "delivery"))
    if not STACK_NAME.fullmatch(name):
        raise UsageError(f"stack name {name!r} is not a CloudFormation stack name (a letter, "
                         "then up to 127 letters, digits and hyphens); pass --stack-name")
    return name


def caller_account(sts: Any) -> str:
    with translated("GetCallerIdentity"):
        return str(sts.get_caller_identity()["Account"])


def stager(s3: Any, bucket: str, stack: str, region: str,
           say: Callable[[str], None]) -> Callable[[str], str]:
    """Where a template too large to send inline goes: ``bucket`` (``--template-bucket``),
    else the plane's artifacts bucket once an earlier apply created it; content-addressed
    (``lmi-delivery/bootstrap/<stack>/<sha256>.json``), never overwriting another."""

    def stage(body: str) -> str:
        from lmi_delivery.aws.errors import error_code, is_aws_error

        key = f"lmi-delivery/bootstrap/{stack}/{hashlib.sha256(body.encode()).hexdigest()}.json"
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), IfNoneMatch="*",
                          ContentType="application/json")
        except Exception as error:
            if not (is_aws_error(error) and error_code(error) in ("PreconditionFailed",
                                                                   "ConditionalRequestConflict")):
                with translated("PutObject", where=f"s3://{bucket}/{key}"):
                    raise
        say(f"template staged at s3://{bucket}/{key} (over the inline limit)")
        return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"

    return stage


def _bucket_exists(s3: Any, bucket: str) -> bool:
    """Whether ``bucket`` exists; an answer other than "not found" is an error, never a no."""
    from lmi_delivery.aws.errors import error_code, is_aws_error

    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as error:
        if is_aws_error(error) and error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return False
        with translated("HeadBucket", where=bucket):
            raise
    return True


def apply_plane(config: Config, env: Environment, *, repository: str, account: str | None,
                stack: str | None, shared: bool, clients: Any,
                say: Callable[[str], None],
                template_bucket: str | None = None) -> tuple[Plane, Deployed]:
    """Deploy ``env``'s plane with ``clients`` (a client factory: ``.client(name)``)."""
    name = stack_name(config, env, stack)
    reached = caller_account(clients.client("sts"))
    wanted = account or env.account_id
    if wanted and wanted != reached:
        raise GateRefused(f"the credentials are of account {reached}, but environment "
                          f"{env.name} is account {wanted}: nothing was deployed")
    plane = build_plane(config, env, repository=repository,
                        account=resolve_account(config, env, account or reached))
    cloudformation, s3 = clients.client("cloudformation"), clients.client("s3")
    template = render_cloudformation(plane)
    parameters = {"CreateSharedResources": "true" if shared else "false"}
    stage = _stage(s3, plane, name, template_bucket, say)
    first: Deployed | None = None
    if stage is None and shared and not fits_inline(template) and \
            stack_status(cloudformation, name) is None:
        # A first create too large to send inline, with no bucket to stage it in: the storage
        # first (it fits), then the whole plane, staged in the artifacts bucket it made. Never
        # for a stack that exists: updating it to the storage alone would delete the rest.
        say(f"stack {name}: the template is over CloudFormation's inline limit and no bucket "
            f"holds it yet: creating the buckets first, then the rest")
        first = deploy_stack(cloudformation, name, storage_only(template),
                             parameters=parameters, say=say)
        stage = stager(s3, plane.artifacts.name, name, plane.region, say)
    deployed = deploy_stack(cloudformation, name, template, parameters=parameters, say=say,
                            stage=stage)
    if first is not None:
        deployed = replace(deployed, outcome="created")
    return plane, deployed


def _stage(s3: Any, plane: Plane, stack: str, template_bucket: str | None,
           say: Callable[[str], None]) -> Callable[[str], str] | None:
    bucket = template_bucket
    if bucket is None and _bucket_exists(s3, plane.artifacts.name):
        bucket = plane.artifacts.name
    return None if bucket is None else stager(s3, bucket, stack, plane.region, say)
