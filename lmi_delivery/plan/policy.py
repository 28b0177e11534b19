"""The stage policy: for one CI context and one environment, which stages run, and why.

A pure function of its inputs. The rules (DESIGN.md, "Stages and events"):

- a pull request into the environment's branch runs security, validate and plan;
- a push or a manual dispatch on the environment's branch runs every stage; apply is marked
  "awaits approval" for ``apply: approval`` environments and skipped for ``apply: never`` (and
  post-deploy with it);
- a merge group into the environment's branch is reviewed like a pull request;
- a ``workflow_run`` deploys like a push only when the run it follows succeeded, was a push or a
  dispatch, ran this repository's code (never a fork's) and ran on the environment's branch;
- a schedule runs the plan in drift mode;
- ``pull_request_target``, pushes that delete their ref, tags, other branches and every other
  event run nothing, with the reason.

Apply never runs for a pull-request-type event, whatever the configuration says: a last guard
below enforces it independently of the rules above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lmi_delivery.config.model import STAGES, Environment
from lmi_delivery.plan.context import CiContext, UpstreamRun, is_null_sha, is_pull_request_event

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


def _deploy(env: Environment, context: CiContext, deploy: str) -> StagePolicy:
    """Every stage of a deploy; apply as the environment's ``apply`` setting says."""
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


def _review(env: Environment, context: CiContext) -> StagePolicy:
    """A pull request or a merge group: review plans into the environment's branch only."""
    what = "merge group" if context.event == "merge_group" else "pull request"
    target = context.base_ref
    if target != env.branch:
        target_text = target or "an unknown branch"
        return _nothing(env, context, f"the {what} targets {target_text}, "
                        f"not {env.name}'s branch {env.branch}")
    review = f"{what} into {env.branch}: review only"
    never = f"{what}s never apply; apply runs after the merge, on a push to {env.branch}"
    return _all("review", env, context, review, {
        **{s: ("run", review) for s in REVIEW_STAGES},
        "apply": ("skipped", never),
        "post-deploy": ("skipped", never),
    })


def _after_workflow_run(env: Environment, context: CiContext,
                        upstream: UpstreamRun | None) -> StagePolicy:
    """A ``workflow_run`` deploys only after a successful push or dispatch of this repository's
    code on the environment's branch; anything else runs nothing, saying which check failed."""
    if upstream is None:
        return _nothing(env, context, "workflow_run without its payload: which run it follows "
                        "is unknown, nothing to deploy")
    if upstream.conclusion != "success":
        return _nothing(env, context, "the workflow_run's upstream run concluded "
                        f"{upstream.conclusion or '(not yet)'}, not success: nothing to deploy")
    if upstream.event not in ("push", "workflow_dispatch"):
        return _nothing(env, context, "the workflow_run's upstream run was triggered by "
                        f"{upstream.event or 'an unknown event'}, not push or workflow_dispatch: "
                        "nothing to deploy")
    if upstream.head_repository_id is None or upstream.repository_id is None:
        return _nothing(env, context, "the workflow_run's upstream run does not say which "
                        "repository its code came from: only this repository's runs deploy")
    if not upstream.same_repository:
        return _nothing(env, context, "the workflow_run's upstream run ran a fork's code "
                        f"({upstream.head_repository or 'another repository'}): a fork's run "
                        "never deploys")
    if upstream.head_branch != env.branch:
        return _nothing(env, context, f"workflow_run on {upstream.head_branch or 'no branch'}, "
                        f"not {env.name}'s branch {env.branch}")
    return _deploy(env, context, f"workflow_run after a successful {upstream.event} on "
                   f"{env.branch}")


def _decide(context: CiContext, env: Environment) -> StagePolicy:
    event = context.event
    if event == "pull_request_target":
        return _nothing(env, context, "pull_request_target runs with the base repository's "
                        "secrets on untrusted code: lmi-delivery never acts on it")
    if is_pull_request_event(event):
        return _review(env, context)
    if event == "push" and (context.deleted or is_null_sha(context.sha)):
        return _nothing(env, context, f"the push deleted {context.ref or 'its ref'}: "
                        "nothing to deploy")
    if event in ("push", "workflow_dispatch"):
        if context.is_tag:
            return _nothing(env, context, f"{context.ref} is a tag: tags do not deploy")
        if context.branch != env.branch:
            return _nothing(env, context, f"{event} on {context.branch or context.ref or 'no ref'}"
                            f", not {env.name}'s branch {env.branch}")
        return _deploy(env, context, f"{event} on {env.branch}")
    if event == "workflow_run":
        return _after_workflow_run(env, context, context.workflow_run)
    if event == "schedule":
        return drift(context, env, "scheduled run")
    return _nothing(env, context, f"event {event or '(none)'} does not run any stage")


def drift(context: CiContext, env: Environment, why: str = "drift check") -> StagePolicy:
    """Plan in drift mode, whatever the event: a review plan, nothing stored where deploy plans
    live, nothing applied (``ci --command drift``, the drift workflow's manual runs too)."""
    reason = f"{why}: plan in drift mode, nothing is applied"
    return _all("drift", env, context, reason, {"plan": ("run", reason)})


def decide(context: CiContext, env: Environment) -> StagePolicy:
    """Which stages run for ``context`` in ``env``; never apply for pull-request events."""
    policy = _decide(context, env)
    if not is_pull_request_event(context.event):
        return policy
    # Defence in depth: whatever the rules above say, no pull-request event mutates anything.
    never = "merge groups never apply" if context.event == "merge_group" else \
        "pull requests never apply"
    guarded = tuple(
        StageDecision(d.stage, "skipped", never) if
        d.stage in MUTATING_STAGES and d.runs else d
        for d in policy.stages
    )
    return StagePolicy(policy.environment, policy.event, policy.mode, policy.reason, guarded)


#: The stages whose steps a build of each project executes, by mode: what the plan, apply and
#: post-deploy builds derive for themselves, equal to what :func:`decide` runs for the event
#: that started them (a test holds the two together).
BUILD_STAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "plan": {"deploy": REVIEW_STAGES},
    "review": {"review": REVIEW_STAGES, "drift": ("plan",)},
    "apply": {"deploy": ("apply",)},
    "post_deploy": {"deploy": ("post-deploy",)},
}


def in_build(context: CiContext, env: Environment, mode: Mode, project: str) -> StagePolicy:
    """The policy a build of ``project`` (a ``codebuild.projects`` key) runs under in ``mode``.

    A build cannot see the event payload the orchestrator decided on; it knows its project and
    the mode it was started in, and those fix which stages' steps it carries out. A project
    that never runs in ``mode`` runs nothing.
    """
    stages = BUILD_STAGES.get(project, {}).get(mode, ())
    reason = f"inside the {project} build ({mode} mode)"
    if not stages:
        return _nothing(env, context, f"the {project} build never runs in {mode} mode")
    return _all(mode, env, context, reason, {stage: ("run", reason) for stage in stages})
