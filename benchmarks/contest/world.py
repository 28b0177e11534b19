"""The prune world of the side-by-side, a deploy that publishes during the run, and the oracle.

Every contestant meets the same world, rebuilt from scratch after a sandbox reset: config
functions of many versions on shared capacity providers (built by ``prune_world``, the
functional tests' builder), standard functions elsewhere in the account (``prune.py``'s), plain
aliases, weighted aliases and event source mappings on old versions. While a contestant runs,
a concurrent deploy publishes new versions of a few functions as soon as their provider has room
(the quota is 100 versions a provider, and the world starts full).

The oracle judges what the contestant left, against the world as built, never against any
contestant's decision. Wrongly deleted: a version an alias, a weighted alias or an event source
mapping uses, one of the ``keep`` newest, one published during the run, any version of a
function the config does not own. Wrongly kept: any other version of a config function. Where
versions were published during the run, the newest before it may go or stay (a keep-N pruner
that lists later keeps the new ones instead): neither is counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import prune
from botocore.exceptions import ClientError
from prune_world import Protections, World, build, left, name

from lmi_delivery.sandbox import Sandbox

PUBLISHED_DURING_RUN = "published during the run"
NOT_OWNED = "function the config does not own"


@dataclass(frozen=True)
class Scenario:
    shape: prune.Scenario
    """Functions, versions, per provider, keep, other functions (``benchmarks/prune.py``'s)."""
    protections: Protections
    publish_during: tuple[str, ...]
    """Config keys a concurrent deploy publishes to while a contestant runs."""
    publishes: int

    def describe(self) -> str:
        p, shape = self.protections, self.shape
        return (f"{shape.functions} functions x {shape.versions} versions on "
                f"{-(-shape.functions // shape.per_provider)} providers, keep {shape.keep}; "
                f"{shape.others} other functions; {len(p.aliases)} aliases, "
                f"{len(p.weighted)} weighted aliases, {len(p.mappings)} event source mappings "
                f"on old versions; {self.publishes} versions published during the run on "
                f"each of {', '.join(self.publish_during)}")


@dataclass
class Built:
    world: World
    others: dict[str, set[str]]
    """Standard functions elsewhere → their versions."""


def build_world(sandbox: Sandbox, root: Path, scenario: Scenario) -> Built:
    """The scenario's world in a freshly reset sandbox (internal calls: no limit, no latency)."""
    sandbox.reset()
    shape = scenario.shape
    world = build(sandbox, root, functions=shape.functions, versions=shape.versions,
                  per_provider=shape.per_provider, keep=shape.keep,
                  protections=scenario.protections)
    names = prune.seed_other_functions(sandbox, shape.others)
    return Built(world, left(sandbox, names))


class ConcurrentDeploy:
    """Publishes ``count`` versions of each function while a contestant runs, each as soon as
    the quota lets it (it retries every ``interval`` seconds). Its calls are internal: they do
    not take the contestant's budget and are not in its journal."""

    def __init__(self, sandbox: Sandbox, functions: list[str], count: int,
                 interval: float = 0.25) -> None:
        self.sandbox = sandbox
        self.todo = dict.fromkeys(functions, count)
        self.interval = interval
        self.published: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="concurrent-deploy", daemon=True)

    def __enter__(self) -> ConcurrentDeploy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        lam = self.sandbox.client("lambda", internal=True)
        while any(self.todo.values()) and not self._stop.wait(self.interval):
            for function, left_to_publish in self.todo.items():
                if left_to_publish and self._publish(lam, function):
                    self.todo[function] -= 1

    def _publish(self, lam: Any, function: str) -> bool:
        try:
            lam.update_function_configuration(FunctionName=function,
                                              Description=f"concurrent {len(self.published)}")
            version = str(lam.publish_version(FunctionName=function)["Version"])
        except ClientError:  # the provider is full yet
            return False
        self.published.add((function, version))
        return True


@dataclass
class Judgement:
    wrong_deletes: Counter[str] = field(default_factory=Counter)
    """Reason the version had to stay → how many went."""
    wrong_keeps: int = 0
    to_delete: int = 0
    """Versions that had to go: no pruner does with fewer than this many deletions."""
    examples: list[str] = field(default_factory=list)


def judge(sandbox: Sandbox, built: Built, published: set[tuple[str, str]]) -> Judgement:
    """What the contestant left against what it had to (reads are internal, not journaled)."""
    world, found = built.world, Judgement()
    after = left(sandbox, sorted(world.expected_left) + sorted(built.others))
    for function, must in world.expected_left.items():
        new = {v for f, v in published if f == function}
        either = ({v for v in must if world.reasons.get((function, v)) == "newest"}
                  if new else set())
        keep = (must | new) - either
        for version in sorted(keep - after[function]):
            reason = (PUBLISHED_DURING_RUN if version in new
                      else world.reasons.get((function, version), version))
            found.wrong_deletes[reason] += 1
            found.examples.append(f"{function}:{version} deleted ({reason})")
        doomed = set(world.versions[function]) - keep - either
        found.to_delete += len(doomed)
        found.wrong_keeps += len(doomed & after[function])
    for function, versions in built.others.items():
        gone = versions - after[function]
        found.wrong_deletes[NOT_OWNED] += len(gone)
    found.wrong_deletes = +found.wrong_deletes
    return found


def concurrent_functions(scenario: Scenario) -> list[str]:
    return [name(key) for key in scenario.publish_during]
