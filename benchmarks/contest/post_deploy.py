"""Post-deploy of N functions on shared capacity providers, through the production path.

Each function starts with 4 published versions and its alias ``live`` on the newest, and a change
Terraform applied to ``$LATEST``: the deploy publishes version 5 and ``$LATEST.PUBLISHED`` and
leaves versions 2-5 (5, where the alias goes, and the newest 3 besides it); the config runs every
post-deploy step (publish, scale, warm, alias, scale-down, prune with keep 3). The sandbox holds
every publish ``Pending`` for the publish delay and every answer for its latency; the waiter polls
every 5 s as in production. The journal gives the calls; the bound the issue sets is ``T1 + calls /
15``: one function's time (the publish delay and the round trips of one function's steps) plus what
the budget needs for all the calls.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from prune_world import build, left

from contest.measure import RATE, tally
from lmi_delivery.aws.budget import BudgetRegistry
from lmi_delivery.aws.clients import AwsSettings, ClientFactory, StaticCredentials
from lmi_delivery.errors import LmiError
from lmi_delivery.postdeploy.publish import WaitSettings
from lmi_delivery.postdeploy.report import ProgressLog
from lmi_delivery.postdeploy.sequence import LIVE, PostDeployClients, RunOptions, run_post_deploy
from lmi_delivery.sandbox import Sandbox

VERSIONS = 4
KEEP = 3
PER_PROVIDER = 10


def deploy(sandbox: Sandbox, functions: int, *, poll: float = 5.0) -> dict[str, Any]:
    """One post-deploy of ``functions`` functions in a freshly reset sandbox; its figures."""
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as tmp:
        sandbox.reset()
        world = build(sandbox, Path(tmp), functions=functions, versions=VERSIONS,
                      per_provider=PER_PROVIDER, keep=KEEP, protections=False,
                      function_extra=", warm: {concurrency: 2}")
        lam = sandbox.client("lambda", internal=True)
        for function in world.expected_left:
            lam.create_alias(FunctionName=function, Name="live", FunctionVersion=str(VERSIONS))
            lam.update_function_configuration(FunctionName=function, Description="deploy")
        settings = AwsSettings(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                               credentials=StaticCredentials("testing", "testing"))
        client = ClientFactory(settings, budgets=BudgetRegistry()).client("lambda")
        sandbox.clear_requests()
        started = time.monotonic()
        error = None
        try:
            report = run_post_deploy(world.config, world.env, PostDeployClients(lambda_=client),
                                     executor=LIVE, reporter=ProgressLog(),
                                     options=RunOptions(wait=WaitSettings(delay=poll)))
            status = report.status
        except LmiError as failed:
            status, error = "failed", str(failed)
        seconds = time.monotonic() - started
        counted = tally(sandbox.requests("lambda"))
        new = str(VERSIONS + 1)
        # keep counts the newest versions besides the aliased one (the new version)
        expected = {"$LATEST", "$LATEST.PUBLISHED",
                    *(str(v) for v in range(VERSIONS + 1 - KEEP, VERSIONS + 2))}
        after = left(sandbox, sorted(world.expected_left))
        aliased = {f: str(lam.get_alias(FunctionName=f, Name="live")["FunctionVersion"])
                   for f in world.expected_left}
    return {
        "functions": functions,
        "providers": len(world.providers),
        "status": status,
        "error": error,
        "seconds": round(seconds, 2),
        "calls": counted.calls,
        "calls_by_operation": dict(sorted(counted.by_operation.items())),
        "other_calls": counted.other_calls,
        "throttles_seen": counted.throttles_seen,
        "throttles_surfaced": int(error is not None and "TooManyRequests" in error),
        "wrong_deletes": sum(len(expected - v) for v in after.values()),
        "wrong_keeps": sum(len(v - expected) for v in after.values()),
        "aliases_on_new_version": sum(1 for v in aliased.values() if v == new),
        "budget_seconds": round(counted.calls / RATE, 2),
    }


def with_bounds(runs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each run with the issue's bound: T1 + calls/15 (goal) and 1.5 T1 + calls/15 (limit)."""
    one = runs["1"]["seconds"]
    for run in runs.values():
        run["goal_seconds"] = round(one + run["budget_seconds"], 2)
        run["limit_seconds"] = round(1.5 * one + run["budget_seconds"], 2)
        run["ratio_to_goal"] = round(run["seconds"] / run["goal_seconds"], 3)
        run["within_limit"] = run["seconds"] <= run["limit_seconds"]
    return runs
