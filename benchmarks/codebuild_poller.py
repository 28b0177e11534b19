"""Measure the CodeBuild poller against the sandbox: API calls per build-minute, end latency.

For 1, 10 and 50 concurrent builds (each prints a line a second for about ``--duration``
seconds, ends spread over +-20 %), three watchers observe the *same* builds at once, each with
its own clients and call counters:

- ``ours 5s`` / ``ours 2s``: :func:`lmi_delivery.codebuild.wait`, one ``BatchGetBuilds`` per
  interval for up to 100 builds, plus one ``GetLogEvents`` page per running build;
- ``per-build 30s``: the public action's policy, simulated: every build polled on its own
  every 30 s (``BatchGetBuilds`` with one id, then its log page), starting when it starts.

End-detection latency is the time between a build's ``endTime`` and the moment the watcher's
status call saw it. Runs in about ``3 x (duration + 32)`` seconds plus start-up.

    python benchmarks/codebuild_poller.py [--duration 20] [--sizes 1,10,50] [--intervals 5,2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmi_delivery.codebuild import (
    BuildRequest,
    BuildResult,
    StartedBuild,
    Variable,
    start_build,
    wait,
)
from lmi_delivery.codebuild.logs import LogFollower
from lmi_delivery.sandbox import Sandbox

SPEC = """\
version: 0.2
phases:
  build:
    commands:
      - for i in $(seq 1 $TICKS); do echo "tick-$i"; sleep 1; done
"""


@dataclass
class Counted:
    codebuild: Any
    logs: Any
    calls: dict[str, int] = field(default_factory=lambda: {"BatchGetBuilds": 0,
                                                           "GetLogEvents": 0})
    latencies: list[float] = field(default_factory=list)


def counted(sandbox: Sandbox) -> Counted:
    codebuild = sandbox.client("codebuild", max_pool_connections=20)
    logs = sandbox.client("logs", max_pool_connections=20)
    watcher = Counted(codebuild, logs)

    def count(model: Any, **_: Any) -> None:
        watcher.calls[model.name] = watcher.calls.get(model.name, 0) + 1

    codebuild.meta.events.register("before-call.codebuild.BatchGetBuilds", count)
    logs.meta.events.register("before-call.logs.GetLogEvents", count)
    return watcher


class Quiet:
    def build_started(self, build: StartedBuild) -> None: ...
    def log_line(self, build: StartedBuild, line: str) -> None: ...
    def build_finished(self, result: BuildResult) -> None: ...
    def notice(self, message: str) -> None: ...
    def group_start(self, title: str) -> None: ...
    def group_end(self) -> None: ...


def ours(watcher: Counted, builds: list[StartedBuild], interval: float) -> None:
    results = wait(builds, codebuild_client=watcher.codebuild, logs_client=watcher.logs,
                   reporter=Quiet(), poll_interval=interval, clock=time.time)
    watcher.latencies = [r.noticed_at - r.end_time for r in results
                         if r.noticed_at is not None and r.end_time is not None]


def per_build(watcher: Counted, builds: list[StartedBuild], starts: dict[str, float],
              interval: float) -> None:
    """Each build on its own schedule: a status call and a log page every ``interval``."""
    next_poll = {b.id: starts[b.id] for b in builds}
    followers: dict[str, LogFollower] = {}
    while next_poll:
        build_id = min(next_poll, key=next_poll.__getitem__)
        time.sleep(max(0.0, next_poll[build_id] - time.time()))
        build = watcher.codebuild.batch_get_builds(ids=[build_id])["builds"][0]
        seen = time.time()
        logs = build.get("logs") or {}
        if build_id not in followers and logs.get("groupName"):
            followers[build_id] = LogFollower(watcher.logs, logs["groupName"],
                                              logs["streamName"])
        done = build["buildStatus"] != "IN_PROGRESS"
        if build_id in followers:
            followers[build_id].fetch(lambda line: None, drain=done)
        if done:
            watcher.latencies.append(seen - build["endTime"].timestamp())
            del next_poll[build_id]
        else:
            next_poll[build_id] += interval


def measure(sandbox: Sandbox, source: Path, size: int, duration: int,
            intervals: list[float], action_interval: float) -> list[tuple[Any, ...]]:
    setup = sandbox.client("codebuild", max_pool_connections=20)
    name = f"bench-{size}"
    setup.create_project(name=name, source={"type": "NO_SOURCE", "location": str(source),
                                            "buildspec": SPEC},
                         artifacts={"type": "NO_ARTIFACTS"},
                         environment={"type": "LINUX_CONTAINER", "image": "sandbox",
                                      "computeType": "BUILD_GENERAL1_SMALL"},
                         serviceRole="arn:aws:iam::123456789012:role/bench")
    starts: dict[str, float] = {}

    def start(k: int) -> StartedBuild:
        ticks = round(duration * (0.8 + 0.4 * k / max(1, size - 1)))
        build = start_build(setup, BuildRequest(name, variables=(Variable("TICKS", str(ticks)),)))
        starts[build.id] = time.time()
        return build

    with ThreadPoolExecutor(max_workers=10) as pool:  # the sandbox starts ~10 builds a second
        builds = list(pool.map(start, range(size)))
    watchers = {f"ours {i:g}s": counted(sandbox) for i in intervals}
    watchers[f"per-build {action_interval:g}s"] = counted(sandbox)
    threads = [threading.Thread(target=ours, args=(watchers[f"ours {i:g}s"], builds, i))
               for i in intervals]
    threads.append(threading.Thread(target=per_build, args=(
        watchers[f"per-build {action_interval:g}s"], builds, starts, action_interval)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = setup.batch_get_builds(ids=[b.id for b in builds[:100]])["builds"]
    build_minutes = sum((b["endTime"] - b["startTime"]).total_seconds() for b in final) / 60
    rows = []
    for label, watcher in watchers.items():
        status, logs = watcher.calls["BatchGetBuilds"], watcher.calls["GetLogEvents"]
        rows.append((size, label, status, logs, build_minutes, status / build_minutes,
                     (status + logs) / build_minutes, statistics.mean(watcher.latencies),
                     max(watcher.latencies)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds each build runs")
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--intervals", default="5,2", help="our poll intervals (seconds)")
    parser.add_argument("--action-interval", type=float, default=30.0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    intervals = [float(i) for i in args.intervals.split(",")]
    header = ("builds", "policy", "BatchGetBuilds", "GetLogEvents", "build-min",
              "status/build-min", "all/build-min", "latency mean s", "latency max s")
    print(" | ".join(header))
    started = time.time()
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as source:
        for size in sizes:
            for row in measure(sandbox, Path(source), size, args.duration, intervals,
                               args.action_interval):
                print(f"{row[0]:>6} | {row[1]:<14} | {row[2]:>14} | {row[3]:>12} | "
                      f"{row[4]:>9.1f} | {row[5]:>16.2f} | {row[6]:>13.2f} | "
                      f"{row[7]:>14.2f} | {row[8]:>13.2f}", flush=True)
    print(f"total {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
