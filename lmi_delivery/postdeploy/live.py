"""Read-only AWS facts that make the post-deploy steps of a dry run concrete.

Only reads: where each function's alias routes now. Any failure to read (no network, access
denied, an endpoint that is down) leaves the plan offline and says why; a dry run never fails
because AWS could not be read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.plan.planner import LiveState

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
    return LiveState(alias_versions=versions), "read current aliases from AWS (read-only)"
