"""The permission table: which calls each role makes, on which named resources.

GitHub roles (assumed through OIDC) start and watch builds; service roles are what each build
runs with. Every statement names its resources; the few ``Resource: "*"`` grants are reads AWS
offers no resource-level permission for (:data:`UNSCOPED_ACTIONS`, listed in the README).
"""

from __future__ import annotations

from collections.abc import Iterator

from lmi_delivery.bootstrap.arns import Arns
from lmi_delivery.bootstrap.model import Statement
from lmi_delivery.bootstrap.scope import Scope

#: Actions AWS authorizes only on ``Resource: "*"``, each with why it is needed.
UNSCOPED_ACTIONS: dict[str, str] = {
    "lambda:ListFunctions": "the pruner's fallback listing when the SDK lacks "
                            "ListFunctionVersionsByCapacityProvider",
    "lambda:ListEventSourceMappings": "the pruner keeps versions an event source mapping uses",
}

BUILD_ACTIONS = ("codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds")
LOG_READ = ("logs:GetLogEvents",)
LOG_WRITE = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
CONDITIONAL_PUT = {"Null": {"s3:if-none-match": "false"}}
"""Only puts with ``If-None-Match: *``: they create an object, never overwrite one."""

PRUNE_PROVIDER_READS = ("lambda:GetCapacityProvider",
                        "lambda:ListFunctionVersionsByCapacityProvider")
PRUNE_FUNCTION_READS = ("lambda:ListVersionsByFunction", "lambda:ListAliases",
                        "lambda:GetFunctionScalingConfig")
PRUNE_DELETES = ("lambda:DeleteFunction",)


# -- resources --------------------------------------------------------------------------------

def functions(arns: Arns, s: Scope) -> tuple[str, ...]:
    """The environment's functions, unqualified and every version or alias of them."""
    return tuple(a for name in s.functions for a in (arns.function(name),
                                                     f"{arns.function(name)}:*"))


def providers(arns: Arns, s: Scope) -> tuple[str, ...]:
    return tuple(arns.capacity_provider(name) for name in s.capacity_providers)


def build_logs(arns: Arns, *projects: str) -> tuple[str, ...]:
    return tuple(a for p in projects for a in (arns.build_log_group(p),
                                               f"{arns.build_log_group(p)}:log-stream:*"))


def kms(arns: Arns, s: Scope, sid: str, *, write: bool) -> Statement:
    """The artifacts key: by its ARN when given, else through its alias."""
    actions = ("kms:Decrypt", "kms:GenerateDataKey") if write else ("kms:Decrypt",)
    if s.kms_key_arn and ":key/" in s.kms_key_arn:
        return Statement(sid, actions, (s.kms_key_arn,))
    alias = s.kms_key_arn.split(":", 5)[-1] if s.kms_key_arn else s.kms_alias
    return Statement(sid, actions, (arns.kms_keys(),), conditions={
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}})


def alias_history(arns: Arns, s: Scope) -> str:
    """The environment's alias histories (:mod:`lmi_delivery.postdeploy.history`)."""
    return arns.objects(s.bucket, f"{s.deploy_prefix}/history/*")


def list_alias_histories(arns: Arns, s: Scope) -> Statement:
    return Statement("ListAliasHistories", ("s3:ListBucket",), (arns.bucket(s.bucket),),
                     conditions={"StringLike": {"s3:prefix": f"{s.deploy_prefix}/history/*"}})


def wheel_read(arns: Arns, s: Scope) -> Statement:
    return Statement("ReadLmiDeliveryWheel", ("s3:GetObject",),
                     (arns.objects(s.bucket, f"{s.wheel_prefix}/*"),))


def _wheel_upload(arns: Arns, s: Scope) -> Iterator[Statement]:
    """The orchestrator stores its own wheel, content-addressed, for builds to install."""
    if not s.own_wheel:
        return
    wheels = (arns.objects(s.bucket, f"{s.wheel_prefix}/*"),)
    yield Statement("StoreLmiDeliveryWheel", ("s3:PutObject",), wheels,
                    conditions=CONDITIONAL_PUT)
    yield Statement("ReadLmiDeliveryWheel", ("s3:GetObject",), wheels)
    yield kms(arns, s, "EncryptLmiDeliveryWheel", write=True)


