"""A build's credentials: an STS session of its project's service role, as CodeBuild makes.

CodeBuild assumes the project's ``serviceRole`` as ``codebuild.amazonaws.com`` with
``aws:SourceAccount`` (the account) and ``aws:SourceArn`` (the project's ARN) in the request
context, so a trust policy bound to one project refuses the builds of another. The session is
made in moto's STS, so the build's calls are authorized as that role (with ``iam`` on). A role
that does not exist in the sandbox, or does not trust CodeBuild, leaves the build with the
caller's key, as the sandbox's builds ran before it modelled this; with ``iam`` on either is a
refusal of ``StartBuild``, as on AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.iam.access_control import PermissionResult
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from lmi_delivery.sandbox.iam.policy import evaluate

SERVICE = "codebuild.amazonaws.com"


@dataclass(frozen=True)
class BuildCredentials:
    access_key: str
    secret_key: str
    session_token: str | None = None


class RoleRefused(Exception):
    """CodeBuild may not assume the project's role (CodeBuild's ``InvalidInputException``)."""


def service_role_session(project_arn: str, role_arn: str, session_name: str, *,
                         enforce: bool) -> BuildCredentials | None:
    """The build's session of ``role_arn``. When the role is missing or its trust policy does
    not let CodeBuild assume it for this project: :class:`RoleRefused` with ``enforce``, else
    None (the build keeps the caller's key)."""
    parts = project_arn.split(":")
    region, account = parts[3], parts[4]
    refused = RoleRefused(f"CodeBuild is not authorized to perform: sts:AssumeRole on "
                          f"{role_arn or 'the project (no service role)'}")
    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except NotFoundException:
        if enforce:
            raise refused from None
        return None
    context = {"aws:SourceAccount": (account,), "aws:SourceArn": (project_arn,)}
    trusted = evaluate([role.assume_role_policy_document], "sts:AssumeRole", role_arn, context,
                       principal=("Service", SERVICE))
    if trusted is not PermissionResult.PERMITTED:
        if enforce:
            raise refused
        return None
    session = sts_backends[account]["aws"].assume_role(
        region_name=region, role_session_name=session_name, role_arn=role_arn, policy="",
        duration=3600, external_id="")
    return BuildCredentials(session.access_key_id, session.secret_access_key,
                            session.session_token)
