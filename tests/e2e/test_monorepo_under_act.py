"""Several Terraform roots under the workflow engine: ``examples/platform-monorepo`` with the
workflow templates of ``workflows/``, unchanged, run by ``act`` against the sandbox.

Two pull requests into dev (one touching a service root, one the provider root every service
depends on), the push that merges the second, and a later push whose provider apply fails. What
ran is read from the sandbox's CodeBuild records (each build names its root in
``LMI_DELIVERY_ROOT``; start and end times give the order), the variables the builds exported
and the pull request comments the fake GitHub API holds. One world (repository, sandbox, fake
API) serves the module; each run's builds are told apart by the ids the sandbox had before it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import webhook_payloads
from act_harness import (
    AUTHOR,
    REPOSITORY,
    ActRun,
    PullRequestRefs,
    Runner,
    ThrowawayRepo,
    World,
    exported,
    world_of,
)
from test_workflows_under_act import Checks, require_success

from lmi_delivery.config import naming
from lmi_delivery.config.model import PROJECT_KEYS
from lmi_delivery.config.roots import ROOT_VARIABLE
from lmi_delivery.github.comments import marker

# A group of its own: its runs go on another worker than the quickstart's (each worker builds
# the runner once, about half a minute, less than the runs it overlaps).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("act-monorepo")]

ROOTS = ["provider", "orders", "search"]
"""The example's roots in apply order: the provider, then the two services that depend on it."""
SERVICE_RELEASE = "services/search/env/dev.tfvars"
PROVIDER_VARS = "platform/provider/env/dev.tfvars"
#: A provisioner runs at apply time only: the provider's plan succeeds, its apply fails.
FAILS_AT_APPLY = ('resource "terraform_data" "fails_at_apply" {\n'
                  '  provisioner "local-exec" {\n    command = "exit 7"\n  }\n}\n')
NOT_STARTED = "not started: root provider did not apply successfully"


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory: pytest.TempPathFactory, act_runner: Runner,
             node_tools: Path) -> Iterator[World]:
    base = tmp_path_factory.mktemp("act-monorepo")
    repo = ThrowawayRepo.monorepo(base / "platform")
    yield from world_of(repo, act_runner, base, node_tools)


def root_of(build: dict[str, Any]) -> str:
    return next((v["value"] for v in build["environment"]["environmentVariables"]
                 if v["name"] == ROOT_VARIABLE), "")


def variables(build: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v.get("value", "") for v in build["environment"]["environmentVariables"]}


@dataclass
class Ran:
    """One act run and the dev builds it started, by stage (``plan``, ``apply``,
    ``post_deploy``, ``review``), oldest first."""

    run: ActRun
    commit: str
    """The commit the event is about (a pull request's head, a push's ``after``)."""
    builds: dict[str, list[dict[str, Any]]]

    def roots(self, stage: str) -> list[str]:
        return [root_of(b) for b in self.builds[stage]]

    def by_root(self, stage: str) -> dict[str, dict[str, Any]]:
        return {root_of(b): b for b in self.builds[stage]}


def run_and_collect(world: World, event: str, workflow: str, payload: dict[str, Any],
                    head: str, commit: str) -> Ran:
    env = world.config.environment("dev")
    projects = {key: naming.project_name(world.config, env, key) for key in PROJECT_KEYS}
    before = {b["id"] for project in projects.values() for b in world.sandbox.builds(project)}
    run = world.act.run(event, workflow, payload, world.sandbox.endpoint_url, head=head)
    builds = {key: sorted((b for b in world.sandbox.builds(project) if b["id"] not in before),
                          key=lambda b: b["startTime"])
              for key, project in projects.items()}
    return Ran(run, commit, builds)


# -- pull requests ---------------------------------------------------------------------------

@dataclass
class Review:
    pr: PullRequestRefs
    ran: Ran
    comment: str
    """The body of dev's pull request comment after the run."""


def review(world: World, pr: PullRequestRefs, title: str) -> Review:
    payload = webhook_payloads.pull_request(
        world.node_modules, repository=REPOSITORY, number=pr.number, author=AUTHOR,
        head_ref=pr.branch, head_sha=pr.head, base_ref=pr.base, base_sha=pr.base_sha,
        merge_sha=pr.merge, before=pr.base_sha, title=title)
    ran = run_and_collect(world, "pull_request", "pull-request.yml", payload, pr.merge,
                          pr.head)
    bodies = [c["body"] for c in world.github.pr_comments(pr.number)
              if c["body"].startswith(marker("dev"))]
    return Review(pr, ran, bodies[0] if len(bodies) == 1 else f"{len(bodies)} dev comments")


