"""Function scaling config of LMI versions: Put / GetFunctionScalingConfig.

Rules (AWS-FACTS.md): Min/MaxExecutionEnvironments within 0..15000, min <= max, min 0 needs
max 0; the qualifier is a published version or ``$LATEST.PUBLISHED``; a function that is not
on a capacity provider is refused with AccessDeniedException. The applied config equals the
requested one as soon as it is put.
"""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import Handler, LambdaOperations, json_body, split_function
from lmi_delivery.sandbox.protocol import Call, json_response
from lmi_delivery.sandbox.state import (
    LATEST_PUBLISHED,
    ApiError,
    FunctionRecord,
    function_arn,
    invalid,
    moto_function,
)

LIMIT = 15000
DEFAULT_ENVIRONMENTS = 3


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
        wanted = json_body(request).get("FunctionScalingConfig") or {}
        previous = record.scaling.get(qualifier, {})
        low = wanted.get("MinExecutionEnvironments",
                         previous.get("MinExecutionEnvironments", DEFAULT_ENVIRONMENTS))
        high = wanted.get("MaxExecutionEnvironments",
                          previous.get("MaxExecutionEnvironments", max(low, DEFAULT_ENVIRONMENTS)))
        for label, value in (("MinExecutionEnvironments", low),
                             ("MaxExecutionEnvironments", high)):
            if not isinstance(value, int) or not 0 <= value <= LIMIT:
                raise invalid(f"{label} must be an integer between 0 and {LIMIT}")
        if low > high:
            raise invalid("MinExecutionEnvironments must not exceed MaxExecutionEnvironments")
        if low == 0 and high != 0:
            raise invalid("MinExecutionEnvironments 0 requires MaxExecutionEnvironments 0")
        record.scaling[qualifier] = {"MinExecutionEnvironments": low,
                                     "MaxExecutionEnvironments": high}
        meta = self.state.version(call.region, name, qualifier)
        meta.settle()
        return json_response({"FunctionState": meta.state}, 202)

    def get(self, request: Request, call: Call) -> Response:
        name, qualifier, record = self._target(request, call)
        body: dict[str, object] = {"FunctionArn": function_arn(call.region, name, qualifier)}
        requested = record.scaling.get(qualifier)
        if requested is not None:
            body["RequestedFunctionScalingConfig"] = dict(requested)
            body["AppliedFunctionScalingConfig"] = dict(requested)
        return json_response(body)
