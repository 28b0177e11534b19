"""The embedded, AWS-compatible sandbox endpoint: moto's server extended for LMI.

Public API: :class:`Sandbox`, :class:`SandboxOptions`, :class:`FaultRates`, the
:class:`Extension` protocol and :class:`Invocation`. See ``server`` for the lifecycle,
``control`` for the control endpoints, ``seeding`` for the seed file format and ``journal``
for the record of every call answered. It never forwards a request to a real AWS endpoint.

Names are imported on first use, so ``import lmi_delivery.sandbox`` (and the CLI group in
:mod:`lmi_delivery.cli.commands.sandbox`) works without the ``sandbox`` extra (moto) installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lmi_delivery.sandbox.extension import Extension
    from lmi_delivery.sandbox.options import FaultRates, SandboxOptions
    from lmi_delivery.sandbox.server import Sandbox
    from lmi_delivery.sandbox.state import Invocation

_WHERE = {"Extension": "extension", "FaultRates": "options", "SandboxOptions": "options",
          "Sandbox": "server", "Invocation": "state"}

__all__ = ["Extension", "FaultRates", "Invocation", "Sandbox", "SandboxOptions"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"lmi_delivery.sandbox.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
