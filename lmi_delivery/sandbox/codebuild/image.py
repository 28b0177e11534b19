"""What the sandbox's build image holds: its tools, its pip index and its build cache.

A CodeBuild image has ``python3`` with pip, the AWS CLI and (for our buildspecs) Terraform,
and no lmi-delivery: a build installs the orchestrator's wheel itself. The sandbox's builds run
on this machine, so it composes the same from what the machine has:

- ``PATH``: the machine's, without the virtualenv lmi-delivery itself runs from (its
  ``lmi-delivery`` and ``python``), behind a tools directory holding ``python3`` and ``python``
  (this interpreter's base installation, outside any virtualenv), ``terraform`` (a shim of the
  embedded Terraform, when the machine lacks the pinned version) and ``aws`` (a shim that copies
  S3 objects, when the machine has no AWS CLI);
- pip's index (``PIP_INDEX_URL``): the wheelhouse of lmi-delivery's locked dependencies
  (:mod:`.build_wheelhouse`), and none of the machine's pip configuration;
- ``LMI_DELIVERY_CACHE_DIR``: a cache the builds of one sandbox share, as a build host's local
  cache: the wheels they fetched and the virtualenvs made from them, each under its sha256
  (a build reuses only bytes that hash to the sha256 it was handed). ``LMI_SANDBOX_BUILD_CACHE``
  in the sandbox's environment names a directory that outlives the sandbox instead, shared by
  every sandbox that names it (the test suite does, so that one wheel is installed once).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lmi_delivery.sandbox.codebuild import env as build_env
from lmi_delivery.sandbox.codebuild import wheelhouse as build_wheelhouse

#: A build cache shared by sandboxes (see above); by default each sandbox has its own.
SHARED_CACHE = "LMI_SANDBOX_BUILD_CACHE"
#: The ``aws`` of a sandbox image without the AWS CLI: ``aws s3 cp s3://BUCKET/KEY DEST``.
AWS_SHIM = '''\
import os, sys
from pathlib import Path
import boto3
args = [a for a in sys.argv[1:] if a not in ("--only-show-errors", "--quiet")]
if len(args) != 4 or args[:2] != ["s3", "cp"] or not args[2].startswith("s3://"):
    sys.exit("the sandbox's aws shim knows only: aws s3 cp s3://BUCKET/KEY DEST")
bucket, _, key = args[2][5:].partition("/")
dest = Path(args[3])
if args[3].endswith("/") or dest.is_dir():
    dest = dest / key.rsplit("/", 1)[-1]
try:
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
except Exception as error:
    sys.exit(f"download failed: {args[2]}: {error}")
dest.write_bytes(body)
'''


@dataclass(frozen=True)
class BuildImage:
    tools_dir: Path
    variables: Mapping[str, str] = field(default_factory=dict)
    """Set in every build's environment, below the buildspec's and the project's."""
    hidden: tuple[str, ...] = ()
    """Directories taken off the machine's ``PATH`` (the virtualenv lmi-delivery runs from)."""
    notes: tuple[str, ...] = ()
    """Written at the top of every build's log: what the image lacks, and why."""

    def path(self, machine_path: str) -> str:
        return build_env.tool_path(machine_path, self.tools_dir, self.hidden)


def own_virtualenv() -> tuple[str, ...]:
    """The directories of the virtualenv this interpreter runs in (none outside one)."""
    if sys.prefix == sys.base_prefix:
        return ()
    return (str(Path(sys.prefix) / "bin"), os.path.dirname(sys.executable))


def base_python() -> str:
    """This interpreter's base installation: a ``python3`` that knows no virtualenv."""
    return os.path.realpath(getattr(sys, "_base_executable", "") or sys.executable)


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def prepare(workdir: Path, environ: Mapping[str, str]) -> BuildImage:
    """The image of the sandbox whose work directory is ``workdir``, on this machine."""
    tools = workdir / "codebuild-bin"
    tools.mkdir(parents=True, exist_ok=True)
    hidden = own_virtualenv()
    machine_path = build_env.tool_path(environ.get("PATH", ""), None, hidden)
    for name in ("python3", "python"):
        # exec, not a symlink: the interpreter then knows its real place, and a virtualenv made
        # with it does not point into this sandbox's directory (gone when the sandbox stops).
        _write(tools / name, f"#!/bin/sh\nexec {shlex.quote(base_python())} \"$@\"\n")
    build_env.terraform_shim(machine_path, tools, environ)
    if shutil.which("aws", path=machine_path) is None:
        _write(tools / "aws", f"#!{shlex.quote(sys.executable)} -I\n{AWS_SHIM}")
    cache = environ.get(SHARED_CACHE) or str(workdir / "codebuild-cache")
    variables = {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                 "LMI_DELIVERY_CACHE_DIR": cache}
    notes: tuple[str, ...] = ()
    try:
        variables["PIP_INDEX_URL"] = build_wheelhouse.ensure(environ).as_uri() + "/"
    except (build_wheelhouse.WheelhouseError, OSError) as error:
        notes = (f"sandbox image: no wheels of lmi-delivery's dependencies, so builds cannot "
                 f"install lmi-delivery: {error}",)
    return BuildImage(tools, variables, hidden, notes)
