"""Pruning and post-deploy, measured side by side with the peers at AWS-like latency.

AWS answers a Lambda control-plane call in roughly 100-300 ms and admits 15 requests/s per
account; the sandbox answers in milliseconds, where a pruner that waits for each answer looks as
fast as one that keeps the budget busy. This benchmark runs, in one process and one sandbox with
a 15/s rate limit and a latency on every call (``--latency``; the full run: 150 ms give or take
50):

1. **Prune**, three contestants one after another, each on the same world rebuilt from scratch
   (``contest/world.py``: 20 functions x 50 versions on 10 providers, keep 1, 100 other
   functions, aliases, weighted aliases and event source mappings on old versions, a deploy that
   publishes while the contestant runs): lmi-delivery (``plan_prune`` + ``execute_prune`` with
   the production client), the seed platform's pruner (``peers/seed.py``) and
   serverless-prune-plugin's own code under Node (``peers/serverless_prune.py``). Per
   contestant: wall time, control-plane calls and throttles (the sandbox's journal), throttles
   and errors that reached the contestant's caller, versions wrongly deleted or kept (the
   oracle), and the ratio to its lower bound, calls / 15 s.
2. **Post-deploy** of 1, 10 and 40 functions (10 a provider) with a 5 s publish delay, against
   the goal of one function's time plus calls / 15 s and the limit 1.5 x that time plus
   calls / 15 s.

    python benchmarks/side_by_side.py --json side.json   # the full run: ~6 min on 2 cores
    python benchmarks/side_by_side.py --small             # a few functions, low latency (CI)

It prints one table per part and writes every figure as JSON (``--json``): ``{"prune":
{"lmi_delivery": {...}, "seed": {...}, "serverless_prune_plugin": {...}}, "post_deploy":
{"1": {...}, "10": {...}, "40": {...}}}``, each with ``seconds``, ``calls``,
``throttles_surfaced``, ``wrong_deletes`` and ``wrong_keeps`` among others. The Node packages
come from ``.ci/node`` (installed with ``npm ci`` on first use, as the tests install them).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for folder in (REPO / "benchmarks", REPO / "tests" / "functional", REPO / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import prune  # noqa: E402
import tools  # noqa: E402
from contest.measure import RATE  # noqa: E402
from contest.post_deploy import deploy, with_bounds  # noqa: E402
from contest.prune_race import contestants, race  # noqa: E402
from contest.world import Scenario  # noqa: E402
from prune_world import Protections  # noqa: E402

from lmi_delivery.sandbox import Sandbox, SandboxOptions  # noqa: E402
from lmi_delivery.sandbox.options import parse_latency  # noqa: E402

PRUNE_FULL = Scenario(
    shape=prune.VOLUME,
    protections=Protections(aliases={"f0": "5", "f10": "30"},
                            weighted={"f1": ("10", "11"), "f6": ("40", "41"),
                                      "f13": ("20", "21")},
                            mappings={"f2": "7", "f9": "25", "f16": "48"}),
    publish_during=("f17", "f19"), publishes=3)
PRUNE_SMALL = Scenario(
    shape=prune.Scenario(functions=4, versions=10, per_provider=2, keep=2, others=2),
    protections=Protections(aliases={"f0": "3"}, weighted={"f1": ("5", "6")},
                            mappings={"f2": "4"}),
    publish_during=("f3",), publishes=2)


@dataclass(frozen=True)
class Plan:
    prune: Scenario
    latency: str
    """``--latency`` spec of every call."""
    publish_delay: float
    sizes: tuple[int, ...]
    """Post-deploy sizes (functions); the first is the one-function reference."""
    poll: float
    """Seconds between polls of a Pending version (production: 5)."""


FULL = Plan(PRUNE_FULL, "*=150±50", 5.0, (1, 10, 40), 5.0)
SMALL = Plan(PRUNE_SMALL, "*=70±10", 0.5, (1, 3), 0.25)


def run(plan: Plan, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Every part of the benchmark; the figures as the JSON file holds them."""
    options = SandboxOptions(rate_limit_per_second=RATE, latency=parse_latency([plan.latency]),
                             seed=7)
    say(f"prune: {plan.prune.describe()}; latency {plan.latency} ms, {RATE:g} requests/s")
    with Sandbox(options) as sandbox:
        prune = race(sandbox, plan.prune, contestants(tools.node_modules()), say)
    say(f"post-deploy of {', '.join(map(str, plan.sizes))} functions: publish delay "
        f"{plan.publish_delay:g} s")
    with Sandbox(replace(options, publish_delay_seconds=plan.publish_delay)) as sandbox:
        runs = {}
        for size in plan.sizes:
            runs[str(size)] = deploy(sandbox, size, poll=plan.poll)
            say(f"  {size} function(s): {runs[str(size)]['seconds']:.1f} s, "
                f"{runs[str(size)]['calls']} calls")
    return {"settings": {"latency_ms": plan.latency, "rate_per_second": RATE,
                         "publish_delay_seconds": plan.publish_delay,
                         "prune_scenario": plan.prune.describe()},
            "prune": prune, "post_deploy": with_bounds(runs)}


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                     for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _grid(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return [_row(head, widths), _row(["-" * w for w in widths], widths),
            *(_row(r, widths) for r in rows)]


def table(results: dict[str, Any]) -> str:
    """The figures as a person reads them."""
    prune = results["prune"]
    lines = [f"PRUNE  {results['settings']['prune_scenario']}",
             f"       latency {results['settings']['latency_ms']} ms on every call, limit "
             f"{RATE:g} requests/s; lower bound = calls / {RATE:g} s", ""]
    rows = []
    for figures in prune.values():
        rows.append([figures["label"], f"{figures['seconds']:.1f}", str(figures["calls"]),
                     f"{figures['requests_per_second'] or 0:.2f}",
                     f"{figures['lower_bound_seconds']:.1f}",
                     f"{figures['ratio_to_lower_bound'] or 0:.3f}",
                     f"{figures['throttles_seen']}/{figures['throttles_surfaced']}",
                     str(len(figures["errors_surfaced"])), str(figures["wrong_deletes"]),
                     str(figures["wrong_keeps"])])
    lines += _grid(["contestant", "seconds", "calls", "calls/s", "bound s", "x bound",
                    "throttles seen/surfaced", "errors", "wrong deletes", "wrong keeps"], rows)
    first = next(iter(prune.values()))
    floor = first["versions_to_delete"]
    lines += ["", f"{floor} versions had to go: no pruner does it in under {floor} "
                  f"DeleteFunction calls = {floor / RATE:.1f} s at {RATE:g}/s"]
    for figures in prune.values():
        if figures["wrong_deletes_by_reason"]:
            lines.append(f"{figures['label']} wrongly deleted: " + ", ".join(
                f"{n} ({why})" for why, n in figures["wrong_deletes_by_reason"].items()))
        if figures["errors_surfaced"]:
            more = len(figures["errors_surfaced"]) - 1
            lines.append(f"{figures['label']} reported: {figures['errors_surfaced'][0]}"
                         + (f" (+{more} more)" if more else ""))
    post = results["post_deploy"]
    lines += ["", "POST-DEPLOY  publish, headroom, scale, warm, alias, scale-down, prune (keep 3); "
                  "publish delay "
                  f"{results['settings']['publish_delay_seconds']:g} s; goal = T1 + calls / "
                  f"{RATE:g} s, limit = 1.5 T1 + calls / {RATE:g} s", ""]
    rows = [[n, str(r["providers"]), r["status"], f"{r['seconds']:.1f}", str(r["calls"]),
             f"{r['budget_seconds']:.1f}", f"{r['goal_seconds']:.1f}", f"{r['ratio_to_goal']:.3f}",
             f"{r['limit_seconds']:.1f}", "yes" if r["within_limit"] else "NO",
             f"{r['throttles_seen']}/{r['throttles_surfaced']}",
             f"{r['wrong_deletes']}/{r['wrong_keeps']}",
             f"{r['aliases_on_new_version']}/{r['functions']}"] for n, r in post.items()]
    lines += _grid(["functions", "providers", "status", "seconds", "calls", "calls/15",
                    "goal s", "x goal", "limit s", "within", "throttles seen/surfaced",
                    "wrong deletes/keeps", "aliases moved"], rows)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--small", action="store_true",
                        help="a few functions at low latency (what CI runs)")
    args = parser.parse_args()
    results = run(SMALL if args.small else FULL, say=lambda line: print(line, flush=True))
    print()
    print(table(results))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
