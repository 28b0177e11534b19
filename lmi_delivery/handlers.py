"""AWS Lambda handlers shipped with lmi-delivery (no click: they run inside Lambda).

``lmi_delivery.handlers.prune`` is a scheduled prune (an EventBridge rule every hour, say). Each
setting comes from the event, else from the function's environment:

- ``config`` / ``LMI_DELIVERY_CONFIG``: path of lmi-delivery.yml in the package
  (default ``lmi-delivery.yml``)
- ``env`` / ``LMI_DELIVERY_ENV``: the environment to prune (required)
- ``keep`` / ``LMI_DELIVERY_KEEP``: newest versions each function keeps (default: the config)
- ``capacity_provider`` / ``LMI_DELIVERY_CAPACITY_PROVIDER``: only this provider
- ``scope`` / ``LMI_DELIVERY_PRUNE_SCOPE``: ``config`` (the functions of the config) or
  ``capacity-provider`` (every function bound to the providers, whoever owns it); default: the
  config's ``post_deploy.prune.scope``
- ``dry_run`` / ``LMI_DELIVERY_DRY_RUN``: ``true`` to report without deleting

The handler returns the JSON prune report (with ``exit_code``); deletions that failed are in
it and do not make the invocation fail, so one bad version never retriggers a whole run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from lmi_delivery.config.model import PRUNE_SCOPES
from lmi_delivery.errors import InputError
from lmi_delivery.postdeploy.prune.run import PruneRequest, run_prune

DEFAULT_CONFIG = "lmi-delivery.yml"
_TRUE = frozenset({"1", "true", "yes", "on"})


def _setting(event: Mapping[str, Any], environ: Mapping[str, str], key: str,
             variable: str) -> Any:
    value = event.get(key)
    return value if value not in (None, "") else (environ.get(variable) or None)


def prune_request_from(event: Mapping[str, Any], environ: Mapping[str, str]) -> PruneRequest:
    """The prune an event asks for."""
    env_name = _setting(event, environ, "env", "LMI_DELIVERY_ENV")
    if not env_name:
        raise InputError("no environment to prune: set LMI_DELIVERY_ENV or pass \"env\"")
    keep = _setting(event, environ, "keep", "LMI_DELIVERY_KEEP")
    try:
        keep_value = None if keep is None else int(keep)
    except (TypeError, ValueError):
        raise InputError(f"keep must be an integer, not {keep!r}") from None
    scope = _setting(event, environ, "scope", "LMI_DELIVERY_PRUNE_SCOPE")
    if scope is not None and scope not in PRUNE_SCOPES:
        raise InputError(f"scope must be one of {', '.join(PRUNE_SCOPES)}, not {scope!r}")
    dry_run = _setting(event, environ, "dry_run", "LMI_DELIVERY_DRY_RUN")
    return PruneRequest(
        config_path=str(_setting(event, environ, "config", "LMI_DELIVERY_CONFIG")
                        or DEFAULT_CONFIG),
        env_name=str(env_name), keep=keep_value,
        capacity_provider=_setting(event, environ, "capacity_provider",
                                   "LMI_DELIVERY_CAPACITY_PROVIDER"),
        scope=scope, dry_run=dry_run is True or str(dry_run).lower() in _TRUE)


def prune(event: Mapping[str, Any] | None, context: Any) -> dict[str, Any]:
    """Scheduled prune: plan and execute, return the report as a JSON-ready dict."""
    environ = dict(os.environ)
    outcome = run_prune(prune_request_from(event or {}, environ), environ)
    return outcome.to_dict()
