"""Inside a build: is the running lmi-delivery the one the orchestrator passed?

The version comes from the installed distribution's metadata; the wheel's sha256 from the
``direct_url.json`` pip writes when it installs a wheel file with hash checking
(``archive_info.hashes``): the hash pip verified the bytes against before installing them.
The distribution must be the one the running ``lmi_delivery`` package was imported from (its
``RECORD`` lists that very file), so a copy earlier on ``sys.path`` cannot pass for it. An
editable install, one from an index (pip records no hash then) or a copy on ``PYTHONPATH`` has no
recorded wheel sha256, and never passes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lmi_delivery.errors import GateRefused
from lmi_delivery.selfdist.variables import VERSION, WHEEL_SHA256
from lmi_delivery.selfdist.wheel import owning_distribution


@dataclass(frozen=True)
class Installed:
    version: str
    wheel_sha256: str | None
    origin: str

    def __str__(self) -> str:
        if self.wheel_sha256:
            return f"{self.version} (wheel sha256 {self.wheel_sha256})"
        return f"{self.version} ({self.origin}, no wheel sha256 recorded)"


def installed() -> Installed:
    """The running lmi-delivery as its installation recorded it."""
    import lmi_delivery

    module = Path(lmi_delivery.__file__).resolve()
    dist = owning_distribution(module)
    if dist is None:
        return Installed(lmi_delivery.__version__, None,
                         f"not an installed wheel: imported from {module.parent}")
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        direct = None
    if not isinstance(direct, dict):
        return Installed(dist.version, None, "installed from an index")
    archive = direct.get("archive_info")
    hashes = archive.get("hashes") if isinstance(archive, dict) else None
    sha = hashes.get("sha256") if isinstance(hashes, dict) else None
    if not sha and isinstance(archive, dict) and str(archive.get("hash", "")).startswith(
            "sha256="):
        sha = str(archive["hash"]).removeprefix("sha256=")
    origin = f"installed from {direct.get('url', 'an unknown place')}"
    return Installed(dist.version, str(sha).lower() if sha else None, origin)


def check(version: str, wheel_sha256: str, found: Installed | None = None) -> Installed:
    """Refuse (exit 3) unless the running lmi-delivery is ``version`` from that wheel."""
    found = found or installed()
    expected = wheel_sha256.strip().lower()
    if found.version != version.strip() or found.wheel_sha256 != expected:
        raise GateRefused(f"this build runs lmi-delivery {found}, but the orchestrator passed "
                          f"lmi-delivery {version.strip()} (wheel sha256 {expected or '(none)'}): "
                          "refusing to run another lmi-delivery than the orchestrator's",
                          context={"installed": str(found)})
    return found


def check_in_build(environ: Mapping[str, str]) -> None:
    """Every lmi-delivery command inside a build the orchestrator started checks itself first.

    Only when the build was handed a wheel (its sha256 and version) and runs in CodeBuild.
    """
    if environ.get("CODEBUILD_BUILD_ID") and environ.get(WHEEL_SHA256) and environ.get(VERSION):
        check(environ[VERSION], environ[WHEEL_SHA256])
