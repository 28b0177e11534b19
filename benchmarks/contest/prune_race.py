"""lmi-delivery's pruner and its peers, one after another, on the same world and sandbox.

Each contestant gets the world rebuilt from scratch, the same sandbox (one rate limiter of 15
requests/s, one latency), a concurrent deploy publishing while it runs, and a journal cleared
before it starts: its calls and throttles are what the sandbox answered it. Only the prune
itself is timed (not building a client, not starting Node).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from peers import Outcome, seed, serverless_prune
from prune_world import name

from contest.measure import tally
from contest.world import Built, ConcurrentDeploy, Scenario, build_world, concurrent_functions
from contest.world import judge as judge_world
from lmi_delivery.aws.budget import BudgetRegistry
from lmi_delivery.aws.clients import AwsSettings, ClientFactory, StaticCredentials
from lmi_delivery.postdeploy.prune.api import execute_prune, plan_prune
from lmi_delivery.sandbox import Sandbox

Run = Callable[[Sandbox, Built, Scenario], Outcome]


def run_lmi_delivery(sandbox: Sandbox, built: Built, scenario: Scenario) -> Outcome:
    """The production path: the client factory's paced client (its default retries, a budget
    of its own for this run), ``plan_prune`` then ``execute_prune``."""
    settings = AwsSettings(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                           credentials=StaticCredentials("testing", "testing"))
    client = ClientFactory(settings, budgets=BudgetRegistry()).client("lambda")
    started = time.monotonic()
    decision = plan_prune(client, built.world.config, built.world.env)
    result = execute_prune(client, decision)
    seconds = time.monotonic() - started
    throttled = [v for v in result.failures if "TooManyRequests" in v.note]
    return Outcome(seconds, len(throttled), tuple(f"{v.function}:{v.version} {v.note}"
                                                  for v in result.failures
                                                  if v not in throttled))


def run_seed(sandbox: Sandbox, built: Built, scenario: Scenario) -> Outcome:
    """The seed's pruner once per capacity provider of the config, with boto3's standard
    retries."""
    lam = boto3.client("lambda", region_name=sandbox.region, endpoint_url=sandbox.endpoint_url,
                       aws_access_key_id="testing", aws_secret_access_key="testing",
                       config=Config(retries={"mode": "standard"}))
    providers = [built.world.providers[key] for key in sorted(built.world.providers)]
    return seed.prune(lam, providers, scenario.shape.keep)


def serverless_runner(node_modules: Path) -> Run:
    def run(sandbox: Sandbox, built: Built, scenario: Scenario) -> Outcome:
        functions = [name(f"f{i}") for i in range(scenario.shape.functions)]
        return serverless_prune.prune(sandbox.endpoint_url, sandbox.region, functions,
                                      scenario.shape.keep, node_modules=node_modules)

    return run


@dataclass(frozen=True)
class Contestant:
    key: str
    label: str
    run: Run


def contestants(node_modules: Path) -> list[Contestant]:
    return [Contestant("lmi_delivery", "lmi-delivery", run_lmi_delivery),
            Contestant("seed", "seed platform's pruner", run_seed),
            Contestant("serverless_prune_plugin", "serverless-prune-plugin",
                       serverless_runner(node_modules))]


def race(sandbox: Sandbox, scenario: Scenario, entrants: list[Contestant],
         say: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
    """Run every contestant on its own copy of the world; their figures by key."""
    results: dict[str, dict[str, Any]] = {}
    for contestant in entrants:
        with tempfile.TemporaryDirectory(prefix="side-by-side-") as tmp:
            started = time.monotonic()
            built = build_world(sandbox, Path(tmp), scenario)
            say(f"  {contestant.label}: world built in {time.monotonic() - started:.1f} s "
                "(internal calls, no limit, no latency); pruning...")
            sandbox.clear_requests()
            with ConcurrentDeploy(sandbox, concurrent_functions(scenario),
                                  scenario.publishes) as deploy:
                outcome = contestant.run(sandbox, built, scenario)
            counted = tally(sandbox.requests("lambda"))
            verdict = judge_world(sandbox, built, deploy.published)
        results[contestant.key] = {
            "label": contestant.label,
            "seconds": round(outcome.seconds, 2),
            "calls": counted.calls,
            "calls_by_operation": dict(sorted(counted.by_operation.items())),
            "other_calls": counted.other_calls,
            "throttles_seen": counted.throttles_seen,
            "throttles_surfaced": outcome.throttles_surfaced,
            "errors_surfaced": list(outcome.errors),
            "wrong_deletes": sum(verdict.wrong_deletes.values()),
            "wrong_deletes_by_reason": dict(sorted(verdict.wrong_deletes.items())),
            "wrong_keeps": verdict.wrong_keeps,
            "versions_to_delete": verdict.to_delete,
            "published_during_run": len(deploy.published),
            "lower_bound_seconds": round(counted.lower_bound, 2),
            "ratio_to_lower_bound": (round(outcome.seconds / counted.lower_bound, 3)
                                     if counted.calls else None),
            "requests_per_second": (round(counted.calls / outcome.seconds, 2)
                                    if outcome.seconds else None),
        }
        say(f"  {contestant.label}: {outcome.seconds:.1f} s, {counted.calls} calls, "
            f"{counted.throttles_seen} throttles seen, "
            f"{sum(verdict.wrong_deletes.values())} wrong deletes, "
            f"{verdict.wrong_keeps} wrong keeps")
    return results
