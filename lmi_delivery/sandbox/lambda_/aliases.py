"""Alias rules moto does not enforce, and alias listing as AWS pages it.

- RoutingConfig: at most one additional version, not the primary version, both versions
  published (not ``$LATEST``) and existing, neither being deleted.
- Model constraints break with ``ValidationException``: a weight outside 0.0-1.0, an alias name
  of digits only (botocore checks neither). A second alias of one name is
  ``ResourceConflictException`` (moto says ``ConflictException``).
- UpdateAlias honours ``RevisionId`` (PreconditionFailedException) and gives the alias a new
  revision id on every change; it answers 200 as AWS does.
- ListAliases filters by ``FunctionVersion`` and pages at 50 items.

Every routing change is kept (``SandboxState.routing_changes``) with the *applied* minimum
execution environments of the function's versions at that moment, so a test can check what
capacity each routing had.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import (
    Handler,
    LambdaOperations,
    json_body,
    paginate,
    response_json,
    split_function,
)
from lmi_delivery.sandbox.lambda_.versions import check_revision
from lmi_delivery.sandbox.protocol import Call, json_response
from lmi_delivery.sandbox.state import (
    LATEST,
    ApiError,
    RoutingChange,
    conflict,
    conflict_state,
    function_arn,
    invalid,
    moto_function,
)

#: botocore's model of an alias name: 1..128 of [a-zA-Z0-9-_], not digits only.
ALIAS_NAME = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)")


def _constraint(message: str) -> ApiError:
    return ApiError(400, "ValidationException", f"1 validation error detected: {message}")


class AliasOperations(LambdaOperations):
    def handlers(self) -> Mapping[str, Handler]:
        return {"CreateAlias": self.create_alias, "UpdateAlias": self.update_alias,
                "ListAliases": self.list_aliases}

    def validate(self, region: str, name: str, primary: str, routing: Any) -> None:
        moto_function(region, name, primary)
        self._not_deleting(region, name, primary)
        if routing is None:
            return
        if not isinstance(routing, dict):
            raise invalid("RoutingConfig must be an object")
        weights = routing.get("AdditionalVersionWeights") or {}
        if not isinstance(weights, dict):
            raise invalid("AdditionalVersionWeights must be a map of version to weight")
        if len(weights) > 1:
            raise invalid("RoutingConfig supports at most one additional version, "
                          f"got {len(weights)}")
        for version, weight in weights.items():
            if not isinstance(weight, int | float) or not 0.0 <= float(weight) <= 1.0:
                raise _constraint(f"Value '{weight}' at 'routingConfig.additionalVersionWeights."
                                  f"{version}.member' failed to satisfy constraint: Member must "
                                  "have value between 0.0 and 1.0")
            if str(version) == primary:
                raise invalid(f"Version {version} is the primary version of the alias and "
                              "cannot also be an additional version")
            if primary == LATEST or not str(version).isdigit():
                raise invalid("Weighted routing needs published versions: "
                              "$LATEST cannot take part")
            moto_function(region, name, str(version))
            self._not_deleting(region, name, str(version))

    def _not_deleting(self, region: str, name: str, version: str) -> None:
        if (region, name) in self.state.functions:
            state = self.state.version(region, name, version).state
            if state == "Deleting":
                raise conflict_state(state)

    def create_alias(self, request: Request, call: Call) -> Response:
        name, _ = split_function(call.params["FunctionName"])
        body = json_body(request)
        alias = str(body.get("Name") or "")
        if not ALIAS_NAME.fullmatch(alias) or len(alias) > 128:
            raise _constraint(f"Value '{alias}' at 'name' failed to satisfy constraint: Member "
                              "must satisfy regular expression pattern: "
                              "(?!^[0-9]+$)([a-zA-Z0-9-_]+)")
        moto_function(call.region, name)
        if any(a.name == alias for a in self.state.backend(call.region).list_aliases(name)):
            raise conflict(f"Alias already exists: {function_arn(call.region, name, alias)}")
        self.validate(call.region, name, str(body.get("FunctionVersion")),
                      body.get("RoutingConfig"))
        answer = self.forward(request, None)
        if answer.status_code < 300:
            self._changed(call.region, name, alias, str(body.get("FunctionVersion")),
                          body.get("RoutingConfig"))
        return answer

    def _changed(self, region: str, name: str, alias: str, version: str, routing: Any) -> None:
        weights = {str(k): float(v) for k, v in
                   ((routing or {}).get("AdditionalVersionWeights") or {}).items()}
        applied: dict[str, int | None] = {}
        if (region, name) in self.state.functions:
            for qualifier, scaling in self.state.function(region, name).scaling.items():
                in_force = scaling.in_force()
                applied[qualifier] = (None if in_force is None
                                      else int(in_force["MinExecutionEnvironments"]))
        self.state.routing_changes.append(
            RoutingChange(name, alias, version, weights, applied, time.time()))

    def update_alias(self, request: Request, call: Call) -> Response:
        name, _ = split_function(call.params["FunctionName"])
        body = json_body(request)
        alias = self.state.backend(call.region).get_alias(call.params["Name"], name)
        check_revision(body.get("RevisionId"), alias.revision_id)
        primary = str(body.get("FunctionVersion") or alias.function_version)
        routing = body.get("RoutingConfig")
        if routing is None and body.get("FunctionVersion") is None:
            routing = alias.routing_config or None
        self.validate(call.region, name, primary, routing)
        alias.update(body.get("Description"), body.get("FunctionVersion"),
                     body.get("RoutingConfig"))
        alias.revision_id = str(uuid.uuid4())
        self._changed(call.region, name, alias.name, str(alias.function_version),
                      alias.routing_config)
        return json_response(alias.to_json())

    def list_aliases(self, request: Request, call: Call) -> Response:
        response = self.forward(request, None)
        if response.status_code != 200:
            return response
        aliases = response_json(response)["Aliases"]
        version = request.args.get("FunctionVersion")
        if version:
            aliases = [a for a in aliases if a["FunctionVersion"] == version]
        page, marker = paginate(aliases, request)
        return json_response({"Aliases": page, **({"NextMarker": marker} if marker else {})})
