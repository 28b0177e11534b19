"""The stage policy: for one CI context and one environment, which stages run, and why.

A pure function of its inputs. The rules (DESIGN.md, "Stages and events"):

- a pull request into the environment's branch runs security, validate and plan;
- a push or a manual dispatch on the environment's branch runs every stage; apply is marked
  "awaits approval" for ``apply: approval`` environments and skipped for ``apply: never`` (and
  post-deploy with it);
- a schedule runs the plan in drift mode;
- ``pull_request_target``, tags, other branches and unknown events run nothing, with the reason.

Apply never runs for a pull-request-type event, whatever the configuration says: a last guard
below enforces it independently of the rules above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lmi_delivery.config.model import STAGES, Environment
from lmi_delivery.events import CiContext, is_pull_request_event

Status = Literal["run", "awaits-approval", "skipped"]
Mode = Literal["deploy", "review", "drift", "none"]

REVIEW_STAGES = ("security", "validate", "plan")
MUTATING_STAGES = ("apply", "post-deploy")


@dataclass(frozen=True)
class StageDecision:
    stage: str
    status: Status
    reason: str

    @property
    def runs(self) -> bool:
        return self.status != "skipped"


@dataclass(frozen=True)
class StagePolicy:
    environment: str
    event: str
    mode: Mode
    reason: str
    stages: tuple[StageDecision, ...]

    def decision(self, stage: str) -> StageDecision:
        for d in self.stages:
            if d.stage == stage:
                return d
        raise KeyError(stage)

    def runs(self, stage: str) -> bool:
        return self.decision(stage).runs

    @property
    def running(self) -> tuple[str, ...]:
        return tuple(d.stage for d in self.stages if d.runs)


def _all(mode: Mode, env: Environment, context: CiContext, reason: str,
         run: dict[str, tuple[Status, str]]) -> StagePolicy:
    stages = tuple(
        StageDecision(stage, *run.get(stage, ("skipped", reason))) for stage in STAGES
    )
    return StagePolicy(env.name, context.event, mode, reason, stages)


def _nothing(env: Environment, context: CiContext, reason: str) -> StagePolicy:
    return _all("none", env, context, reason, {})


def _decide(context: CiContext, env: Environment) -> StagePolicy:
    event = context.event
    if event == "pull_request_target":
        return _nothing(env, context, "pull_request_target runs with the base repository's "
                        "secrets on untrusted code: lmi-delivery never acts on it")
    if is_pull_request_event(event):
        target = context.base_ref
        if target != env.branch:
            target_text = target or "an unknown branch"
            return _nothing(env, context, f"the pull request targets {target_text}, "
                            f"not {env.name}'s branch {env.branch}")
        review = f"pull request into {env.branch}: review only"
        never = "pull requests never apply; apply runs after the merge, on a push to " + env.branch
        return _all("review", env, context, review, {
            **{s: ("run", review) for s in REVIEW_STAGES},
            "apply": ("skipped", never),
            "post-deploy": ("skipped", never),
        })
    if event in ("push", "workflow_dispatch"):
        if context.is_tag:
            return _nothing(env, context, f"{context.ref} is a tag: tags do not deploy")
        if context.branch != env.branch:
            return _nothing(env, context, f"{event} on {context.branch or context.ref or 'no ref'}"
                            f", not {env.name}'s branch {env.branch}")
        deploy = f"{event} on {env.branch}"
        run: dict[str, tuple[Status, str]] = {s: ("run", deploy) for s in REVIEW_STAGES}
        if env.apply == "never":
            why = f"environment {env.name} says apply: never"
            run["apply"] = ("skipped", why)
            run["post-deploy"] = ("skipped", why)
        elif env.apply == "approval":
            run["apply"] = ("awaits-approval",
                            f"environment {env.name} requires an approved deployment")
            run["post-deploy"] = ("run", "after an approved apply")
        else:
            run["apply"] = ("run", f"{deploy}; environment {env.name} applies automatically")
            run["post-deploy"] = ("run", "after a successful apply")
        return _all("deploy", env, context, deploy, run)
    if event == "schedule":
        drift = "scheduled run: plan in drift mode, nothing is applied"
        return _all("drift", env, context, drift, {"plan": ("run", drift)})
    return _nothing(env, context, f"event {event or '(none)'} does not run any stage")


def decide(context: CiContext, env: Environment) -> StagePolicy:
    """Which stages run for ``context`` in ``env``; never apply for pull-request events."""
    policy = _decide(context, env)
    if not is_pull_request_event(context.event):
        return policy
    # Defence in depth: whatever the rules above say, no pull-request event mutates anything.
    guarded = tuple(
        StageDecision(d.stage, "skipped", "pull requests never apply") if
        d.stage in MUTATING_STAGES and d.runs else d
        for d in policy.stages
    )
    return StagePolicy(policy.environment, policy.event, policy.mode, policy.reason, guarded)
