"""serverless-prune-plugin's own code, under Node, against the sandbox.

The plugin (``.ci/node``, pinned) runs unchanged; only its host is supplied, by
``serverless_prune_host.cjs``: ``provider.request`` forwards to the AWS SDK for JavaScript v3
pointed at the sandbox. The plugin lists each function's versions and aliases (paged), keeps
the ``number`` newest and the versions an alias's primary routing names, and deletes the rest
one at a time, function after function; an error it does not expect stops the whole run.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from peers import Outcome

HOST = Path(__file__).with_name("serverless_prune_host.cjs")


def prune(endpoint: str, region: str, functions: list[str], keep: int, *,
          node_modules: Path, timeout: float = 900) -> Outcome:
    """Run the plugin's post-deploy prune over ``functions`` (the service's, in order)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environ["NODE_PATH"] = str(node_modules)
    request = {"endpoint": endpoint, "region": region, "keep": keep, "functions": functions}
    done = subprocess.run(["node", str(HOST), json.dumps(request)], capture_output=True,
                          text=True, env=environ, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the serverless-prune-plugin host failed (exit {done.returncode}):\n"
                           f"{done.stderr}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    error = answer["error"]
    throttled = bool(answer["throttle_surfaced"])
    errors = () if error is None or throttled else (f"{error['code']}: {error['message']}",)
    return Outcome(float(answer["seconds"]), int(throttled), errors)
