"""Event payloads for ``act --eventpath``, made from GitHub's own example payloads.

``@octokit/webhooks-examples`` (installed by the ``node_tools`` fixture) holds the payloads
GitHub documents for each webhook event. A payload here is one of them with the repository,
people, refs and commits of the throwaway repository put in, so a workflow sees every key a
real event has (``github.event.pull_request.head.sha``, ``github.event.repository.*``, ...).
``schedule`` has no webhook: its payload is what Actions gives a scheduled run.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _examples(index: Path) -> dict[str, list[dict[str, Any]]]:
    events = json.loads(index.read_text(encoding="utf-8"))
    return {event["name"]: event["examples"] for event in events}


def examples_index(node_modules: Path) -> Path:
    return node_modules / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"


def _retarget(example: dict[str, Any], repository: str) -> dict[str, Any]:
    """The example with its repository (owner and name, in every URL too) replaced."""
    old_owner, old_name = example["repository"]["full_name"].split("/")
    owner, name = repository.split("/")
    text = json.dumps(example).replace(f"{old_owner}/{old_name}", repository)
    text = text.replace(f'"{old_name}"', f'"{name}"').replace(old_owner, owner)
    payload: dict[str, Any] = json.loads(text)
    payload["repository"]["default_branch"] = "main"
    payload["repository"].pop("master_branch", None)
    return payload


def _person(payload: dict[str, Any], login: str) -> dict[str, Any]:
    person: dict[str, Any] = copy.deepcopy(payload["sender"])
    person["login"] = login
    person["type"] = "User"
    return person


def pull_request(node_modules: Path, *, repository: str, number: int, author: str,
                 head_ref: str, head_sha: str, base_ref: str, base_sha: str, merge_sha: str,
                 before: str, title: str, action: str = "synchronize") -> dict[str, Any]:
    example = next(e for e in _examples(examples_index(node_modules))["pull_request"]
                   if e["action"] == action)
    payload = _retarget(example, repository)
    owner = repository.split("/")[0]
    payload.update(number=number, sender=_person(payload, author))
    if action == "synchronize":
        payload.update(before=before, after=head_sha)
    pr = payload["pull_request"]
    pr.update(number=number, title=title, state="open", user=_person(payload, author),
              merge_commit_sha=merge_sha, merged=False, draft=False,
              html_url=f"https://github.com/{repository}/pull/{number}")
    for key in ("url", "issue_url", "comments_url", "commits_url", "review_comments_url"):
        if isinstance(pr.get(key), str):
            pr[key] = pr[key].replace(f"/{example['number']}", f"/{number}")
    pr["head"].update(ref=head_ref, sha=head_sha, label=f"{owner}:{head_ref}")
    pr["base"].update(ref=base_ref, sha=base_sha, label=f"{owner}:{base_ref}")
    pr["head"]["repo"] = pr["base"]["repo"] = copy.deepcopy(payload["repository"])
    return payload


def push(node_modules: Path, *, repository: str, ref: str, before: str, after: str,
         author: str, message: str) -> dict[str, Any]:
    example = next(e for e in _examples(examples_index(node_modules))["push"]
                   if e["ref"].startswith("refs/heads/") and e["commits"])
    payload = _retarget(example, repository)
    commit = copy.deepcopy(payload["head_commit"])
    commit.update(id=after, message=message,
                  url=f"https://github.com/{repository}/commit/{after}")
    for role in ("author", "committer"):
        commit[role].update(username=author, name=author, email=f"{author}@example.com")
    payload.update(ref=ref, before=before, after=after, created=False, deleted=False,
                   forced=False, base_ref=None, commits=[commit], head_commit=commit,
                   compare=f"https://github.com/{repository}/compare/{before[:12]}...{after[:12]}",
                   pusher={"name": author, "email": f"{author}@example.com"},
                   sender=_person(payload, author))
    return payload


def schedule(cron: str, workflow: str) -> dict[str, Any]:
    """What Actions puts in ``github.event`` for a scheduled run."""
    return {"schedule": cron, "workflow": workflow}