@pytest.fixture(scope="module")
def reviews(monorepo: World) -> dict[str, Review]:
    """``service``: a pull request into dev changing the search service's release;
    ``provider``: one changing the provider root's variables."""
    repo = monorepo.reset().repo
    search = repo.open_pull_request(11, "search/release-2026.12.1", "dev",
                                    "search: release 2026.12.1", {
                                        SERVICE_RELEASE: repo.text(SERVICE_RELEASE).replace(
                                            "2026.11.1", "2026.12.1")})
    provider = repo.open_pull_request(12, "provider/more-vcpus", "dev", "provider: more vCPUs",
                                      {PROVIDER_VARS: repo.text(PROVIDER_VARS).replace(
                                          "= 24", "= 48")})
    found = {"service": review(monorepo, search, "search: release 2026.12.1"),
             "provider": review(monorepo, provider, "provider: more vCPUs")}
    for done in found.values():
        require_success(done.ran.run)
    return found


def test_a_pull_request_touching_one_service_root_plans_only_that_root(
        reviews: dict[str, Review]) -> None:
    done = reviews["service"]
    check = Checks(done.ran.run)
    builds = done.ran.builds
    check(len(builds["review"]) == 1 and done.ran.roots("review") == ["search"],
          f"review builds for roots {done.ran.roots('review')}; want one, for search")
    check(not builds["plan"] and not builds["apply"] and not builds["post_deploy"],
          f"a pull request started deploy builds: { {k: len(v) for k, v in builds.items()} }")
    for build in builds["review"]:
        check(build["resolvedSourceVersion"] == done.pr.head,
              f"{build['id']} built {build.get('resolvedSourceVersion')}, not the pull "
              f"request's head {done.pr.head}")
    # dev's one comment: the root that ran with its plan, the skipped ones with the reason.
    comment = done.comment
    check("1 of 3 run: `search`." in comment, f"the dev comment's roots line:\n{comment}")
    for skipped in ("provider", "orders"):
        check(f"- `{skipped}`: no change to its files" in comment,
              f"the dev comment does not list {skipped} as skipped with its reason:\n{comment}")
    check("#### Root `search`" in comment and "Plan:" in comment,
          f"the dev comment has no plan section for search:\n{comment}")
    check("#### Root `provider`" not in comment and "#### Root `orders`" not in comment,
          f"the dev comment has a section for a root that did not run:\n{comment}")
    check.done()


def test_a_pull_request_touching_the_provider_root_plans_the_provider_and_both_services(
        reviews: dict[str, Review]) -> None:
    done = reviews["provider"]
    check = Checks(done.ran.run)
    check(sorted(done.ran.roots("review")) == sorted(ROOTS),
          f"review builds for roots {done.ran.roots('review')}; want one for each of {ROOTS}")
    check(not done.ran.builds["apply"], "a pull request started apply builds")
    check(all(b["resolvedSourceVersion"] == done.pr.head for b in done.ran.builds["review"]),
          "a review build built another commit than the pull request's head")
    comment = done.comment
    check("3 of 3 run: `provider`, `orders`, `search`." in comment,
          f"the dev comment's roots line:\n{comment}")
    check("Skipped:" not in comment, f"the dev comment lists skipped roots:\n{comment}")
    for root in ROOTS:
        check(f"#### Root `{root}`" in comment, f"the dev comment has no section for {root}")
    check.done()


# -- the push after the merge, and a failing provider apply ----------------------------------

@pytest.fixture(scope="module")
def pushes(monorepo: World, reviews: dict[str, Review]) -> dict[str, Ran]:
    """``merged``: the push of the provider pull request's merge into dev; ``failing``: the
    next push, whose provider root gains a resource that fails at apply."""
    world, repo = monorepo, monorepo.repo

    def push(before: str, after: str, message: str) -> Ran:
        payload = webhook_payloads.push(world.node_modules, repository=REPOSITORY,
                                        ref="refs/heads/dev", before=before, after=after,
                                        author=AUTHOR, message=message)
        return run_and_collect(world, "push", "deploy.yml", payload, "dev", after)

    pr = reviews["provider"].pr
    before = repo.git("rev-parse", "dev")
    merged = repo.merge(pr)
    found = {"merged": push(before, merged, f"Merge pull request #{pr.number} from {pr.branch}")}
    message = "provider: a step that fails at apply"
    failing = repo.commit_on("dev", message, {"platform/provider/fails.tf": FAILS_AT_APPLY})
    found["failing"] = push(merged, failing, message)
    return found


def sha_pairs(run: ActRun, job: str, name: str) -> dict[str, str]:
    """A job's per-root output (``root=value`` pairs), as the job's own step set it."""
    values = [v for v in run.job_outputs(job, name) if v]
    return dict(pair.split("=", 1) for pair in values[-1].split()) if values else {}


