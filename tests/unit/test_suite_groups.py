"""The suite's premise about pytest-xdist: tests of one ``xdist_group`` run on one worker.

The act workflow tests build their world (a runner's Python, a sandbox server, two runs of the
pull-request workflow) once per module and keep to one worker with ``xdist_group``; if the
grouping stops working, every worker builds that world again and the suite takes minutes more
while still passing. This runs a small suite of its own under the project's settings
(``-n 2 --dist loadgroup``) and reads which worker ran each test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GROUPED = '''
import json, os, pytest

pytestmark = pytest.mark.xdist_group("together")


@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    out = os.path.join(os.environ["GROUP_OUT"], f"grouped-{n}.json")
    with open(out, "w") as f:
        json.dump(os.environ["PYTEST_XDIST_WORKER"], f)
'''
FREE = '''
import time, pytest


@pytest.mark.parametrize("n", range(6))
def test_free(n):
    time.sleep(0.05)
'''


def test_a_group_s_tests_run_on_one_worker(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_grouped.py").write_text(GROUPED, encoding="utf-8")
    (suite / "test_free.py").write_text(FREE, encoding="utf-8")
    (suite / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["GROUP_OUT"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         "--dist", "loadgroup", "--basetemp", str(tmp_path / "base"), str(suite)],
        cwd=suite, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    workers = {json.loads(p.read_text(encoding="utf-8"))
               for p in tmp_path.glob("grouped-*.json")}
    assert len(list(tmp_path.glob("grouped-*.json"))) == 6
    assert len(workers) == 1, f"the group's tests ran on {sorted(workers)}"