def _live_reads(arns: Arns, s: Scope) -> Iterator[Statement]:
    """What planning reads (:mod:`lmi_delivery.postdeploy.live`) so that the plan a job shows
    is concrete: where the aliases point and the cutover's capacity headroom. Read-only."""
    if s.functions:
        yield Statement("ReadLiveAliases", ("lambda:GetAlias", "lambda:GetFunctionConfiguration",
                                            "lambda:GetFunctionScalingConfig"),
                        functions(arns, s))
    if s.capacity_providers:
        yield Statement("ReadCapacityHeadroom", ("lambda:GetCapacityProvider",),
                        providers(arns, s))


# -- roles assumed from GitHub ---------------------------------------------------------------

def review_role(arns: Arns, s: Scope) -> tuple[Statement, ...]:
    project = s.projects["review"]
    return (
        Statement("StartReviewBuilds", BUILD_ACTIONS, (arns.project(project),)),
        Statement("ReadReviewBuildLogs", LOG_READ, build_logs(arns, project)),
        *_review_documents(arns, s, s.review_prefix),
        *_live_reads(arns, s),
        *drift_reads(arns, s),
        *_wheel_upload(arns, s),
    )


def drift_reads(arns: Arns, s: Scope) -> Iterator[Statement]:
    """What the drift run reads besides planning (:mod:`lmi_delivery.postdeploy.drift`): the
    versions and their scaling, the capacity providers' versions, the warm-up rules, the alias
    histories and the review plan's metadata. Read-only."""
    if s.functions:
        yield Statement("ReadDriftVersions", ("lambda:ListVersionsByFunction",),
                        functions(arns, s))
    if s.capacity_providers:
        yield Statement("ReadDriftProviderVersions",
                        ("lambda:ListFunctionVersionsByCapacityProvider",), providers(arns, s))
    if s.warm_rules:
        yield Statement("ReadDriftWarmRules", ("events:DescribeRule", "events:ListTargetsByRule"),
                        tuple(arns.rule(r) for r in s.warm_rules))
    yield Statement("ReadDriftHistories", ("s3:GetObject",), (alias_history(arns, s),))
    yield list_alias_histories(arns, s)
    yield Statement("ReadReviewPlanMetadata", ("s3:GetObject",),
                    (arns.objects(s.bucket, f"{s.review_prefix}/*.json"),))


def plan_role(arns: Arns, s: Scope) -> tuple[Statement, ...]:
    """A push to the environment's branch: the deploy plan job starts the plan project."""
    project = s.projects["plan"]
    return (
        Statement("StartPlanBuilds", BUILD_ACTIONS, (arns.project(project),)),
        Statement("ReadPlanBuildLogs", LOG_READ, build_logs(arns, project)),
        *_review_documents(arns, s, s.deploy_prefix),
        *_live_reads(arns, s),
        *_wheel_upload(arns, s),
    )


def deploy_role(arns: Arns, s: Scope) -> tuple[Statement, ...]:
    projects = [s.projects[k] for k in ("plan", "apply", "post_deploy") if k in s.projects]
    return (
        Statement("StartDeployBuilds", BUILD_ACTIONS, tuple(arns.project(p) for p in projects)),
        Statement("ReadDeployBuildLogs", LOG_READ, build_logs(arns, *projects)),
        *_review_documents(arns, s, s.deploy_prefix),
        *_live_reads(arns, s),
        *_wheel_upload(arns, s),
    )


def _review_documents(arns: Arns, s: Scope, prefix: str) -> Iterator[Statement]:
    """What the plan build stored for the reviewer (text plan, findings): never the plan."""
    yield Statement("ReadPlanReviews", ("s3:GetObject",),
                    (arns.objects(s.bucket, f"{prefix}/*.review.json"),))
    yield kms(arns, s, "DecryptPlanReviews", write=False)


def prune_statements(arns: Arns, s: Scope) -> Iterator[Statement]:
    """Exactly the calls of :mod:`lmi_delivery.postdeploy.prune` in normal mode."""
    if s.capacity_providers:
        yield Statement("ReadCapacityProviders", PRUNE_PROVIDER_READS, providers(arns, s))
    if s.functions:
        yield Statement("ReadFunctionVersions", PRUNE_FUNCTION_READS, functions(arns, s))
        yield Statement("DeleteFunctionVersions", PRUNE_DELETES, functions(arns, s))
    # The pruner keeps the versions the alias histories name as rollback targets.
    yield list_alias_histories(arns, s)
    yield Statement("ReadAliasHistory", ("s3:GetObject",), (alias_history(arns, s),))
    yield kms(arns, s, "ArtifactsKey", write=False)
    yield Statement("ListWithoutResourceLevelPermissions", tuple(UNSCOPED_ACTIONS), ("*",))


def prune_role(arns: Arns, s: Scope) -> tuple[Statement, ...]:
    return tuple(prune_statements(arns, s))
