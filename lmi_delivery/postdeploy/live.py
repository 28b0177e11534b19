"""Read-only AWS facts that make the post-deploy steps of a dry run concrete.

Only reads: where each function's alias routes now, and the capacity each provider needs at
the cutover's peak (:mod:`lmi_delivery.postdeploy.headroom`) against its ``MaxVCpuCount``, for
a deploy that publishes a new version of every function. Any failure to read (no network, access
denied, an endpoint that is down) leaves the plan offline and says why; a dry run never fails
because AWS could not be read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import LmiError
from lmi_delivery.plan.planner import LiveState
from lmi_delivery.plan.release_steps import capacity_checks
from lmi_delivery.plan.steps import RUNNER

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


def read_alias_versions(config: Config, env: Environment,
                        client: LambdaClient) -> dict[tuple[str, str], str | None]:
    """(function name, alias) → version for every configured function; ``None`` when the alias
    does not exist yet (the deploy creates it)."""
    found: dict[tuple[str, str], str | None] = {}
    for key, function in config.functions.items():
        name = naming.function_name(config, env, key)
        try:
            alias = client.get_alias(FunctionName=name, Name=function.alias)
        except client.exceptions.ResourceNotFoundException:
            found[(name, function.alias)] = None  # the deploy creates it
            continue
        found[(name, function.alias)] = alias["FunctionVersion"]
    return found


def read_live_state(config: Config, env: Environment,
                    client: LambdaClient) -> tuple[LiveState | None, str | None]:
    """The live state, or ``None`` and a note saying why the plan stays offline."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        versions = read_alias_versions(config, env, client)
    except (BotoCoreError, ClientError) as exc:
        return None, f"could not read AWS state ({exc}): planning offline"
    note = "read current aliases from AWS (read-only)"
    try:
        peaks = read_peaks(config, env, client, versions)
    except (BotoCoreError, ClientError, LmiError) as exc:
        return (LiveState(alias_versions=versions),
                f"{note}; could not read the cutover's capacity headroom ({exc})")
    return LiveState(alias_versions=versions, peaks=peaks), f"{note} and the capacity headroom"


def read_peaks(config: Config, env: Environment, client: LambdaClient,
               versions: dict[tuple[str, str], str | None]) -> dict[str, str]:
    """Capacity provider name → the cutover peak of publishing and moving every configured
    function on it, described with the numbers."""
    from lmi_delivery.postdeploy.headroom import resolve_check

    live = {name: version for (name, _), version in versions.items()}
    new: dict[str, str | None] = dict.fromkeys(live)
    return {check.capacity_provider: resolve_check(client, config, env, check, live=live,
                                                   new=new).describe()
            for check in capacity_checks(config, env, RUNNER)}
