"""``lmi-delivery plan``: load, decide, plan, render. Reads AWS only to resolve steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from lmi_delivery.config import load
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.plan import events
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.events import ContextFlags
from lmi_delivery.plan.planner import LiveState, build_plan
from lmi_delivery.plan.policy import decide
from lmi_delivery.plan.policy import drift as drift_policy
from lmi_delivery.plan.render import Format, render
from lmi_delivery.plan.steps import DeliveryPlan


@dataclass(frozen=True)
class PlanRequest:
    config_path: str
    env_name: str
    flags: ContextFlags
    fmt: str = "text"
    offline: bool = False
    stand_in_commit: str | None = None
    """The sandbox's snapshot commit, standing for the event's commit (its builds check it out):
    applied after the context is read, so GitHub's own report is still checked against flags."""


def make_plan(request: PlanRequest, environ: Mapping[str, str], *,
              config: Config | None = None) -> DeliveryPlan:
    config = config or load(request.config_path)
    env = config.environment(request.env_name)
    context = events.resolve(environ, request.flags, default_branch=env.branch)
    if request.stand_in_commit:
        context = replace(context, sha=request.stand_in_commit,
                          head_sha=request.stand_in_commit if context.head_sha else None)
    elif context.source == "local" and not context.commit:
        context = _with_local_commit(context, config.root, environ)
    return plan_for(config, env, context, None if request.offline else environ)


def plan_for(config: Config, env: Environment, context: CiContext,
             aws_environ: Mapping[str, str] | None, *, drift: bool = False) -> DeliveryPlan:
    """The delivery plan for ``context``; reads current aliases (read-only) unless
    ``aws_environ`` is ``None``, and says when it plans offline and why. ``drift`` plans in
    drift mode whatever the event."""
    live: LiveState | None = None
    notes: tuple[str, ...] = ()
    if aws_environ is not None:
        live, note = _read_live(config, env, aws_environ)
        notes = (note,) if note else ()
    policy = drift_policy(context, env) if drift else decide(context, env)
    return build_plan(config, env, context, policy, offline=live is None, live=live,
                      notes=notes)


def _read_live(config: Config, env: Environment,
               environ: Mapping[str, str]) -> tuple[LiveState | None, str]:
    """Current aliases from AWS, read-only; ``None`` with the reason when AWS is not readable."""
    from lmi_delivery.aws.clients import clients_for
    from lmi_delivery.postdeploy.live import read_live_state

    factory = clients_for(config, env, environ, max_attempts=2)
    if not factory.has_credentials():
        return None, "no AWS credentials found: planning offline"
    live, note = read_live_state(config, env, factory.client("lambda"))
    return live, note or ""


def _with_local_commit(context: CiContext, root: Path,
                       environ: Mapping[str, str]) -> CiContext:
    """A local run plans for the repository's checked-out commit, when there is one."""
    from lmi_delivery import process

    try:
        result = process.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=root,
                             env=environ, check=False, timeout=10)
    except OSError:
        return context
    sha = result.stdout.strip()
    if result.returncode != 0 or len(sha) != 40:
        return context
    assumed = tuple(a for a in context.assumed if a != "commit unknown")
    return replace(context, sha=sha, assumed=(*assumed, "commit of the checkout"))


def plan_report(request: PlanRequest, environ: Mapping[str, str]) -> str:
    fmt: Format = "json" if request.fmt == "json" else (
        "markdown" if request.fmt == "markdown" else "text")
    return render(make_plan(request, environ), fmt)
