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

The fault-injected scenarios run the functional test's prune (``raced_prune.raced_prune``:
10% throttles, 5% 5xx, 2% dropped connections, a deploy racing the deletes, a second prune) and
check what the test checks (``raced_prune.raced_prune_problems``), at full size or at the size
the test runs in CI:

    python benchmarks/prune.py                          # 20 x 50, keep 1 (~80 s at 15/s)
    python benchmarks/prune.py --scenario faults-40x30  # 40 x 30, keep 3, faults (~4-5 min)
    python benchmarks/prune.py --scenario faults-ci     # the test's 7 x 12 (~30 s)
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

from prune_world import Seeder, World, build, left, paced_factory, zip_bytes  # noqa: E402
from raced_prune import (  # noqa: E402
    CI_SIZE,
    FAULTY,
    FULL_SIZE,
    RATE,
    raced_prune,
    raced_prune_problems,
)

from lmi_delivery.aws.budget import RateBudget  # noqa: E402
from lmi_delivery.aws.clients import ClientFactory  # noqa: E402
from lmi_delivery.postdeploy.prune.api import execute_prune, plan_prune  # noqa: E402
from lmi_delivery.postdeploy.prune.snapshot import SnapshotStats  # noqa: E402
from lmi_delivery.sandbox import Sandbox, SandboxOptions  # noqa: E402

PAGE = 50


@dataclass(frozen=True)
class Scenario:
    functions: int
    versions: int
    per_provider: int
    keep: int
    others: int


VOLUME = Scenario(functions=20, versions=50, per_provider=2, keep=1, others=100)
RACED = {"faults-40x30": FULL_SIZE, "faults-ci": CI_SIZE}
SCENARIOS = ["1000", *RACED]


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
    factory = paced_factory(sandbox, max_attempts=8)
    return factory.client("lambda"), factory


def lambda_budget(factory: ClientFactory) -> RateBudget:
    return next(b for k, b in factory.budgets.budgets().items() if k.service == "lambda")


def print_pace(budget: RateBudget, calls: int, elapsed: float) -> None:
    """The admitted rate and the lower bound, against the physical limit."""
    print(f"total    {elapsed:6.1f} s  {calls} API calls; {budget.admitted} HTTP attempts "
          f"admitted by the budget = {budget.admitted / elapsed:.2f}/s "
          f"({budget.admitted / elapsed / RATE:.0%} of {RATE:g}/s)")
    print(f"lower bound: {calls} calls / {RATE:g} per s = {calls / RATE:.1f} s "
          f"(we took {elapsed:.1f} s, {calls / RATE / elapsed:.0%} of the ideal)")


def run_raced(size: dict[str, int]) -> None:
    """The functional test's fault-injected, raced prune at ``size``, and its checks."""
    with Sandbox(FAULTY) as sandbox, tempfile.TemporaryDirectory() as tmp:
        run = raced_prune(sandbox, Path(tmp), **size)
        world = run.world
        total_versions = sum(len(v) - 1 for v in world.versions.values())
        print(f"{size['functions']} config functions x {size['versions']} versions and "
              f"{len(world.others)} other functions: {total_versions} published versions on "
              f"{len(world.providers)} capacity providers (seeded by internal calls, no limit)")
        reads, deletes = run.stats.total_calls, len(run.decision.deletions)
        print(f"decision: {deletes} to delete, {len(run.decision.kept)} kept")
        print(f"plan     {run.plan_seconds:6.1f} s  {reads} read calls: "
              + ", ".join(f"{op} {n}" for op, n in sorted(run.stats.calls.items())))
        print(f"execute  {run.execute_seconds:6.1f} s  {len(run.result.deletions)} deleted, "
              f"{len(run.result.failures)} refused (the raced version), "
              f"{len(run.result.deletions) / run.execute_seconds:.2f} deletions/s")
        print("HTTP attempts: " + ", ".join(f"{k} {n}" for k, n in
                                            sorted(run.attempts.counts.items())))
        budget = lambda_budget(run.factory)
        print(f"throttles answered: {budget.penalties}, each pushing the budget back 1 s; "
              f"{run.admitted} control-plane calls admitted by the sandbox's limit")
        print_pace(budget, reads + deletes, run.plan_seconds + run.execute_seconds)
        print(f"second prune: {len(run.again.deletions)} deleted, {len(run.again.failures)} "
              f"failed ({run.seconds:.1f} s for both)")
        problems = raced_prune_problems(run)
        print("what the functional test checks: " + ("holds" if not problems else "FAILED"))
        for problem in problems:
            print(f"  - {problem}")
        if problems:
            raise SystemExit(1)


def run(scenario: Scenario) -> None:
    options = SandboxOptions(rate_limit_per_second=RATE, seed=7)
    with Sandbox(options) as sandbox, tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        world: World = build(sandbox, Path(tmp), functions=scenario.functions,
                             versions=scenario.versions, per_provider=scenario.per_provider,
                             keep=scenario.keep, protections=False)
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
        budget = lambda_budget(factory)
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
        print_pace(budget, ours, elapsed)
        print(f"throttles answered: {budget.penalties}; surfaced as failures: "
              f"{sum(1 for v in result.failures if 'TooManyRequests' in v.note)}")
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
    parser.add_argument("--scenario", choices=SCENARIOS, default="1000")
    scenario = parser.parse_args().scenario
    if scenario in RACED:
        run_raced(RACED[scenario])
    else:
        run(VOLUME)


if __name__ == "__main__":
    main()
