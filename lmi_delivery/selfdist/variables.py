"""The variables that tell a build which lmi-delivery to install, and what it reports back."""

from __future__ import annotations

#: The ``s3://`` location of the orchestrator's wheel.
WHEEL_URL = "LMI_DELIVERY_WHEEL_URL"
#: The sha256 the wheel's bytes must have (64 hex digits).
WHEEL_SHA256 = "LMI_DELIVERY_WHEEL_SHA256"
#: The version the installed lmi-delivery must report.
VERSION = "LMI_DELIVERY_VERSION"
#: With ``codebuild.lmi_delivery``: the team's index serving that version (instead of a URL).
INDEX_URL = "LMI_DELIVERY_INDEX_URL"
#: Where a build keeps fetched wheels and ready virtualenvs (a cache; default ~/.lmi-delivery).
CACHE_DIR = "LMI_DELIVERY_CACHE_DIR"
#: What ``self-check`` exports for CodeBuild's record of the build.
INSTALLED_VERSION = "LMI_DELIVERY_INSTALLED_VERSION"
INSTALLED_SHA256 = "LMI_DELIVERY_INSTALLED_SHA256"
