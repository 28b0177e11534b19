"""Measure pruning against the sandbox at AWS's Lambda control-plane limit of 15 requests/s.

Default scenario: 20 config functions x 50 versions (1,000 versions, two functions per capacity
provider: the quota is 100 versions a provider) with keep 1, so 980 versions go, plus 100 other
functions in the account (standard Lambda, 2 versions each) that a pruner listing the whole
account would also have to read. Seeding bypasses the limit (internal sandbox calls); the prune
itself goes through the production client: ClientFactory, the shared RateBudget, pacing.

Printed: calls admitted per second (target: >= 90% of the budget), throttles seen and whether
any surfaced as a failure, our API calls against the reference approach (list every function
of the account, then each one's versions and aliases, delete one by one) on the same state, and
the lower bound: calls needed / 15 per second.

    python benchmarks/prune.py                         # 20 x 50, keep 1 (~80 s at 15/s)
    python benchmarks/prune.py --scenario faults-40x30  # the functional test at full size:
                                                        # 40 x 30, keep 3, 10% throttles,
                                                        # 5% 5xx, 2% dropped (~4-5 min)
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "functional"))

from prune_world import Seeder, World, build, left, zip_bytes  # noqa: E402

from lmi_delivery.aws.clients import AwsSettings, ClientFactory, StaticCredentials  # noqa: E402
from lmi_delivery.postdeploy.prune.api import execute_prune, plan_prune  # noqa: E402
from lmi_delivery.postdeploy.prune.snapshot import SnapshotStats  # noqa: E402
from lmi_delivery.sandbox import FaultRates, Sandbox, SandboxOptions  # noqa: E402

RATE = 15.0
PAGE = 50


@dataclass(frozen=True)
class Scenario:
    functions: int
    versions: int
    per_provider: int
    keep: int
    others: int
    faults: bool
    protections: bool


SCENARIOS = {
    "1000": Scenario(functions=20, versions=50, per_provider=2, keep=1, others=100,
                     faults=False, protections=False),
    "faults-40x30": Scenario(functions=40, versions=30, per_provider=3, keep=3, others=100,
                             faults=True, protections=True),
}
FAULTS = {"lambda:*": FaultRates(throttle=0.10, error_500=0.025, error_503=0.025, drop=0.02)}


def seed_other_functions(sandbox: Sandbox, count: int) -> list[str]:
    """Standard (non-LMI) functions elsewhere in the account, two versions each."""
    seeder, lam = Seeder(sandbox), sandbox.client("lambda", internal=True)
    names = [f"elsewhere-{i}" for i in range(count)]
    for name in names:
        lam.create_function(FunctionName=name, Role=seeder.role, Handler="app.handler",
                            Runtime="python3.12", Code={"ZipFile": zip_bytes()}, Publish=True)
        lam.update_function_configuration(FunctionName=name, Description="v2")
        lam.publish_version(FunctionName=name)
    return names


def reference_calls(sandbox: Sandbox) -> int:
    """The listing the reference approach spends on the same state: every function listed,
    each one's versions and aliases (50 a page); it then deletes one version per call."""
    lam = sandbox.client("lambda", internal=True)
    functions = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate()
                 for f in page["Functions"]]
    versions = left(sandbox, functions)
    calls = math.ceil(len(functions) / PAGE)
    for name in functions:
        aliases = lam.list_aliases(FunctionName=name)["Aliases"]
        calls += math.ceil(len(versions[name]) / PAGE) + max(1, math.ceil(len(aliases) / PAGE))
    return calls


def paced(sandbox: Sandbox) -> tuple[Any, ClientFactory]:
    settings = AwsSettings(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                           max_attempts=8, credentials=StaticCredentials("testing", "testing"))
    factory = ClientFactory(settings)
    return factory.client("lambda"), factory


def run(scenario: Scenario) -> None:
    options = SandboxOptions(rate_limit_per_second=RATE, seed=7,
                             faults=FAULTS if scenario.faults else {})
    with Sandbox(options) as sandbox, tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        world: World = build(sandbox, Path(tmp), functions=scenario.functions,
                             versions=scenario.versions, per_provider=scenario.per_provider,
                             keep=scenario.keep, protections=scenario.protections)
        others = seed_other_functions(sandbox, scenario.others)
        seeded = time.monotonic() - started
        total_versions = sum(len(v) - 1 for f, v in world.versions.items())
        print(f"seeded {len(world.versions)} LMI functions, {total_versions} published versions "
              f"on {len(world.providers)} capacity providers, {len(others)} other functions "
              f"in {seeded:.1f} s (internal calls, no limit)")

        before = reference_calls(sandbox)  # read before pruning, outside the budget
        client, factory = paced(sandbox)
        stats = SnapshotStats()
        t0 = time.monotonic()
        decision = plan_prune(client, world.config, world.env, stats=stats)
        t1 = time.monotonic()
        result = execute_prune(client, decision)
        t2 = time.monotonic()
        budget = next(b for k, b in factory.budgets.budgets().items() if k.service == "lambda")
        reads, deletes = stats.total_calls, len(decision.deletions)
        ours = reads + deletes
        reference = before + deletes
        floor = deletes + stats.calls["ListFunctionVersionsByCapacityProvider"]
        elapsed = t2 - t0

        print(f"decision: {deletes} to delete, {len(decision.kept)} kept; "
              f"{len(result.failures)} failed")
        print(f"plan     {t1 - t0:6.1f} s  {reads} read calls: "
              + ", ".join(f"{op} {n}" for op, n in sorted(stats.calls.items())))
        print(f"execute  {t2 - t1:6.1f} s  {deletes} DeleteFunction, "
              f"{deletes / (t2 - t1):.2f} deletions/s")
        print(f"total    {elapsed:6.1f} s  {ours} API calls; {budget.admitted} HTTP attempts "
              f"admitted by the budget = {budget.admitted / elapsed:.2f}/s "
              f"({budget.admitted / elapsed / RATE:.0%} of {RATE:g}/s)")
        print(f"throttles answered: {budget.penalties}; surfaced as failures: "
              f"{sum(1 for v in result.failures if 'TooManyRequests' in v.note)}")
        print(f"lower bound: {ours} calls / {RATE:g} per s = {ours / RATE:.1f} s "
              f"(we took {elapsed:.1f} s, {ours / RATE / elapsed:.0%} of the ideal)")
        print(f"no pruner can do with fewer than {floor} calls (deletions + the provider "
              f"listing) = {floor / RATE:.1f} s; our other reads cost {ours - floor} calls")
        print(f"reference approach on the same state: {reference} calls = "
              f"{reference / RATE:.1f} s at best ({reference - ours} more calls than ours, "
              f"{(reference - ours) / RATE:.1f} s)")
        remaining = left(sandbox, sorted(world.expected_left))
        wrong = {f for f, v in world.expected_left.items() if remaining[f] != v}
        print(f"versions left as expected: {'yes' if not wrong else f'NO: {sorted(wrong)}'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="1000")
    run(SCENARIOS[parser.parse_args().scenario])


if __name__ == "__main__":
    main()
