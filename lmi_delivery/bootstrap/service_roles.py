"""What each CodeBuild project's build may do: its service role's statements.

review: refresh read-only, store review plans, no secrets but those that opt in.
plan: refresh read-only, read state and take its lock, store new content-addressed plans.
apply: change what the Terraform root manages (``terraform.manages``), read and write state,
read plans, check the plan build's record, take the apply lock, append apply records.
post-deploy: the Lambda, EventBridge, CloudWatch and S3 calls of :mod:`lmi_delivery.postdeploy`.
"""

from __future__ import annotations

from collections.abc import Iterator

from lmi_delivery.bootstrap import managed
from lmi_delivery.bootstrap.arns import Arns
from lmi_delivery.bootstrap.model import Statement
from lmi_delivery.bootstrap.permissions import (
    CONDITIONAL_PUT,
    LOG_WRITE,
    PRUNE_DELETES,
    PRUNE_FUNCTION_READS,
    PRUNE_PROVIDER_READS,
    UNSCOPED_ACTIONS,
    alias_history,
    build_logs,
    functions,
    kms,
    list_alias_histories,
    providers,
    wheel_read,
)
from lmi_delivery.bootstrap.scope import Scope

PLAN_OBJECT = ("s3:PutObject", "s3:PutObjectTagging")
"""A plan and its metadata are put with tags (the lifecycle rule's), which need PutObjectTagging."""


def _common(arns: Arns, s: Scope, project_key: str) -> Iterator[Statement]:
    yield Statement("WriteBuildLogs", LOG_WRITE, build_logs(arns, s.projects[project_key]))
    yield wheel_read(arns, s)


def _secrets(arns: Arns, s: Scope, *, review: bool) -> Iterator[Statement]:
    params, secrets = [], []
    for name, reference in sorted(s.secrets.items()):
        if review and name not in s.review_secrets:
            continue
        kind, _, ref = reference.partition(":")
        if kind == "ssm":
            params.append(arns.parameter(ref))
        elif kind == "secretsmanager":
            secrets.append(arns.secret(ref))
    if params:
        yield Statement("ReadParameters", ("ssm:GetParameters",), tuple(params))
    if secrets:
        yield Statement("ReadSecrets", ("secretsmanager:GetSecretValue",), tuple(secrets))


def _state(arns: Arns, s: Scope, *, write: bool, lock: bool = True) -> Iterator[Statement]:
    yield Statement("ListState", ("s3:ListBucket",), (arns.bucket(s.state_bucket),),
                    conditions={"StringEquals": {"s3:prefix": s.state_key}})
    state = arns.objects(s.state_bucket, s.state_key)
    if write:
        yield Statement("ReadWriteState", ("s3:GetObject", "s3:PutObject"), (state,))
    else:
        yield Statement("ReadState", ("s3:GetObject",), (state,))
    if lock:
        yield Statement("StateLock", ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
                        (arns.objects(s.state_bucket, s.lock_key),))
    yield kms(arns, s, "StateKey", write=True)


def review_build(arns: Arns, s: Scope) -> tuple[Statement, ...]:
    reviews = arns.objects(s.bucket, f"{s.review_prefix}/*")
    return (
        *_common(arns, s, "review"),
        *managed.reads(arns, s),
        # Review plans run without the state lock (-lock=false): no write to it.
        *_state(arns, s, write=False, lock=False),
        Statement("StoreReviewPlans", PLAN_OBJECT, (reviews,), conditions=CONDITIONAL_PUT),
        Statement("ReadReviewPlans", ("s3:GetObject",), (reviews,)),
        *_secrets(arns, s, review=True),
    )


def _deploy_plans(arns: Arns, s: Scope) -> tuple[str, ...]:
    return (arns.objects(s.bucket, f"{s.deploy_prefix}/*.tfplan"),
            arns.objects(s.bucket, f"{s.deploy_prefix}/*.json"))


