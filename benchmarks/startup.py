"""Measure how fast the CLI starts: `--help`, `plan --help` and a full offline `plan`.

The budget is 0.3 s for the help screens (a user types them interactively) and well under a
second for an offline plan. Prints the median and worst of N runs of each, as a fresh process.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = {
    "--help": ["--help"],
    "plan --help": ["plan", "--help"],
    "plan (offline, agent-platform)": [
        "plan", "--config", str(REPO / "examples/agent-platform/lmi-delivery.yml"),
        "--env", "dev", "--event", "push", "--offline",
    ],
}
BUDGET = {"--help": 0.3, "plan --help": 0.3, "plan (offline, agent-platform)": 1.0}


def measure(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lmi_delivery", *args], check=True,
                       capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    print(f"{'command':<34} {'median':>8} {'worst':>8} {'budget':>8}")
    for name, args in CASES.items():
        times = measure(args, runs)
        median, worst = statistics.median(times), max(times)
        verdict = "ok" if median < BUDGET[name] else "OVER"
        print(f"{name:<34} {median:8.3f} {worst:8.3f} {BUDGET[name]:8.1f}  {verdict}")


if __name__ == "__main__":
    main()
