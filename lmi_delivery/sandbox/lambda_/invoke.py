"""Invoke without Docker: resolve the version, refuse what AWS refuses, record the call.

The answer is 200 (202 for ``Event``, 204 for ``DryRun``) with ``X-Amz-Executed-Version`` and
a small JSON body. An unqualified invoke of an LMI function runs ``$LATEST.PUBLISHED``. An
alias with weighted routing picks its additional version with the sandbox's seeded RNG. A
function made to fail (``Sandbox.fail_invocations``) answers as a handler that raised does:
200 with ``X-Amz-Function-Error: Unhandled`` and an error body.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import Handler, LambdaOperations, split_function
from lmi_delivery.sandbox.protocol import Call, json_response
from lmi_delivery.sandbox.state import (
    LATEST,
    LATEST_PUBLISHED,
    ApiError,
    Invocation,
    conflict,
    function_arn,
    moto_function,
    not_found,
    routing_weights,
)


class InvokeOperations(LambdaOperations):
    def handlers(self) -> Mapping[str, Handler]:
        return {"Invoke": self.invoke}

    def resolve(self, region: str, name: str, qualifier: str | None) -> str:
        """The version a qualifier (version, alias or none) executes."""
        backend = self.state.backend(region)
        moto_function(region, name)
        record = self.state.function(region, name)
        if qualifier is None:
            if not record.is_lmi:
                return LATEST
            if LATEST_PUBLISHED not in record.versions:
                raise ApiError(400, "NoPublishedVersionException",
                               f"Function {name} has no published version to invoke: "
                               "publish with PublishTo=LATEST_PUBLISHED or use a qualifier")
            return LATEST_PUBLISHED
        if qualifier in (LATEST, LATEST_PUBLISHED) or qualifier.isdigit():
            moto_function(region, name, qualifier)
            return qualifier
        aliases = {alias.name: alias for alias in backend.list_aliases(name)}
        alias = aliases.get(qualifier)
        if alias is None:
            raise not_found(f"Function not found: {function_arn(region, name, qualifier)}")
        version = str(alias.function_version)
        for extra, weight in routing_weights(alias.routing_config).items():
            if self.state.routing.random() < float(weight):
                version = str(extra)
        return version

    def invoke(self, request: Request, call: Call) -> Response:
        name, qualifier = split_function(call.params["FunctionName"])
        qualifier = request.args.get("Qualifier") or qualifier
        version = self.resolve(call.region, name, qualifier)
        meta = self.state.version(call.region, name, version)
        meta.settle()
        if meta.state != "Active":
            raise conflict("The operation cannot be performed at this time. The function is "
                           f"currently in the following state: {meta.state}")
        payload = request.get_data(as_text=True)
        self.state.invocations.append(Invocation(name, qualifier, version, payload,
                                                 call.region, time.time()))
        headers = {"X-Amz-Executed-Version": version}
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind == "Event":
            return Response(status=202, headers=headers)
        if kind == "DryRun":
            return Response(status=204, headers=headers)
        failing = self.state.function(call.region, name).failing_invocations
        if failing:
            headers["X-Amz-Function-Error"] = failing
            return json_response({"errorMessage": f"{name} failed (sandbox)",
                                  "errorType": "SandboxFailure"}, 200, headers)
        body = {"statusCode": 200, "function": name, "executedVersion": version}
        return json_response(body, 200, headers)
