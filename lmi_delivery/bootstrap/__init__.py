"""``lmi-delivery bootstrap``: the delivery plane of one environment, rendered from the config.

One model (:mod:`~lmi_delivery.bootstrap.model`: roles → statements → resources, built by
:func:`~lmi_delivery.bootstrap.plane.build_plane`) and three renderings of it: a CloudFormation
template, a Terraform configuration and the GitHub side as ``gh api`` commands. Both AWS
renderings embed the same canonical IAM documents. Rendering calls nothing; ``--apply``
deploys the template (:mod:`~lmi_delivery.bootstrap.apply`) and ``--github`` applies the GitHub
side (:mod:`~lmi_delivery.bootstrap.github_apply`, with a REST client the CLI hands in). It
never deploys or writes anything without one of them, and never inlines a buildspec other than
the packaged ones.
"""

from __future__ import annotations

from lmi_delivery.bootstrap.model import Document, Plane, Role, Statement
from lmi_delivery.bootstrap.plane import build_plane
from lmi_delivery.bootstrap.render import Rendering, render

__all__ = ["Document", "Plane", "Rendering", "Role", "Statement", "build_plane", "render"]
