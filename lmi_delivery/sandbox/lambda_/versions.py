"""Publishing and deleting function versions, with the rules AWS enforces and moto lacks.

- Version numbers are never reused (moto numbers a new version len(versions) + 1).
- ``PublishTo=LATEST_PUBLISHED`` creates or replaces the ``$LATEST.PUBLISHED`` version.
- An LMI version starts ``Pending`` and turns ``Active`` after ``publish_delay_seconds`` (or
  ``Failed`` when the sandbox was told to fail the function's next publish).
- The quota of 100 versions per capacity provider (``Deleting`` versions count unless
  ``deleting_counts_against_quota`` is off); RevisionId and CodeSha256 preconditions. A scaling
  config on ``$LATEST.PUBLISHED`` carries over to the next publish to it.
- DeleteFunction refuses ``$LATEST`` and versions an alias routes to, and answers 204 for a
  version number that does not exist. Deleting an LMI version or function is asynchronous, as
  in AWS: the answer is 202 and the version stays ``Deleting`` (read and listed, not invocable)
  for ``delete_delay_seconds`` before it is gone; a standard function's delete answers 204 and
  is immediate.
"""

from __future__ import annotations

import copy
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
    FunctionRecord,
    SandboxState,
    VersionRecord,
    conflict,
    conflict_state,
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

    if record.gone_at is not None:
        raise conflict_state("Deleting")
    arn = state.version(region, name, LATEST).capacity_provider_arn
    if arn is not None:
        in_use = state.versions_using(arn, published_only=True,
                                      deleting=options.deleting_counts_against_quota)
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

    meta = VersionRecord(copy.deepcopy(record.capacity_provider_config), clock=state.clock)
    if record.is_lmi:
        meta.state = "Pending"
        meta.ready_at = state.clock() + options.publish_delay_seconds
        meta.failure, record.fail_next_publish = record.fail_next_publish, None
    record.versions[target] = meta
    if not to_latest_published:
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
        record = self.state.function(call.region, name)
        if record.gone_at is not None:
            return Response(status=202)  # the whole function is being deleted already
        if qualifier is not None:
            if not (qualifier.isdigit() or qualifier == LATEST_PUBLISHED):
                raise invalid(f"Qualifier {qualifier} is not a version; "
                              "delete an alias with DeleteAlias")
            if qualifier.isdigit() and qualifier not in {
                    str(v.version) for v in backend.list_versions_by_function(name)}:
                return Response(status=204)  # AWS: an absent version number is no error
            moto_function(call.region, name, qualifier)
            users = sorted(
                alias.name for alias in backend.list_aliases(name)
                if str(alias.function_version) == qualifier
                or qualifier in routing_weights(alias.routing_config)
            )
            if users:
                raise conflict("Unable to delete version because the following aliases "
                               f"reference it: [{', '.join(users)}]")
            lmi = self.state.version(call.region, name, qualifier).capacity_provider_arn
        else:
            lmi = self.state.version(call.region, name, LATEST).capacity_provider_arn
        if lmi is None:
            self.state.forget(call.region, name, qualifier)
            return Response(status=204)
        self._delete_later(call.region, name, qualifier, record)
        return Response(status=202)

    def _delete_later(self, region: str, name: str, qualifier: str | None,
                      record: FunctionRecord) -> None:
        """An LMI deletion: ``Deleting`` now, gone after ``delete_delay_seconds``."""
        delay = self.options.delete_delay_seconds
        targets = list(record.versions) if qualifier is None else [qualifier]
        metas = [self.state.version(region, name, version) for version in targets]
        if qualifier is not None and metas[0].state == "Deleting":
            return  # asked again: it is on its way already
        if delay <= 0:
            self.state.forget(region, name, qualifier)
            return
        gone = self.state.clock() + delay
        for meta in metas:
            if meta.state != "Deleting":
                meta.state, meta.gone_at = "Deleting", gone
        if qualifier is None:
            record.gone_at = gone
        self.state.delete_later(gone, region, name, qualifier)
