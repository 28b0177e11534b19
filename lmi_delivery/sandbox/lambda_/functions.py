"""Lambda functions and versions where moto falls short, and the LMI fields on every payload.

- CreateFunction / UpdateFunctionConfiguration accept and validate ``CapacityProviderConfig``.
- Every FunctionConfiguration moto returns gains ``State``, ``RevisionId`` and, for LMI
  functions, the ``CapacityProviderConfig`` of that version.
- ListVersionsByFunction pages at 50 items with ``Marker`` (moto returns everything).
- RevisionId preconditions on updates.
- The ``$LATEST`` of an LMI function is ``ActiveNonInvocable`` (only published versions run).
- ``MemorySize`` above 32768 MB breaks a model constraint: ``ValidationException``.
"""

from __future__ import annotations

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
from lmi_delivery.sandbox.lambda_.versions import check_revision, publish
from lmi_delivery.sandbox.protocol import Call, json_response
from lmi_delivery.sandbox.state import (
    LATEST,
    ApiError,
    FunctionRecord,
    SandboxState,
    VersionRecord,
    invalid,
    moto_function,
)

LMI_RUNTIME_PREFIXES = {"python": (3, 13), "nodejs": (22,), "java": (21,), "dotnet": (8,)}
#: botocore's model: MemorySize is 128..32768 (the SDK checks only the minimum).
MAX_MEMORY = 32768


def check_memory(body: Mapping[str, Any]) -> None:
    memory = body.get("MemorySize")
    if isinstance(memory, int) and memory > MAX_MEMORY:
        raise ApiError(400, "ValidationException",
                       f"1 validation error detected: Value '{memory}' at 'memorySize' failed to "
                       f"satisfy constraint: Member must have value less than or equal to "
                       f"{MAX_MEMORY}")


def lmi_runtime_supported(runtime: str | None) -> bool:
    if runtime is None or runtime == "provided.al2023":
        return True
    for prefix, minimum in LMI_RUNTIME_PREFIXES.items():
        if runtime.startswith(prefix):
            digits = runtime[len(prefix):].removesuffix(".x").split(".")
            try:
                return tuple(int(d) for d in digits) >= minimum
            except ValueError:
                return False
    return False


def validate_lmi(state: SandboxState, region: str, body: Mapping[str, Any],
                 memory: int, runtime: str | None) -> dict[str, Any]:
    """Check a CapacityProviderConfig and its function settings; returns the normalised config."""
    config = body["CapacityProviderConfig"]
    inner = dict((config or {}).get("LambdaManagedInstancesCapacityProviderConfig") or {})
    arn = inner.get("CapacityProviderArn")
    if not arn:
        raise invalid("CapacityProviderConfig needs "
                      "LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn")
    provider = state.provider_by_arn(str(arn))
    if provider is None or provider.region != region:
        raise invalid(f"Capacity provider {arn} does not exist")
    concurrency = inner.get("PerExecutionEnvironmentMaxConcurrency")
    if concurrency is not None and not 1 <= int(concurrency) <= 1600:
        raise invalid("PerExecutionEnvironmentMaxConcurrency must be between 1 and 1600")
    ratio = inner.get("ExecutionEnvironmentMemoryGiBPerVCpu")
    if ratio is not None and not 2 <= float(ratio) <= 8:
        raise invalid("ExecutionEnvironmentMemoryGiBPerVCpu must be between 2 and 8")
    if memory < 2048:
        raise invalid("Functions on a capacity provider need MemorySize of at least 2048 MB")
    if not lmi_runtime_supported(runtime):
        raise invalid(f"Runtime {runtime} is not supported on Lambda Managed Instances")
    if body.get("VpcConfig", {}).get("SubnetIds"):
        raise invalid("Functions on a capacity provider cannot set VpcConfig; "
                      "the capacity provider owns networking")
    if body.get("FileSystemConfigs"):
        raise invalid("Functions on a capacity provider cannot set FileSystemConfigs")
    return {"LambdaManagedInstancesCapacityProviderConfig": inner}


