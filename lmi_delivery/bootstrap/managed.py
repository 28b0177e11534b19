"""What the Terraform root manages (``terraform.manages``): its reads and its writes.

Review and plan builds refresh with the reads only; the apply build gets both. Each kind names
the environment's resources by the naming rule.
"""

from __future__ import annotations

from collections.abc import Iterator

from lmi_delivery.bootstrap.arns import Arns
from lmi_delivery.bootstrap.model import Statement
from lmi_delivery.bootstrap.permissions import functions, providers
from lmi_delivery.bootstrap.scope import Scope

READS: dict[str, tuple[str, ...]] = {
    "capacity_providers": ("lambda:GetCapacityProvider", "lambda:ListTags"),
    "functions": ("lambda:GetFunction", "lambda:GetFunctionConfiguration",
                  "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency",
                  "lambda:GetPolicy", "lambda:GetAlias", "lambda:ListAliases",
                  "lambda:ListVersionsByFunction", "lambda:ListTags"),
    "log_groups": ("logs:DescribeLogGroups", "logs:ListTagsForResource"),
}
WRITES: dict[str, tuple[str, ...]] = {
    "capacity_providers": ("lambda:CreateCapacityProvider", "lambda:UpdateCapacityProvider",
                           "lambda:DeleteCapacityProvider", "lambda:TagResource",
                           "lambda:UntagResource"),
    "functions": ("lambda:CreateFunction", "lambda:DeleteFunction",
                  "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                  "lambda:PublishVersion", "lambda:CreateAlias", "lambda:UpdateAlias",
                  "lambda:DeleteAlias", "lambda:TagResource", "lambda:UntagResource",
                  "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"),
    "log_groups": ("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
                   "logs:DeleteRetentionPolicy", "logs:TagResource", "logs:UntagResource"),
}
_SIDS = {"capacity_providers": "CapacityProviders", "functions": "Functions",
         "log_groups": "LogGroups"}


def _resources(arns: Arns, s: Scope, kind: str) -> tuple[str, ...]:
    if kind == "capacity_providers":
        return providers(arns, s)
    if kind == "functions":
        return functions(arns, s)
    return tuple(a for name in s.functions
                 for a in (arns.log_group(f"/aws/lambda/{name}"),
                           f"{arns.log_group(f'/aws/lambda/{name}')}:*"))


def reads(arns: Arns, s: Scope) -> Iterator[Statement]:
    for kind in s.manages:
        if resources := _resources(arns, s, kind):
            yield Statement(f"Refresh{_SIDS[kind]}", READS[kind], resources)


def writes(arns: Arns, s: Scope) -> Iterator[Statement]:
    for kind in s.manages:
        if resources := _resources(arns, s, kind):
            yield Statement(f"Manage{_SIDS[kind]}", WRITES[kind], resources)
    if "functions" in s.manages and s.capacity_providers:
        yield Statement("PassCapacityProviders", ("lambda:PassCapacityProvider",),
                        providers(arns, s))
    if s.pass_roles:
        yield Statement("PassRolesToLambda", ("iam:PassRole",),
                        tuple(arns.role(r) for r in s.pass_roles),
                        conditions={"StringEquals": {"iam:PassedToService":
                                                     "lambda.amazonaws.com"}})
