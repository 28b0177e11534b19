"""``bootstrap --apply``: create or update the plane's CloudFormation stack and wait for it.

The stack is created when it does not exist and updated when it does ("No updates are to be
performed" is success, unchanged). While CloudFormation works, each new stack event is told
(``say``); the outputs are returned once the stack is ``CREATE_COMPLETE`` or
``UPDATE_COMPLETE``. A stack that ends anywhere else is an
:class:`~lmi_delivery.errors.OperationFailed` naming the first resource that failed and
CloudFormation's reason; a stack already busy with another operation, or left
``ROLLBACK_COMPLETE`` by a failed create (CloudFormation can only delete it), is refused
(:class:`~lmi_delivery.errors.GateRefused`) before anything is sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lmi_delivery.aws.errors import error_code, is_aws_error, translated
from lmi_delivery.errors import GateRefused, OperationFailed

#: CloudFormation's limit of an inline ``TemplateBody``.
MAX_TEMPLATE_BYTES = 51_200
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
NO_UPDATES = "No updates are to be performed"


@dataclass(frozen=True)
class Deployed:
    stack: str
    outcome: Literal["created", "updated", "unchanged"]
    outputs: dict[str, str]


def compact(template: str) -> str:
    """The template without whitespace: what is sent."""
    return json.dumps(json.loads(template), separators=(",", ":"), sort_keys=False)


#: What a stack holds before the rest of the plane can be staged in its artifacts bucket.
STORAGE_TYPES = frozenset({"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::KMS::Key",
                           "AWS::KMS::Alias", "AWS::IAM::OIDCProvider"})


def fits_inline(template: str) -> bool:
    return len(compact(template).encode()) <= MAX_TEMPLATE_BYTES


def storage_only(template: str) -> str:
    """``template`` with only its buckets, their policies, the key and the OIDC provider, and
    the outputs that name nothing else: what a first create of a plane too large to send inline
    deploys, so that the whole template can then be staged in the bucket it made."""
    data = json.loads(template)
    kept = {k: v for k, v in data["Resources"].items() if v.get("Type") in STORAGE_TYPES}
    removed = set(data["Resources"]) - set(kept)
    data["Resources"] = kept
    data["Outputs"] = {k: v for k, v in data.get("Outputs", {}).items()
                       if not _refers(v, removed)}
    return json.dumps(data, indent=2) + "\n"


def _refers(value: Any, names: set[str]) -> bool:
    """Whether ``value`` holds a ``Ref`` or ``Fn::GetAtt`` of one of ``names``."""
    if isinstance(value, dict):
        if value.get("Ref") in names:
            return True
        target = value.get("Fn::GetAtt")
        if isinstance(target, list) and target and target[0] in names:
            return True
        return any(_refers(v, names) for v in value.values())
    if isinstance(value, list):
        return any(_refers(v, names) for v in value)
    return False


#: ``stage(body)``: store a template too large to send inline; its ``TemplateURL``.
Stage = Callable[[str], str]


def _template(body: str, stage: Stage | None) -> dict[str, str]:
    """``TemplateBody`` when it fits CloudFormation's inline limit, else ``TemplateURL`` of
    the body ``stage`` stored; too large with nowhere to stage it is an error that says so."""
    size = len(body.encode())
    if size <= MAX_TEMPLATE_BYTES:
        return {"TemplateBody": body}
    if stage is None:
        raise OperationFailed(f"the template is {size} bytes, over CloudFormation's "
                              f"{MAX_TEMPLATE_BYTES} for an inline template, and there is no "
                              "bucket to stage it in: pass --template-bucket BUCKET (an "
                              "existing bucket these credentials may write)")
    return {"TemplateURL": stage(body)}


def deploy_stack(cloudformation: Any, stack: str, template: str, *,
                 parameters: Mapping[str, str], say: Callable[[str], None],
                 poll_seconds: float = 5.0, timeout_seconds: float = 3600.0,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 stage: Stage | None = None) -> Deployed:
    body = compact(template)
    current = stack_status(cloudformation, stack)
    if current is not None and (current.endswith("_IN_PROGRESS") or
                                current == "ROLLBACK_COMPLETE"):
        why = ("a failed create left it so; delete the stack, then apply again"
               if current == "ROLLBACK_COMPLETE" else "another operation is in progress")
        raise GateRefused(f"stack {stack} is {current}: {why}")
    before = {e["EventId"] for e in _events(cloudformation, stack)} if current else set()
    request = {"StackName": stack, **_template(body, stage), "Capabilities": CAPABILITIES,
               "Parameters": [{"ParameterKey": k, "ParameterValue": v}
                              for k, v in parameters.items()]}
    outcome: Literal["created", "updated", "unchanged"]
    if current is None:
        with translated("CreateStack", where=stack):
            cloudformation.create_stack(**request)
        outcome = "created"
    else:
        try:
            cloudformation.update_stack(**request)
        except Exception as error:
            if is_aws_error(error) and NO_UPDATES in str(error):
                say(f"stack {stack}: no changes")
                return Deployed(stack, "unchanged", _outputs(cloudformation, stack))
            with translated("UpdateStack", where=stack):
                raise
        outcome = "updated"
    say(f"stack {stack}: {'creating' if outcome == 'created' else 'updating'}")
    status = _wait(cloudformation, stack, set(before), say, poll_seconds, timeout_seconds,
                   sleep, clock)
    if status not in DONE:
        failure = _first_failure(cloudformation, stack, before)
        raise OperationFailed(f"stack {stack} ended {status}: {failure}")
    return Deployed(stack, outcome, _outputs(cloudformation, stack))


def stack_status(cloudformation: Any, stack: str) -> str | None:
    """The stack's status; ``None`` when there is no such stack."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except Exception as error:
        if is_aws_error(error) and error_code(error) == "ValidationError" and \
                "does not exist" in str(error):
            return None
        with translated("DescribeStacks", where=stack):
            raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def _events(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    """The stack's events, oldest first."""
    with translated("DescribeStackEvents", where=stack):
        pages = cloudformation.get_paginator("describe_stack_events").paginate(StackName=stack)
        events = [e for page in pages for e in page["StackEvents"]]
    return events[::-1]


def _wait(cloudformation: Any, stack: str, seen: set[str], say: Callable[[str], None],
          poll_seconds: float, timeout_seconds: float, sleep: Callable[[float], None],
          clock: Callable[[], float]) -> str:
    deadline = clock() + timeout_seconds
    while True:
        for event in _events(cloudformation, stack):
            if event["EventId"] in seen:
                continue
            seen.add(event["EventId"])
            reason = f": {event['ResourceStatusReason']}" if event.get(
                "ResourceStatusReason") else ""
            say(f"  {event['ResourceStatus']:<20} {event.get('ResourceType', '')} "
                f"{event.get('LogicalResourceId', '')}{reason}")
        status = stack_status(cloudformation, stack) or "DELETE_COMPLETE"
        if not status.endswith("_IN_PROGRESS"):
            return status
        if clock() >= deadline:
            raise OperationFailed(f"stack {stack} still {status} after {timeout_seconds:.0f} s")
        sleep(poll_seconds)


def _first_failure(cloudformation: Any, stack: str, before: set[str]) -> str:
    """The first resource of this operation that failed, and why."""
    for event in _events(cloudformation, stack):
        if event["EventId"] not in before and event.get("LogicalResourceId") != stack and \
                str(event.get("ResourceStatus", "")).endswith("_FAILED"):
            return (f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}) "
                    f"{event['ResourceStatus']}: {event.get('ResourceStatusReason', '')}")
    return "CloudFormation gave no failing resource"


def _outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    with translated("DescribeStacks", where=stack):
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
