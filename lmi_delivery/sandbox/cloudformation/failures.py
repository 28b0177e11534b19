"""A resource that cannot be created fails its stack, as CloudFormation reports it.

moto creates a stack's resources inside ``CreateStack`` and lets a resource's error escape (an
error answer or an HTTP 500, the stack left ``CREATE_IN_PROGRESS``). :func:`record_failures`
notes, per stack, the first resource whose create or update raised; :class:`StackFailures` (an
extension) then turns moto's error into what CloudFormation does: the call succeeds with the
stack's id, and the stack shows the resource's ``CREATE_FAILED`` (or ``UPDATE_FAILED``) event
with the error as its reason, then ``ROLLBACK_COMPLETE`` (``UPDATE_ROLLBACK_COMPLETE``), with no
outputs. The resources already made are deleted on a failed create (those with
``DeletionPolicy: Retain`` kept); a failed update is not undone (moto cannot restore the
previous template's resources).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.cloudformation import parsing
from moto.cloudformation.models import Event, cloudformation_backends
from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import call_of

Forward = Callable[[Request, bytes | None], Response]


@dataclass(frozen=True)
class Failure:
    logical_id: str
    resource_type: str
    reason: str


_lock = threading.Lock()
_failures: dict[str, Failure] = {}


def _recording(create: Any) -> Any:
    if getattr(create, "records_failures", False):
        return create

    def wrapper(logical_id: str, resource_json: dict[str, Any], resources_map: Any,
                *args: Any, **kwargs: Any) -> Any:
        try:
            return create(logical_id, resource_json, resources_map, *args, **kwargs)
        except Exception as error:
            with _lock:
                _failures.setdefault(str(resources_map.stack_id), Failure(
                    logical_id, str(resource_json.get("Type", "")), str(error) or repr(error)))
            raise

    wrapper.records_failures = True  # type: ignore[attr-defined]  # marks the wrapped function
    return wrapper


def record_failures() -> None:
    parsing.parse_and_create_resource = _recording(parsing.parse_and_create_resource)
    parsing.parse_and_update_resource = _recording(parsing.parse_and_update_resource)


class StackFailures:
    """Answers a ``CreateStack`` / ``UpdateStack`` whose resource failed, as CloudFormation."""

    def __init__(self, forward: Forward, account: str, region: str) -> None:
        self.forward, self.account, self.region = forward, account, region

    def handle(self, request: Request) -> Response | None:
        call = call_of(request, self.region)
        if call.service != "cloudformation" or call.operation not in ("CreateStack",
                                                                      "UpdateStack"):
            return None
        try:
            answer: Response | None = self.forward(request, None)
        except Exception:  # moto lets a resource's error escape; a recorded failure explains it
            answer = None
        if answer is not None and answer.status_code < 400:
            return answer
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        backend = cloudformation_backends[self.account][call.region]
        stack = next((s for s in backend.stacks.values()
                      if form.get("StackName") in (s.name, s.stack_id)), None)
        with _lock:
            failure = _failures.pop(str(stack.stack_id), None) if stack is not None else None
        if stack is None or failure is None:
            return answer if answer is not None else Response(
                "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
                "<Message>CloudFormation failed</Message></Error></ErrorResponse>",
                status=500, content_type="text/xml")
        _fail(stack, failure, create=call.operation == "CreateStack")
        xml = (f"<{call.operation}Response><{call.operation}Result><StackId>"
               f"{escape(stack.stack_id)}</StackId></{call.operation}Result><ResponseMetadata>"
               f"<RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
               f"</{call.operation}Response>")
        return Response(xml, status=200, content_type="text/xml")


def _fail(stack: Any, failure: Failure, *, create: bool) -> None:
    verb = "CREATE" if create else "UPDATE"
    stack.events.append(Event(
        stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=failure.logical_id,
        physical_resource_id="", resource_type=failure.resource_type,
        resource_status=f"{verb}_FAILED", resource_status_reason=failure.reason,
        resource_properties=None))
    rollback = "ROLLBACK" if create else "UPDATE_ROLLBACK"
    stack._add_stack_event(f"{rollback}_IN_PROGRESS", resource_status_reason=(
        f"The following resource(s) failed to {verb.lower()}: [{failure.logical_id}]."))
    if create:
        with contextlib.suppress(Exception):  # a rollback that cannot delete all still ends
            stack.resource_map.delete()
    # A failed stack has no outputs (moto would create their resources to read them).
    stack.template_dict = {**stack.template_dict, "Outputs": {}}
    stack.output_map = stack._create_output_map()
    stack.status = f"{rollback}_COMPLETE"
    stack._add_stack_event(stack.status)
