"""The buildspecs shipped in the package, inlined into the projects the plane creates.

A project with an inline buildspec runs what this release of lmi-delivery ships, whatever a pull
request changes in the repository's ``buildspecs/``. Inlined without its comment lines: the same
YAML (a test parses both), a quarter smaller, so the template of a plane with several functions
still fits CloudFormation's inline limit.
"""

from __future__ import annotations

from importlib.resources import files

from lmi_delivery.plan.planner import BUILDSPECS


def buildspec_file(project_key: str) -> str:
    """The file name, e.g. ``plan.yml`` (review builds run the plan buildspec)."""
    return BUILDSPECS[project_key].rsplit("/", 1)[-1]


def packaged(project_key: str) -> str:
    """The text of the packaged buildspec of ``project_key``, as shipped."""
    path = files("lmi_delivery") / "buildspecs" / buildspec_file(project_key)
    return path.read_text(encoding="utf-8")


def buildspec(project_key: str) -> str:
    """What a project of ``project_key`` runs: the packaged buildspec without the lines that
    hold only a comment (none of them is inside a block scalar: the test of this module
    compares the parsed YAML)."""
    return "".join(line for line in packaged(project_key).splitlines(keepends=True)
                   if not line.lstrip().startswith("#"))
