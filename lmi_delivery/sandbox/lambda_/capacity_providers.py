"""Capacity providers (API version 2025-11-30), which moto does not know at all.

Create / Get / Update / Delete / List, and ListFunctionVersionsByCapacityProvider. A created
or updated provider is ``Pending`` for ``capacity_provider_delay_seconds``, then ``Active``.
Delete is refused while any function version still references the provider (versions being
deleted included), with AWS's message, which the Terraform provider's retry looks for ("To delete
this capacity provider, first remove its association"); a deleted provider stays ``Deleting``
for ``delete_delay_seconds``. Versions being deleted are listed with ``State: Deleting``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import Handler, LambdaOperations, json_body, paginate
from lmi_delivery.sandbox.protocol import Call, json_response
from lmi_delivery.sandbox.state import (
    PROVIDER,
    ApiError,
    CapacityProvider,
    conflict,
    function_arn,
    invalid,
    now_iso,
)

#: The part of AWS's refusal that the Terraform AWS provider retries on.
IN_USE = "To delete this capacity provider, first remove its association"

MAX_PROVIDERS = 1000
NAME = re.compile(r"[a-zA-Z0-9-_]{1,140}")
SPEC_KEYS = ("VpcConfig", "PermissionsConfig", "InstanceRequirements",
             "CapacityProviderScalingConfig", "KmsKeyArn", "PropagateTags", "TelemetryConfig")


def validate_spec(spec: Mapping[str, Any]) -> None:
    requirements = spec.get("InstanceRequirements") or {}
    if requirements.get("AllowedInstanceTypes") and requirements.get("ExcludedInstanceTypes"):
        raise invalid("InstanceRequirements takes AllowedInstanceTypes or "
                      "ExcludedInstanceTypes, not both")
    scaling = spec.get("CapacityProviderScalingConfig") or {}
    mode = scaling.get("ScalingMode", "Auto")
    if mode not in ("Auto", "Manual"):
        raise invalid(f"ScalingMode must be Auto or Manual, not {mode}")
    if scaling.get("ScalingPolicies") and mode != "Manual":
        raise invalid("ScalingPolicies are allowed only with ScalingMode Manual")
    vcpus = scaling.get("MaxVCpuCount")
    if vcpus is not None and not 2 <= int(vcpus) <= 15000:
        raise invalid("MaxVCpuCount must be between 2 and 15000")


class CapacityProviderOperations(LambdaOperations):
    def handlers(self) -> Mapping[str, Handler]:
        return {
            "CreateCapacityProvider": self.create,
            "GetCapacityProvider": self.get,
            "UpdateCapacityProvider": self.update,
            "DeleteCapacityProvider": self.delete,
            "ListCapacityProviders": self.list,
            "ListFunctionVersionsByCapacityProvider": self.list_function_versions,
        }

    def create(self, request: Request, call: Call) -> Response:
        body = json_body(request)
        name = str(body.get("CapacityProviderName") or "")
        if not NAME.fullmatch(name):
            raise invalid(f"Invalid capacity provider name: {name!r}")
        for required in ("VpcConfig", "PermissionsConfig"):
            if not body.get(required):
                raise invalid(f"{required} is required")
        if (call.region, name) in self.state.providers:
            raise conflict(f"Capacity provider already exists: {name}")
        if len(self.state.providers) >= MAX_PROVIDERS:
            raise ApiError(400, "CapacityProviderLimitExceededException",
                           f"Limit of {MAX_PROVIDERS} capacity providers reached")
        spec = {k: copy.deepcopy(body[k]) for k in SPEC_KEYS if body.get(k) is not None}
        spec.setdefault("CapacityProviderScalingConfig", {})
        spec["CapacityProviderScalingConfig"].setdefault("ScalingMode", "Auto")
        validate_spec(spec)
        provider = CapacityProvider(name, call.region, spec, clock=self.state.clock)
        self._pending(provider)
        self.state.providers[(call.region, name)] = provider
        return json_response({"CapacityProvider": provider.to_json(settle=False)}, 202)

    def _pending(self, provider: CapacityProvider) -> None:
        provider.state = "Pending"
        provider.ready_at = self.state.clock() + self.options.capacity_provider_delay_seconds

    def get(self, request: Request, call: Call) -> Response:
        provider = self.state.provider_by_name_or_arn(call.region,
                                                      call.params["CapacityProviderName"])
        return json_response({"CapacityProvider": provider.to_json()})

    def update(self, request: Request, call: Call) -> Response:
        provider = self.state.provider_by_name_or_arn(call.region,
                                                      call.params["CapacityProviderName"])
        body = json_body(request)
        spec = copy.deepcopy(provider.spec)
        for key in ("CapacityProviderScalingConfig", "PropagateTags", "TelemetryConfig"):
            if body.get(key) is not None:
                spec[key] = {**spec.get(key, {}), **body[key]}
        validate_spec(spec)
        if provider.state == "Deleting":
            raise conflict(f"Capacity provider {provider.name} is being deleted")
        provider.spec = spec
        provider.last_modified = now_iso()
        self._pending(provider)
        return json_response({"CapacityProvider": provider.to_json(settle=False)}, 202)

    def delete(self, request: Request, call: Call) -> Response:
        provider = self.state.provider_by_name_or_arn(call.region,
                                                      call.params["CapacityProviderName"])
        if provider.state == "Deleting":
            return json_response({"CapacityProvider": provider.to_json()}, 202)
        users = {(region, name) for region, name, _ in
                 self.state.versions_using(provider.arn, published_only=False)}
        if users:
            raise conflict(f"The capacity provider is currently in use by {len(users)} "
                           f"functions. {IN_USE} with {provider.arn}.")
        provider.state = "Deleting"
        delay = self.options.delete_delay_seconds
        if delay <= 0:
            del self.state.providers[(provider.region, provider.name)]
        else:
            self.state.delete_later(self.state.clock() + delay, provider.region, provider.name,
                                    PROVIDER)
        return json_response({"CapacityProvider": provider.to_json()}, 202)

    def list(self, request: Request, call: Call) -> Response:
        wanted = request.args.get("State")
        for provider in self.state.providers.values():
            provider.settle()
        providers = [p.to_json() for (region, _), p in sorted(self.state.providers.items())
                     if region == call.region and (wanted is None or p.state == wanted)]
        page, marker = paginate(providers, request)
        return json_response({"CapacityProviders": page,
                              **({"NextMarker": marker} if marker else {})})

    def list_function_versions(self, request: Request, call: Call) -> Response:
        provider = self.state.provider_by_name_or_arn(call.region,
                                                      call.params["CapacityProviderName"])
        items = []
        for region, name, version in self.state.versions_using(provider.arn,
                                                               published_only=True):
            meta = self.state.version(region, name, version)
            meta.settle()
            items.append({"FunctionArn": function_arn(region, name, version),
                          "State": meta.state})
        page, marker = paginate(items, request)
        return json_response({"CapacityProviderArn": provider.arn, "FunctionVersions": page,
                              **({"NextMarker": marker} if marker else {})})
