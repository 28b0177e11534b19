"""The scheduled warm-up: an EventBridge rule whose target is the alias, not the function.

The rule is named by the naming rule with the function's key plus ``-warm`` (for
``{service}-{env}-{name}``: ``shop-dev-router-warm``), runs ``warm.schedule`` (for example
``rate(5 minutes)``) and sends the payload of :mod:`lmi_delivery.warmup` to the alias ARN
(``…:function:NAME:ALIAS``), so the scheduled ping reaches the version users are served by. The
alias gets a resource policy statement letting EventBridge invoke it. Every part is idempotent:
planning compares what exists with what is wanted and the executor changes only what differs.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.postdeploy.publish import aws_call
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.warmup import warmup_payload

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient

TARGET_ID = "lmi-delivery-warmup"
#: The warm-up rule of a function: the naming rule's (the security gate looks for the same name).
rule_name = naming.warm_rule_name


@dataclass(frozen=True)
class ScheduleChange:
    function: str
    alias: str
    rule: str
    expression: str
    target_arn: str
    action: str
    """``create``, ``update`` or ``unchanged``."""

    def describe(self) -> str:
        return (f"{self.action} EventBridge rule {self.rule} ({self.expression}) -> "
                f"{self.target_arn}")


def target_input() -> str:
    return json.dumps(warmup_payload("schedule"), sort_keys=True)


def plan_schedule(events: EventBridgeClient, lam: LambdaClient, config: Config,
                  env: Environment, key: str) -> ScheduleChange | None:
    """Read-only: how the function's warm-up rule must change (``None``: no schedule set)."""
    fn = config.functions[key]
    if fn.warm is None or not fn.warm.schedule:
        return None
    name = naming.function_name(config, env, key)
    conf: Any = aws_call("GetFunctionConfiguration",
                         lambda: lam.get_function_configuration(FunctionName=name),
                         function=name)
    arn = f"{str(conf['FunctionArn']).split(':function:')[0]}:function:{name}:{fn.alias}"
    rule = rule_name(config, env, key)
    try:
        found: Any = events.describe_rule(Name=rule)
    except events.exceptions.ResourceNotFoundException:
        return ScheduleChange(name, fn.alias, rule, fn.warm.schedule, arn, "create")
    targets: Any = events.list_targets_by_rule(Rule=rule).get("Targets", [])
    ours = [t for t in targets if t.get("Id") == TARGET_ID]
    same = (found.get("ScheduleExpression") == fn.warm.schedule
            and found.get("State") == "ENABLED"
            and len(ours) == 1 and ours[0].get("Arn") == arn
            and ours[0].get("Input") == target_input())
    return ScheduleChange(name, fn.alias, rule, fn.warm.schedule, arn,
                          "unchanged" if same else "update")


def execute_schedule(events: EventBridgeClient, lam: LambdaClient, change: ScheduleChange, *,
                     reporter: ProgressLog) -> None:
    if change.action == "unchanged":
        reporter.record("schedule", change.function, "unchanged",
                        message=f"schedule {change.rule} already targets {change.target_arn}")
        return
    rule: Any = events.put_rule(
        Name=change.rule, ScheduleExpression=change.expression, State="ENABLED",
        Description=f"lmi-delivery warm-up of {change.function}:{change.alias}")
    events.put_targets(Rule=change.rule, Targets=[
        {"Id": TARGET_ID, "Arn": change.target_arn, "Input": target_input()}])
    # A ResourceConflictException means the statement exists already: same rule, same alias.
    with contextlib.suppress(lam.exceptions.ResourceConflictException):
        lam.add_permission(FunctionName=change.function, Qualifier=change.alias,
                           StatementId=f"{TARGET_ID}-{change.rule}"[:100],
                           Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                           SourceArn=str(rule["RuleArn"]))
    reporter.record("schedule", change.function, change.action,
                    message=f"schedule: {change.describe()}")
