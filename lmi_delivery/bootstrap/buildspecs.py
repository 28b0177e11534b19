"""The buildspecs shipped in the package, inlined into the projects the plane creates.

A project with an inline buildspec runs what this release of lmi-delivery ships, whatever a pull
request changes in the repository's ``buildspecs/``.
"""

from __future__ import annotations

from importlib.resources import files

from lmi_delivery.plan.planner import BUILDSPECS


def buildspec_file(project_key: str) -> str:
    """The file name, e.g. ``plan.yml`` (review builds run the plan buildspec)."""
    return BUILDSPECS[project_key].rsplit("/", 1)[-1]


def buildspec(project_key: str) -> str:
    """The text of the packaged buildspec a project of ``project_key`` runs."""
    path = files("lmi_delivery") / "buildspecs" / buildspec_file(project_key)
    return path.read_text(encoding="utf-8")
