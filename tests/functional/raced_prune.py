"""The fault-injected prune under the real 15/s limit, raced by a deploy, on a prune world.

:func:`raced_prune` seeds a world (``prune_world``), plans its prune through the production
client, lets a deploy route an alias to a version chosen for deletion, prunes, and prunes again;
:func:`raced_prune_problems` says what must hold of it. The functional test runs it at
:data:`CI_SIZE`, ``benchmarks/prune.py --scenario faults-40x30`` at :data:`FULL_SIZE`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prune_world import World, build, left, name, paced_factory

from lmi_delivery.aws.clients import ClientFactory
from lmi_delivery.postdeploy.prune.api import execute_prune, plan_prune
from lmi_delivery.postdeploy.prune.decision import Action, PruneDecision, Verdict
from lmi_delivery.postdeploy.prune.snapshot import SnapshotStats
from lmi_delivery.sandbox import FaultRates, Sandbox, SandboxOptions
from lmi_delivery.sandbox.ratelimit import (
    GET_OPERATIONS,
    PROVIDER_READS,
    PROVIDER_WRITES,
    UNLIMITED_OPERATIONS,
)

RATE = 15.0
"""AWS's Lambda control-plane budget per account and region (AWS-FACTS.md)."""
FAULTS = {"lambda:*": FaultRates(throttle=0.10, error_500=0.025, error_503=0.025, drop=0.02)}
FAULTY = SandboxOptions(rate_limit_per_second=RATE, seed=20260101, faults=FAULTS)
"""The real limit and seeded faults on every Lambda call: 10% throttles (each answering
``retryAfterSeconds: 1``), 2.5% HTTP 500, 2.5% HTTP 503, 2% dropped connections."""
FULL_SIZE = {"functions": 40, "versions": 30, "per_provider": 3}
"""1,200 versions on fourteen providers: ~1,100 deletions, minutes at the admitted ~6/s."""
CI_SIZE = {"functions": 7, "versions": 12, "per_provider": 4}
"""The smallest world with every protection (f0-f5, versions >= 12) and the raced f6; four
functions and two others on cp0 make 58 versions there, two pages of its listing."""
FAULT_KINDS = ("throttled", "500", "503", "dropped")
OTHER_BUDGETS = GET_OPERATIONS | PROVIDER_READS | PROVIDER_WRITES | UNLIMITED_OPERATIONS
"""Lambda operations outside the shared 15/s bucket (the sandbox's own budgets, or none)."""
RACED = ("f6", "2")
"""The version a deploy routes an alias to between the plan and the deletes."""


