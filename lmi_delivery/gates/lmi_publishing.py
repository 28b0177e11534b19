"""Publishing on Lambda Managed Instances, as Terraform users meet it (LMI015, LMI016).

On LMI, ``$LATEST`` is ``ActiveNonInvocable``: what serves traffic is a published version (the
one an alias routes to) or ``$LATEST.PUBLISHED``, which an unqualified invoke runs and which
``PublishVersion`` moves only when asked to (``publish_to = "LATEST_PUBLISHED"``).

- LMI015: an LMI function the configuration aliases (``functions.<key>.alias``) with
  ``publish = false`` (the AWS provider's default): Terraform publishes nothing, so its
  ``version`` stays ``$LATEST`` and an alias made from it routes to code that cannot run.
- LMI016: an LMI function whose ``publish_to`` is not ``LATEST_PUBLISHED`` while something in
  the plan relies on ``$LATEST.PUBLISHED``: a resource that names the qualifier
  ``$LATEST.PUBLISHED`` for it, or one that invokes it unqualified (an event source mapping,
  a permission or function URL without a qualifier, an event target, a subscription, an API
  integration): an apply leaves ``$LATEST.PUBLISHED`` on the old code, or missing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from lmi_delivery.findings import Finding
from lmi_delivery.gates.plan_json import Plan, Resource
from lmi_delivery.gates.rules import finding

LATEST_PUBLISHED = "$LATEST.PUBLISHED"
PUBLISH_TO = "LATEST_PUBLISHED"
#: Resources that invoke (or let others invoke) the function they name.
INVOKERS = ("aws_lambda_event_source_mapping", "aws_lambda_permission", "aws_lambda_function_url",
            "aws_cloudwatch_event_target", "aws_sns_topic_subscription",
            "aws_api_gateway_integration", "aws_apigatewayv2_integration",
            "aws_s3_bucket_notification", "aws_lambda_function_event_invoke_config",
            "aws_scheduler_schedule", "aws_pipes_pipe")
#: Attributes of ``aws_lambda_function`` that name it without a qualifier.
_UNQUALIFIED = ("arn", "function_name", "invoke_arn", "id")
_FUNCTION_REF = re.compile(r'^aws_lambda_function\.([\w-]+)(?:\[(?:"[^"]*"|[^\]"])*\])?'
                           r'(?:\.([\w-]+))?')


def check(plan: Plan, functions: Sequence[Resource], aliased: Collection[str]) -> list[Finding]:
    found: list[Finding] = []
    for function in functions:
        found += _publish(function, aliased)
        found += _publish_to(plan, function)
    return found


def _publish(function: Resource, aliased: Collection[str]) -> Iterator[Finding]:
    name = function.values.get("function_name")
    if not isinstance(name, str) or name not in aliased:
        return
    if function.values.get("publish") is True or function.unknown.get("publish") is True:
        return
    yield finding("LMI015", function.address, f"publish is false, but lmi-delivery.yml gives "
                  f"{name} an alias: Terraform publishes no version, its `version` stays "
                  "$LATEST, which on managed instances cannot be invoked; set publish = true")


def _publish_to(plan: Plan, function: Resource) -> Iterator[Finding]:
    if function.values.get("publish_to") == PUBLISH_TO or \
            function.unknown.get("publish_to") is True:
        return
    reliers = sorted(set(_reliers(plan, function)))
    if not reliers:
        return
    shown = "; ".join(reliers[:5]) + (f"; and {len(reliers) - 5} more" if len(reliers) > 5
                                       else "")
    yield finding("LMI016", function.address, f"publish_to is not \"{PUBLISH_TO}\", but "
                  f"{LATEST_PUBLISHED} is relied on ({shown}): an apply leaves "
                  f"{LATEST_PUBLISHED} on the previous code, or missing; set publish_to = "
                  f"\"{PUBLISH_TO}\"")


def _reliers(plan: Plan, function: Resource) -> Iterator[str]:
    names = {str(v) for v in (function.values.get("function_name"), function.values.get("arn"))
             if isinstance(v, str) and v}
    for other in plan.resources():
        if other.mode != "managed" or other.address == function.address:
            continue
        refs = _references_to(plan, other, function)
        values = list(_strings(other.values))
        exact = any(s in names for s in values)
        if not (refs or exact or any(s.rsplit(":", 1)[0] in names for s in values)):
            continue
        if any(_latest_published(v) for v in values):
            yield f"{other.address} names {LATEST_PUBLISHED}"
        elif other.type in INVOKERS and _unqualified(other, refs, exact):
            yield f"{other.address} invokes it unqualified"


def _references_to(plan: Plan, other: Resource, function: Resource) -> set[str]:
    """The attributes of ``function`` that ``other``'s configuration references."""
    attributes: set[str] = set()
    for instance, reference in plan.traced_references(other):
        match = _FUNCTION_REF.match(reference)
        if match and match.group(1) == function.name and instance == function.module_instance:
            attributes.add(match.group(2) or "")
    return attributes


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _latest_published(value: str) -> bool:
    return value == LATEST_PUBLISHED or value.endswith(f":{LATEST_PUBLISHED}")


def _unqualified(other: Resource, refs: set[str], exact: bool) -> bool:
    """An invoker names the function with no qualifier (and sets no ``qualifier``): through
    an unqualified attribute of its resource, or by its plain name or ARN."""
    if other.values.get("qualifier") or other.unknown.get("qualifier") is True:
        return False
    if refs:
        return bool(refs & {*_UNQUALIFIED, ""}) and not refs & {"qualified_arn",
                                                                "qualified_invoke_arn",
                                                                "version"}
    return exact
