"""``lmi-delivery plan``: load, decide, plan, render. Reads AWS only to resolve steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lmi_delivery.config import load
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.config.roots import for_root, has_roots, root_keys
from lmi_delivery.plan import events
from lmi_delivery.plan.changes import Change, Selection
from lmi_delivery.plan.changes import select as changes_select
from lmi_delivery.plan.context import CiContext
from lmi_delivery.plan.events import ContextFlags
from lmi_delivery.plan.planner import LiveState, build_plan
from lmi_delivery.plan.policy import decide
from lmi_delivery.plan.policy import drift as drift_policy
from lmi_delivery.plan.render import Format
from lmi_delivery.plan.roots_plan import RootsPlan
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
    all_roots: bool = False
    """With ``terraform.roots``: run every root, whatever changed (``--all-roots``)."""


def make_plan(request: PlanRequest, environ: Mapping[str, str], *,
              config: Config | None = None) -> DeliveryPlan:
    """The delivery plan of a one-root config (see :func:`make_plans` for every form)."""
    config = config or load(request.config_path)
    env = config.environment(request.env_name)
    return plan_for(config, env, _context(request, config, env, environ),
                    None if request.offline else environ)


def make_plans(request: PlanRequest, environ: Mapping[str, str], *,
               config: Config | None = None) -> RootsPlan:
    """The delivery plans of the roots that run, in apply order, with change detection's
    answer for every root; the one plan of a one-root config."""
    config = config or load(request.config_path)
    env = config.environment(request.env_name)
    context = _context(request, config, env, environ)
    aws = None if request.offline else environ
    if not has_roots(config):
        return RootsPlan(env.name, (plan_for(config, env, context, aws),), ())
    event_context = events.resolve(environ, request.flags, default_branch=env.branch)
    return plan_roots(config, env, context, aws, all_roots=request.all_roots,
                      changes=changes_of(config, event_context, environ))


def changes_of(config: Config, context: CiContext,
               environ: Mapping[str, str]) -> tuple[Change, ...] | None:
    """What the event changed, from the repository's git history (``None``: unknown)."""
    from lmi_delivery.terraform.gitdiff import change_range, changed_files

    span = change_range(context)
    return None if span is None else changed_files(config.root, span, environ)


def plan_roots(config: Config, env: Environment, context: CiContext,
               aws_environ: Mapping[str, str] | None, *, all_roots: bool = False,
               changes: Sequence[Change] | None, drift: bool = False) -> RootsPlan:
    """One delivery plan per root that ``changes`` runs (every root with ``all_roots``)."""
    from lmi_delivery.terraform.modules import root_files

    files = root_files(config, env)
    selection = changes_select(files, changes, config_file=config.path.name,
                               all_roots=all_roots or drift)
    plans = []
    for key in root_keys(config):
        chosen = next((s for s in selection if s.key == key and s.runs), None)
        if chosen is None:
            continue
        projected = for_root(config, key)
        plan = plan_for(projected, env, context, aws_environ, drift=drift)
        plans.append(replace(without_post_deploy(plan, projected), selection=selection))
    return RootsPlan(env.name, tuple(plans), tuple(s for s in selection if not s.runs),
                     _elsewhere(config, env))


def without_post_deploy(plan: DeliveryPlan, config: Config) -> DeliveryPlan:
    """A root with no functions has no post-deploy to run."""
    if config.functions:
        return plan
    reason = f"root {config.terraform.root} lists no functions"
    return replace(plan, stages=tuple(
        replace(s, status="skipped", reason=reason, steps=()) if s.name == "post-deploy"
        and s.status != "skipped" else s for s in plan.stages))


def _elsewhere(config: Config, env: Environment) -> tuple[Selection, ...]:
    return tuple(Selection(key, False, (f"deploys to {', '.join(root.environments or ())} "
                                        f"only, not {env.name}",))
                 for key, root in config.terraform.roots.items() if not root.deploys_to(env.name))


def _context(request: PlanRequest, config: Config, env: Environment,
             environ: Mapping[str, str]) -> CiContext:
    context = events.resolve(environ, request.flags, default_branch=env.branch)
    if request.stand_in_commit:
        context = replace(context, sha=request.stand_in_commit,
                          head_sha=request.stand_in_commit if context.head_sha else None)
    elif context.source == "local" and not context.commit:
        context = _with_local_commit(context, config.root, environ)
    return context


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
    return make_plans(request, environ).render(fmt)
