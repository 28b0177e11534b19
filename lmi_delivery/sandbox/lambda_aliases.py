"""Alias rules moto does not enforce, and alias listing as AWS pages it.

- RoutingConfig: at most one additional version, weight 0.0-1.0, not the primary version,
  both versions published (not ``$LATEST``) and existing.
- UpdateAlias honours ``RevisionId`` (PreconditionFailedException) and gives the alias a new
  revision id on every change; it answers 200 as AWS does.
- ListAliases filters by ``FunctionVersion`` and pages at 50 items.
"""

from __future__ import annotations

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
from lmi_delivery.sandbox.lambda_versions import check_revision
from lmi_delivery.sandbox.protocol import Call, json_response
from lmi_delivery.sandbox.state import LATEST, invalid, moto_function


class AliasOperations(LambdaOperations):
    def handlers(self) -> Mapping[str, Handler]:
        return {"CreateAlias": self.create_alias, "UpdateAlias": self.update_alias,
                "ListAliases": self.list_aliases}

    def validate(self, region: str, name: str, primary: str, routing: Any) -> None:
        moto_function(region, name, primary)
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
                raise invalid(f"Weight of version {version} must be between 0.0 and 1.0")
            if str(version) == primary:
                raise invalid(f"Version {version} is the primary version of the alias and "
                              "cannot also be an additional version")
            if primary == LATEST or not str(version).isdigit():
                raise invalid("Weighted routing needs published versions: "
                              "$LATEST cannot take part")
            moto_function(region, name, str(version))

    def create_alias(self, request: Request, call: Call) -> Response:
        name, _ = split_function(call.params["FunctionName"])
        body = json_body(request)
        self.validate(call.region, name, str(body.get("FunctionVersion")),
                      body.get("RoutingConfig"))
        return self.forward(request, None)

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
