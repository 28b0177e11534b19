"""Function scaling config of LMI versions: Put / GetFunctionScalingConfig.

Rules (AWS-FACTS.md): Min/MaxExecutionEnvironments are given together, within 0..15000 (a
model constraint: ``ValidationException`` outside it), min <= max, min 0 needs max 0; the
qualifier is a published version or ``$LATEST.PUBLISHED``; a function that is not on a capacity
provider is refused with AccessDeniedException; a version still starting (``Pending``) or being
deleted answers ``ResourceConflictException`` (retry later). A Put without a config resets the
version to the default scaling.

A config is ``Requested`` for ``scaling_delay_seconds``, then ``Applied``, and no longer shown
as requested. 0/0 deactivates the version: ``Deactivating`` until applied, then
``Deactivated``: not invocable, and it stays so until a Put gives it environments again (it
then starts over, ``Pending`` -> ``Active``). A config on ``$LATEST.PUBLISHED`` carries over to
the next publish to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import Handler, LambdaOperations, json_body, split_function
from lmi_delivery.sandbox.protocol import Call, json_response
from lmi_delivery.sandbox.state import (
    LATEST_PUBLISHED,
    ApiError,
    FunctionRecord,
    ScalingRecord,
    conflict_state,
    function_arn,
    invalid,
    moto_function,
)

LIMIT = 15000
MIN, MAX = "MinExecutionEnvironments", "MaxExecutionEnvironments"
#: States in which a version's scaling cannot change yet (or any more).
_BUSY = ("Pending", "Deleting")


class ScalingOperations(LambdaOperations):
    def handlers(self) -> Mapping[str, Handler]:
        return {"PutFunctionScalingConfig": self.put, "GetFunctionScalingConfig": self.get}

    def _target(self, request: Request, call: Call) -> tuple[str, str, FunctionRecord]:
        name, _ = split_function(call.params["FunctionName"])
        qualifier = request.args.get("Qualifier")
        if not qualifier or not (qualifier.isdigit() or qualifier == LATEST_PUBLISHED):
            raise invalid("Qualifier must be a published version number or $LATEST.PUBLISHED")
        moto_function(call.region, name)
        record = self.state.function(call.region, name)
        if not record.is_lmi:
            raise ApiError(403, "AccessDeniedException",
                           f"Function {name} does not run on a capacity provider: "
                           "function scaling config applies to Lambda Managed Instances only")
        moto_function(call.region, name, qualifier)
        return name, qualifier, record

    def put(self, request: Request, call: Call) -> Response:
        name, qualifier, record = self._target(request, call)
        wanted = _wanted(json_body(request).get("FunctionScalingConfig"))
        meta = self.state.version(call.region, name, qualifier)
        meta.settle()
        if meta.state in _BUSY:
            raise conflict_state(meta.state)
        now = self.state.clock()
        previous = record.scaling.get(qualifier)
        applied = previous.in_force() if previous is not None else None
        if wanted is None:
            record.scaling.pop(qualifier, None)
        else:
            record.scaling[qualifier] = ScalingRecord(
                wanted, applied, now + self.options.scaling_delay_seconds, self.state.clock)
        if wanted is not None and wanted[MAX] == 0:
            if meta.state != "Deactivated":
                meta.state = "Deactivating"
                meta.ready_at = now + self.options.scaling_delay_seconds
        elif meta.state in ("Deactivating", "Deactivated"):
            meta.state = "Pending"  # environments again: the version starts over
            meta.ready_at = now + self.options.publish_delay_seconds
        return json_response({"FunctionState": meta.state}, 202)

    def get(self, request: Request, call: Call) -> Response:
        name, qualifier, record = self._target(request, call)
        body: dict[str, object] = {"FunctionArn": function_arn(call.region, name, qualifier)}
        found = record.scaling.get(qualifier)
        if found is not None:
            found.settle()
            if found.requested is not None:
                body["RequestedFunctionScalingConfig"] = dict(found.requested)
            if found.applied is not None:
                body["AppliedFunctionScalingConfig"] = dict(found.applied)
        return json_response(body)


def _wanted(config: Any) -> dict[str, int] | None:
    """The config a Put asks for; ``None`` resets to the default."""
    if not config:
        return None
    if not isinstance(config, dict):
        raise invalid("FunctionScalingConfig must be an object")
    given = [key for key in (MIN, MAX) if config.get(key) is not None]
    if len(given) == 1:
        raise invalid(f"{MIN} and {MAX} must be set together")
    if not given:
        return None
    low, high = config[MIN], config[MAX]
    for label, value in ((MIN, low), (MAX, high)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid(f"{label} must be an integer")
        if not 0 <= value <= LIMIT:
            raise ApiError(400, "ValidationException",
                           f"1 validation error detected: Value '{value}' at "
                           f"'functionScalingConfig.{label[0].lower()}{label[1:]}' failed to "
                           f"satisfy constraint: Member must have value between 0 and {LIMIT}")
    if low > high:
        raise invalid(f"{MIN} must not exceed {MAX}")
    if low == 0 and high != 0:
        raise invalid(f"{MIN} 0 requires {MAX} 0")
    return {MIN: low, MAX: high}