def _records(arns: Arns, s: Scope) -> tuple[str, ...]:
    """The environment's own records beside its plans: apply history, locks, post-deploy,
    alias histories."""
    return tuple(arns.objects(s.bucket, f"{s.deploy_prefix}/{part}/*")
                 for part in ("applied", "locks", "post-deploy", "history"))


def plan_build(arns: Arns, s: Scope) -> tuple[Statement, ...]:
    return (
        *_common(arns, s, "plan"),
        *managed.reads(arns, s),
        *_state(arns, s, write=False),
        Statement("StoreDeployPlans", PLAN_OBJECT, _deploy_plans(arns, s),
                  conditions=CONDITIONAL_PUT),
        Statement("ReadDeployPlans", ("s3:GetObject",), _deploy_plans(arns, s)),
        # The plan patterns also match the records beside them: never those.
        Statement("NoRecords", PLAN_OBJECT, _records(arns, s), effect="Deny"),
        *_secrets(arns, s, review=False),
    )


def apply_build(arns: Arns, s: Scope) -> tuple[Statement, ...]:
    history = arns.objects(s.bucket, f"{s.deploy_prefix}/applied/*")
    lock = arns.objects(s.bucket, f"{s.deploy_prefix}/locks/*")
    return (
        *_common(arns, s, "apply"),
        *managed.reads(arns, s),
        *managed.writes(arns, s),
        *_state(arns, s, write=True),
        Statement("ReadDeployPlans", ("s3:GetObject",), _deploy_plans(arns, s)),
        Statement("ListApplyHistory", ("s3:ListBucket",), (arns.bucket(s.bucket),),
                  conditions={"StringLike": {"s3:prefix": f"{s.deploy_prefix}/applied/*"}}),
        Statement("AppendApplyHistory", ("s3:PutObject",), (history,),
                  conditions=CONDITIONAL_PUT),
        Statement("ReadApplyHistory", ("s3:GetObject",), (history,)),
        Statement("ApplyLock", ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"), (lock,)),
        kms(arns, s, "ArtifactsKey", write=True),
        Statement("ReadPlanBuildRecord", ("codebuild:BatchGetBuilds",),
                  (arns.project(s.projects["plan"]),)),
        *_secrets(arns, s, review=False),
    )


def post_deploy_build(arns: Arns, s: Scope) -> Iterator[Statement]:
    yield from _common(arns, s, "post_deploy")
    fns = functions(arns, s)
    if fns:
        yield Statement("PublishAndShift", (
            "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:PublishVersion",
            "lambda:GetAlias",
            "lambda:CreateAlias", "lambda:UpdateAlias", "lambda:PutFunctionScalingConfig",
            "lambda:InvokeFunction", "lambda:AddPermission", *PRUNE_FUNCTION_READS), fns)
        yield Statement("PruneVersions", PRUNE_DELETES, fns)
    if s.capacity_providers:
        yield Statement("ReadCapacityProviders", PRUNE_PROVIDER_READS, providers(arns, s))
    yield Statement("ListWithoutResourceLevelPermissions", tuple(UNSCOPED_ACTIONS), ("*",))
    if s.warm_rules:
        yield Statement("WarmSchedules", ("events:DescribeRule", "events:ListTargetsByRule",
                                          "events:PutRule", "events:PutTargets"),
                        tuple(arns.rule(r) for r in s.warm_rules))
    if s.alarms:
        yield Statement("CanaryAlarms", ("cloudwatch:DescribeAlarms",),
                        tuple(arns.alarm(a) for a in s.alarms))
    last = arns.objects(s.bucket, s.last_deploy_key)
    yield Statement("LastDeployRecord", ("s3:GetObject", "s3:PutObject"), (last,))
    # Appended before every alias move: read, then a conditional put (If-Match / If-None-Match).
    yield Statement("AliasHistory", ("s3:GetObject", "s3:PutObject"), (alias_history(arns, s),))
    yield list_alias_histories(arns, s)
    yield kms(arns, s, "ArtifactsKey", write=True)
    yield from _secrets(arns, s, review=False)
