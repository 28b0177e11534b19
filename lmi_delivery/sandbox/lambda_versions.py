"""Publishing and deleting function versions, with the rules AWS enforces and moto lacks.

- Version numbers are never reused (moto numbers a new version len(versions) + 1).
- ``PublishTo=LATEST_PUBLISHED`` creates or replaces the ``$LATEST.PUBLISHED`` version.
- An LMI version starts ``Pending`` and turns ``Active`` after ``publish_delay_seconds`` (or
  ``Failed`` when the sandbox was told to fail the function's next publish).
- The quota of 100 versions per capacity provider; RevisionId and CodeSha256 preconditions.
- DeleteFunction refuses ``$LATEST`` and versions an alias routes to.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import Handler, LambdaOperations, json_body, split_function
from lmi_delivery.sandbox.options import SandboxOptions
from lmi_delivery.sandbox.protocol import Call, json_response
from lmi_delivery.sandbox.state import (
    LATEST,
    LATEST_PUBLISHED,
    VERSIONS_PER_CAPACITY_PROVIDER,
    ApiError,
    SandboxState,
    VersionRecord,
    conflict,
    function_arn,
    invalid,
    moto_function,
    now_iso,
    routing_weights,
)


def check_revision(expected: str | None, actual: str) -> None:
    if expected is not None and expected != actual:
        raise ApiError(412, "PreconditionFailedException",
                       "The Revision Id provided does not match the latest Revision Id. "
                       "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


def publish(state: SandboxState, options: SandboxOptions, region: str, name: str, *,
            to_latest_published: bool, description: str = "") -> dict[str, Any]:
    """Publish ``$LATEST`` of a function; returns the new version's FunctionConfiguration."""
    latest = moto_function(region, name)
    record = state.function(region, name)
    versions: list[Any] = state.backend(region)._lambdas._functions[name]["versions"]
    target = LATEST_PUBLISHED if to_latest_published else str(record.next_version)

    numbered = [v for v in versions if str(v.version).isdigit()]
    if (not to_latest_published and numbered and not latest.code_or_config_updated
            and int(numbered[-1].version) == record.next_version - 1):
        existing = numbered[-1]
        return {**existing.get_configuration(),
                **state.version(region, name, str(existing.version)).payload()}

    arn = state.version(region, name, LATEST).capacity_provider_arn
    if arn is not None:
        in_use = state.versions_using(arn, published_only=True)
        replacing = to_latest_published and (region, name, LATEST_PUBLISHED) in in_use
        if len(in_use) >= VERSIONS_PER_CAPACITY_PROVIDER and not replacing:
            raise ApiError(400, "FunctionVersionsPerCapacityProviderLimitExceededException",
                           f"The capacity provider {arn} has reached its limit of "
                           f"{VERSIONS_PER_CAPACITY_PROVIDER} function versions. "
                           "Delete unused versions and try again.")

    fn = copy.copy(latest)
    if to_latest_published:
        fn.version = LATEST_PUBLISHED
        fn.function_arn = function_arn(region, name, LATEST_PUBLISHED)
        fn.last_modified = now_iso()
        versions[:] = [v for v in versions if str(v.version) != LATEST_PUBLISHED]
    else:
        fn.set_version(record.next_version)
        record.next_version += 1
    if description:
        fn.description = description
    versions.append(fn)
    state.backend(region)._lambdas._arns[fn.function_arn] = fn
    latest.code_or_config_updated = False

    meta = VersionRecord(copy.deepcopy(record.capacity_provider_config))
    if record.is_lmi:
        meta.state = "Pending"
        meta.ready_at = time.monotonic() + options.publish_delay_seconds
        meta.failure, record.fail_next_publish = record.fail_next_publish, None
    record.versions[target] = meta
    record.scaling.pop(target, None)
    return {**fn.get_configuration(), **meta.payload(settle=False)}


class VersionOperations(LambdaOperations):
    def handlers(self) -> Mapping[str, Handler]:
        return {"PublishVersion": self.publish_version, "DeleteFunction": self.delete_function}

    def publish_version(self, request: Request, call: Call) -> Response:
        name, qualifier = split_function(call.params["FunctionName"])
        if qualifier:
            raise invalid("PublishVersion takes an unqualified function name")
        body = json_body(request)
        latest = moto_function(call.region, name)
        check_revision(body.get("RevisionId"),
                       self.state.version(call.region, name, LATEST).revision_id)
        sha = body.get("CodeSha256")
        if sha is not None and sha != latest.code_sha_256:
            raise invalid(f"CodeSha256 ({sha}) is different from current CodeSha256 in "
                          f"$LATEST ({latest.code_sha_256}). Please try again with the "
                          "CodeSha256 in $LATEST.")
        publish_to = body.get("PublishTo")
        if publish_to not in (None, "LATEST_PUBLISHED"):
            raise invalid(f"PublishTo must be LATEST_PUBLISHED, not {publish_to}")
        config = publish(self.state, self.options, call.region, name,
                         to_latest_published=publish_to is not None,
                         description=str(body.get("Description") or ""))
        return json_response(config, 201)

    def delete_function(self, request: Request, call: Call) -> Response:
        name, qualifier = split_function(call.params["FunctionName"])
        qualifier = request.args.get("Qualifier") or qualifier
        if qualifier == LATEST:
            raise invalid("$LATEST version cannot be deleted without deleting the function.")
        backend = self.state.backend(call.region)
        moto_function(call.region, name)
        if qualifier is not None:
            if not (qualifier.isdigit() or qualifier == LATEST_PUBLISHED):
                raise invalid(f"Qualifier {qualifier} is not a version; "
                              "delete an alias with DeleteAlias")
            moto_function(call.region, name, qualifier)
            users = sorted(
                alias.name for alias in backend.list_aliases(name)
                if str(alias.function_version) == qualifier
                or qualifier in routing_weights(alias.routing_config)
            )
            if users:
                raise conflict("Unable to delete version because the following aliases "
                               f"reference it: [{', '.join(users)}]")
        backend.delete_function(name, qualifier)
        if qualifier is None:
            self.state.functions.pop((call.region, name), None)
        else:
            record = self.state.function(call.region, name)
            record.versions.pop(qualifier, None)
            record.scaling.pop(qualifier, None)
        return Response(status=204)