class Attempts:
    """Every HTTP attempt of a client, counted by how it ended (botocore's
    ``response-received`` event, which fires for retries too): ``answered`` (2xx),
    ``throttled`` (429), ``500``, ``503``, ``dropped`` (no response), or another status."""

    def __init__(self, client: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.control_answered = 0
        """Answered calls the sandbox's control-plane limit (15/s) admits, by their name."""
        self._lock = threading.Lock()
        client.meta.events.register("response-received.lambda", self._seen)

    def _seen(self, event_name: str = "", response_dict: Mapping[str, Any] | None = None,
              exception: BaseException | None = None, **_: Any) -> None:
        if exception is not None or response_dict is None:
            kind = "dropped"
        else:
            status = int(response_dict["status_code"])
            kind = ("answered" if status < 300 else
                    {429: "throttled", 500: "500", 503: "503"}.get(status, str(status)))
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.counts[kind] += 1
            if kind == "answered" and operation not in OTHER_BUDGETS:
                self.control_answered += 1


@dataclass
class RacedPrune:
    """What :func:`raced_prune` did and saw."""

    world: World
    decision: PruneDecision
    raced: Verdict | None
    """The plan's verdict on the raced version, read before the deploy moved an alias there."""
    result: Any
    after: dict[str, set[str]]
    """Every seeded function's versions after the prune."""
    again: Any
    """A second plan and prune of the same config."""
    after_again: dict[str, set[str]]
    attempts: Attempts
    stats: SnapshotStats
    """What the first plan read."""
    factory: ClientFactory
    admitted: int
    """Calls of the prune the sandbox's rate limit admitted (its own count, not the client's)."""
    plan_seconds: float
    execute_seconds: float
    seconds: float
    """Both plans and prunes."""


def raced_prune(sandbox: Sandbox, root: Path, *, functions: int, versions: int,
                per_provider: int, others: int = 3) -> RacedPrune:
    """Seed a world, plan its prune through the production client, let a deploy route an alias
    to :data:`RACED` (chosen for deletion), prune, then plan and prune again.

    ``sandbox`` should run with :data:`FAULTY` options: the seeding and the checks use internal
    calls, which no limit or fault touches; the prune itself meets both."""
    world = build(sandbox, root, functions=functions, versions=versions,
                  per_provider=per_provider, others=others)
    factory = paced_factory(sandbox, max_attempts=8)
    client = factory.client("lambda")
    attempts = Attempts(client)
    stats = SnapshotStats()
    admitted_before = len(sandbox.rate_limit_admissions())
    started = time.monotonic()
    decision = plan_prune(client, world.config, world.env, stats=stats)
    planned = time.monotonic()
    raced = decision.verdict(name(RACED[0]), RACED[1])
    sandbox.client("lambda", internal=True).create_alias(
        FunctionName=name(RACED[0]), Name="hotfix", FunctionVersion=RACED[1])
    result = execute_prune(client, decision)
    executed = time.monotonic()
    after = left(sandbox, sorted(world.versions))
    again = execute_prune(client, plan_prune(client, world.config, world.env))
    finished = time.monotonic()
    return RacedPrune(
        world, decision, raced, result, after, again, left(sandbox, sorted(world.versions)),
        attempts, stats, factory,
        len(sandbox.rate_limit_admissions()) - admitted_before,
        planned - started, executed - planned, finished - started)


def raced_prune_problems(run: RacedPrune) -> list[str]:
    """What went wrong in ``run``, one line each; empty when the prune was right.

    Right means: every injected fault was met and none surfaced (the only failure is the raced
    version, refused because an alias now routes to it), exactly the unprotected versions of
    the config's functions are gone, no other function lost one, every call went through the
    sandbox's rate limit, and a second prune finds nothing to do and keeps the raced version
    for its alias.
    """
    world, problems = run.world, []
    if run.decision.failures:
        problems.append(f"the plan could not read everything: {run.decision.failures}")
    if run.raced is None or run.raced.action is not Action.DELETE:
        problems.append(f"the plan did not choose {RACED} for deletion: {run.raced}")
    failed = [(v.function, v.version, v.note) for v in run.result.failures]
    if [(f, v) for f, v, _ in failed] != [(name(RACED[0]), RACED[1])] or \
            not failed[0][2].startswith("now routed by an alias"):
        problems.append(f"failures other than the raced version's refusal: {failed}")
    expected = {f: set(v) for f, v in world.expected_left.items()}
    expected[name(RACED[0])].add(RACED[1])
    for function in sorted(expected):
        if run.after[function] != expected[function]:
            problems.append(f"{function}: {sorted(run.after[function])} left, expected "
                            f"{sorted(expected[function])}")
    for other in world.others:  # not the config's: untouched
        if run.after[other] != set(world.versions[other]):
            problems.append(f"{other} (not the config's) lost versions")
    deleted = {(v.function, v.version) for v in run.result.deletions}
    gone = sum(len(world.versions[f]) - len(expected[f]) for f in expected)
    if len(deleted) != gone:
        problems.append(f"{len(deleted)} deletions reported, {gone} versions gone")
    if run.again.deletions or run.again.failures:
        problems.append(f"the second prune was not a no-op: {run.again.deletions} deleted, "
                        f"{run.again.failures} failed")
    if run.after_again != run.after:
        problems.append("the second prune changed what AWS has")
    hotfix = run.again.verdict(name(RACED[0]), RACED[1])
    if hotfix is None or hotfix.describe() != "kept: alias hotfix points to it":
        problems.append(f"the second prune's verdict on {RACED}: "
                        f"{hotfix.describe() if hotfix else None}")
    unmet = [kind for kind in FAULT_KINDS if not run.attempts.counts[kind]]
    if unmet:
        problems.append(f"no attempt met an injected fault of kind {', '.join(unmet)}: "
                        f"{dict(run.attempts.counts)}")
    answered = run.attempts.control_answered
    if answered == 0 or run.admitted < answered:
        problems.append(f"{answered} control-plane calls answered, {run.admitted} admitted by "
                        "the sandbox's 15/s limit: some bypassed it")
    return problems