class FunctionOperations(LambdaOperations):
    def handlers(self) -> Mapping[str, Handler]:
        return {
            "CreateFunction": self.create_function,
            "GetFunction": self.get_function,
            "GetFunctionConfiguration": self.get_function_configuration,
            "ListFunctions": self.list_functions,
            "ListVersionsByFunction": self.list_versions,
            "UpdateFunctionConfiguration": self.update_configuration,
            "UpdateFunctionCode": self.update_code,
        }

    def enrich(self, region: str, config: dict[str, Any]) -> dict[str, Any]:
        name, version = str(config["FunctionName"]), str(config.get("Version", LATEST))
        if (region, name) in self.state.functions or version == LATEST:
            config.update(self.state.version(region, name, version).payload())
        return config

    def create_function(self, request: Request, call: Call) -> Response:
        body = json_body(request)
        check_memory(body)
        lmi = None
        if body.get("CapacityProviderConfig") is not None:
            lmi = validate_lmi(self.state, call.region, body, int(body.get("MemorySize", 128)),
                               body.get("Runtime"))
        response = self.forward(request, None)
        if response.status_code != 201:
            return response
        name, _ = split_function(str(body["FunctionName"]))
        record = FunctionRecord(lmi)
        record.versions[LATEST] = VersionRecord.latest(lmi, self.state.clock)
        self.state.functions[(call.region, name)] = record
        config = self.enrich(call.region, response_json(response))
        if body.get("Publish") or body.get("PublishTo"):
            config = publish(self.state, self.options, call.region, name,
                             to_latest_published=bool(body.get("PublishTo")))
        return json_response(config, 201)

    def get_function(self, request: Request, call: Call) -> Response:
        response = self.forward(request, None)
        if response.status_code != 200:
            return response
        data = response_json(response)
        self.enrich(call.region, data["Configuration"])
        return json_response(data)

    def get_function_configuration(self, request: Request, call: Call) -> Response:
        response = self.forward(request, None)
        if response.status_code != 200:
            return response
        return json_response(self.enrich(call.region, response_json(response)))

    def list_functions(self, request: Request, call: Call) -> Response:
        response = self.forward(request, None)
        if response.status_code != 200:
            return response
        data = response_json(response)
        functions = [self.enrich(call.region, f) for f in data.get("Functions", [])]
        page, marker = paginate(functions, request)
        return json_response({"Functions": page, **({"NextMarker": marker} if marker else {})})

    def list_versions(self, request: Request, call: Call) -> Response:
        response = self.forward(request, None)
        if response.status_code != 200:
            return response
        name, _ = split_function(call.params["FunctionName"])
        if not list(self.state.backend(call.region).list_versions_by_function(name)):
            raise ApiError(404, "ResourceNotFoundException", f"Function not found: {name}")
        versions = [self.enrich(call.region, v) for v in response_json(response)["Versions"]]
        page, marker = paginate(versions, request)
        return json_response({"Versions": page, **({"NextMarker": marker} if marker else {})})

    def _update(self, request: Request, call: Call, *, configuration: bool) -> Response:
        name, _ = split_function(call.params["FunctionName"])
        latest = moto_function(call.region, name)
        record = self.state.function(call.region, name)
        latest_meta = self.state.version(call.region, name, LATEST)
        body = json_body(request)
        check_memory(body)
        check_revision(body.get("RevisionId"), latest_meta.revision_id)
        new_lmi = record.capacity_provider_config
        if configuration:
            if body.get("CapacityProviderConfig") is not None and not record.is_lmi:
                raise invalid("An existing function cannot be moved onto a capacity provider; "
                              "create a new function instead")
            if record.is_lmi:
                merged = {"MemorySize": latest.memory_size, **body,
                          "CapacityProviderConfig": body.get("CapacityProviderConfig")
                          or record.capacity_provider_config}
                new_lmi = validate_lmi(self.state, call.region, merged,
                                       int(merged["MemorySize"]),
                                       body.get("Runtime", latest.run_time))
        response = self.forward(request, None)
        if response.status_code != 200:
            return response
        record.capacity_provider_config = new_lmi
        record.versions[LATEST] = VersionRecord.latest(new_lmi, self.state.clock)
        latest.code_or_config_updated = True
        return json_response(self.enrich(call.region, response_json(response)))

    def update_configuration(self, request: Request, call: Call) -> Response:
        return self._update(request, call, configuration=True)

    def update_code(self, request: Request, call: Call) -> Response:
        return self._update(request, call, configuration=False)
