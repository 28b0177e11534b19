"""A real checkov for the integration test, in a virtualenv of its own.

checkov cannot join the ``test`` extra: checkov 3.3.30 pins ``boto3==1.35.49`` (and
``packaging<24``, ``networkx<2.7``) while lmi-delivery needs ``boto3>=1.44`` for the Lambda
Managed Instances API. The gate only runs checkov as a program on ``PATH``, so
:func:`checkov_bin` installs the pinned version once per machine into its own virtualenv under
the user's cache directory (about 30 s and 290 MB), under a file lock so that parallel pytest
workers install it once, and answers the directory holding the ``checkov`` script.
``LMI_DELIVERY_CHECKOV_BIN`` names an existing directory instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

VERSION = "3.3.30"


class MissingCheckov(Exception):
    """checkov could not be installed here (the message says why)."""


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lmi-delivery" / f"checkov-{VERSION}"


def checkov_bin() -> Path:
    given = os.environ.get("LMI_DELIVERY_CHECKOV_BIN")
    if given:
        return Path(given)
    venv = _cache()
    bin_dir = venv / "bin"
    stamp = venv / ".installed"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv.parent / f"checkov-{VERSION}.lock"), timeout=900):
        if stamp.is_file():
            return bin_dir
        print(f"installing checkov {VERSION} into {venv} (once per machine)",
              file=sys.__stderr__, flush=True)
        steps = ([sys.executable, "-m", "venv", "--clear", str(venv)],
                 [str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                  "--disable-pip-version-check", f"checkov=={VERSION}"])
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True, timeout=900,
                                    check=False)
            if result.returncode != 0:
                raise MissingCheckov(f"{' '.join(step)} failed (exit {result.returncode}):\n"
                                     f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
        stamp.write_text(VERSION + "\n", encoding="utf-8")
    return bin_dir