def test_the_push_after_the_merge_applies_in_dependency_order_each_bound_to_its_plan(
        pushes: dict[str, Ran]) -> None:
    done = pushes["merged"]
    run, builds = done.run, done.builds
    check = Checks(run)
    check(run.returncode == 0, f"act exited {run.returncode}; jobs: {run.job_results}")
    check(sorted(done.roots("plan")) == sorted(ROOTS), f"plan builds for {done.roots('plan')}")
    check(sorted(done.roots("apply")) == sorted(ROOTS),
          f"apply builds for {done.roots('apply')}")
    check(sorted(done.roots("post_deploy")) == ["orders", "search"],
          f"post-deploy builds for {done.roots('post_deploy')} (the services' functions)")
    check(not builds["review"], f"{len(builds['review'])} review builds on a push")
    for build in (b for found in builds.values() for b in found):
        check(build["buildStatus"] == "SUCCEEDED", f"{build['id']}: {build['buildStatus']}")
        check(build.get("resolvedSourceVersion") == done.commit,
              f"{build['id']} built {build.get('resolvedSourceVersion')}, not the pushed "
              f"commit {done.commit}")
    plans, applies = done.by_root("plan"), done.by_root("apply")
    if check(sorted(applies) == sorted(ROOTS), "not every root applied"):
        # The sandbox's clocks: the provider's apply ended before either service's began.
        for service in ("orders", "search"):
            check(applies[service]["startTime"] >= applies["provider"]["endTime"],
                  f"{service}'s apply started {applies[service]['startTime']}, before the "
                  f"provider's ended {applies['provider']['endTime']}")
        for apply in applies.values():
            check(apply["startTime"] >= max(p["endTime"] for p in plans.values()),
                  f"{apply['id']} started before every plan build ended")
    # Each apply is bound to its own root's plan: the plan job's outputs name each root's plan
    # build and sha256, the apply build was given exactly those and applied that sha256.
    plan_ids = sha_pairs(run, "plan", "plan-build-id")
    plan_shas = sha_pairs(run, "plan", "plan-sha256")
    check(sorted(plan_ids) == sorted(plan_shas) == sorted(ROOTS),
          f"the plan job's outputs: plan-build-id {plan_ids}, plan-sha256 {plan_shas}")
    for root, apply in applies.items():
        given, made = variables(apply), exported(plans.get(root, {}))
        check(given.get("LMI_PLAN_BUILD_ID") == plans.get(root, {}).get("id") ==
              plan_ids.get(root), f"{root}: apply given plan build "
              f"{given.get('LMI_PLAN_BUILD_ID')}, its plan build is "
              f"{plans.get(root, {}).get('id')}, the plan job said {plan_ids.get(root)}")
        check(given.get("LMI_PLAN_SHA256") == made.get("LMI_PLAN_SHA256") ==
              plan_shas.get(root) == exported(apply).get("LMI_APPLIED_PLAN_SHA256"),
              f"{root}: apply given sha256 {given.get('LMI_PLAN_SHA256')}, applied "
              f"{exported(apply).get('LMI_APPLIED_PLAN_SHA256')}, its plan build exported "
              f"{made.get('LMI_PLAN_SHA256')}, the plan job said {plan_shas.get(root)}")
    check(len(set(plan_shas.values())) == len(ROOTS), f"the roots' plans share a sha256: "
          f"{plan_shas}")
    check.done()


def test_a_failing_provider_apply_starts_no_service_apply(pushes: dict[str, Ran]) -> None:
    done = pushes["failing"]
    run = done.run
    check = Checks(run)
    check(run.returncode != 0, "act succeeded although the provider's apply failed")
    check(sorted(done.roots("plan")) == sorted(ROOTS),
          f"plan builds for {done.roots('plan')} (a provider change plans its dependents)")
    check(done.roots("apply") == ["provider"], f"apply builds for {done.roots('apply')}; "
          "want the provider's only")
    check(all(b["buildStatus"] == "FAILED" for b in done.builds["apply"]),
          f"the provider's apply: {[b['buildStatus'] for b in done.builds['apply']]}")
    check(not done.builds["post_deploy"],
          f"post-deploy builds for {done.roots('post_deploy')} after a failed apply")
    apply_jobs = {name: result for name, result in run.job_results.items() if "Apply" in name}
    check(list(apply_jobs.values()) == ["failure"], f"the apply job: {apply_jobs}")
    stages = [json.loads(o.value) for o in run.outputs("stages") if o.job_id == "apply"]
    applied = {root: s.get("apply") for root, s in stages[-1].items()} if stages else {}
    check(applied == {"provider": "failed", "orders": "not-run", "search": "not-run"},
          f"the apply job's stages: {applied}")
    log = "\n".join(str(r.get("msg", "")) for r in run.records if r.get("jobID") == "apply")
    check(len(re.findall(r"\| apply \| not-run \| [0-9.]+ \| " + re.escape(NOT_STARTED), log))
          >= 2, f"the apply job's summary does not say the services were not started "
          f"({NOT_STARTED!r})")
    check.done()
