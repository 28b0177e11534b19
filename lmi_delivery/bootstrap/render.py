"""What ``lmi-delivery bootstrap`` produces: the files of one rendering, all made before any is
written, and writing them into a directory."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lmi_delivery.bootstrap.cloudformation import render_cloudformation
from lmi_delivery.bootstrap.github import render_github
from lmi_delivery.bootstrap.model import Plane
from lmi_delivery.bootstrap.terraform import render_terraform
from lmi_delivery.errors import UsageError

Format = Literal["cloudformation", "terraform"]


@dataclass(frozen=True)
class Rendering:
    """File name → text; ``main`` is the template (or Terraform file)."""

    main: str
    files: dict[str, str]


def render(plane: Plane, fmt: Format, *, github_commands: bool = False) -> Rendering:
    env = plane.environment
    if fmt == "cloudformation":
        main, text = f"delivery-{env}.template.json", render_cloudformation(plane)
    else:
        main, text = f"delivery-{env}.tf", render_terraform(plane)
    files = {main: text, f"backend-{env}.txt": "\n".join(plane.backend_config) + "\n"}
    if github_commands:
        files[f"github-{env}.sh"] = render_github(plane)
    return Rendering(main, files)


def check_out_dir(out: str) -> Path:
    path = Path(out)
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a directory"
        raise UsageError(f"--out {out}: {what} (give an existing directory to write into)")
    return path


def write(rendering: Rendering, out: Path) -> list[Path]:
    """Write every file (each atomically); returns their paths."""
    written = []
    for name, text in rendering.files.items():
        target = out / name
        fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o755 if name.endswith(".sh") else 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
