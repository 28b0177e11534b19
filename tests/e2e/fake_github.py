"""A fake GitHub REST API on 127.0.0.1 for workflows run under ``act``, recording every request.

A generalisation of the one in ``tests/functional/test_action_e2e.py`` (any run id, issues and
labels, pagination, both token schemes) for the endpoints the action (``lmi-delivery ci``) and
the templates' ``actions/github-script`` steps call:

- pull request comments: ``GET|POST /repos/R/issues/N/comments``,
  ``GET|PATCH|DELETE /repos/R/issues/comments/ID``;
- issues: ``GET|POST /repos/R/issues`` (``state``, ``labels`` filters),
  ``GET|PATCH /repos/R/issues/N`` (``state: closed`` closes);
- labels: ``GET|POST /repos/R/labels`` (422 ``already_exists`` for a name the repository has),
  and of an issue or a pull request (a pull request's labels are its issue's):
  ``GET|POST /repos/R/issues/N/labels``, ``DELETE /repos/R/issues/N/labels/NAME`` (404 when
  the label is not on it);
- this run's deployment approvals: ``GET /repos/R/actions/runs/ID/approvals``. ``act`` does not
  model environments with required reviewers, so by default every run has one approval for
  every environment (by :attr:`FakeGithub.approver`); :meth:`FakeGithub.approve` changes that;
- ``GET /repos/R/commits/SHA`` (the commit's author) and ``GET /user`` (403, as for the
  ``GITHUB_TOKEN`` of Actions);
- what ``bootstrap --github`` sets: ``GET /orgs/ORG/teams/SLUG`` (:attr:`FakeGithub.teams`),
  ``GET|PUT /repos/R/environments/NAME`` (a field left out of a ``PUT`` stays as it was),
  ``GET|POST /repos/R/environments/NAME/deployment-branch-policies`` (404 unless the
  environment has ``custom_branch_policies``; 303 for a name it has), and variables of the
  repository (``/repos/R/actions/variables``) and of an environment
  (``/repos/R/environments/NAME/variables``): ``PATCH .../NAME`` (404 when missing) and
  ``POST`` (409 when it exists); names are case-insensitive, kept upper case.

Comments and issues are written as ``github-actions[bot]``, as with the ``GITHUB_TOKEN``. A
request without the token gets 401; one with :attr:`FakeGithub.read_only_token` may only read
(403 on anything else, as for a token without admin rights).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from json_api import serve_json

BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorized: bool
    status: int = 0


@dataclass
class FakeGithub:
    repository: str
    token: str
    author: str = "alice"
    approver: str = "bob"
    read_only_token: str = ""
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    pr_labels: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """Labels of pull requests (numbers that are not in :attr:`issues`)."""
    approvals: dict[str, list[dict[str, Any]]] | None = None
    """Run id -> its approvals; ``None``: every run is approved for every environment."""
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``ORG/SLUG`` -> the team."""
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    branch_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    env_variables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _next_id: int = 1000
    _next_number: int = 100
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.comments.clear()
            self.issues.clear()
            self.labels.clear()
            self.pr_labels.clear()
            self.approvals = None
            for found in (self.teams, self.environments, self.branch_policies,
                          self.variables, self.env_variables):
                found.clear()

    def approve(self, run_id: str, *environments: str, by: str | None = None) -> None:
        """Give run ``run_id`` exactly one approval, for ``environments`` (none: no approval)."""
        with self._lock:
            self.approvals = dict(self.approvals or {})
            self.approvals[run_id] = [self._approval(environments, by or self.approver)] \
                if environments else []

    def writes(self, since: int = 0) -> list[tuple[str, str]]:
        """``(method, path)`` of every request that changed something (from the request
        numbered ``since`` on), in order."""
        with self._lock:
            return [(r.method, r.path) for r in self.requests[since:]
                    if r.method not in ("GET", "HEAD")]

    # -- routing ----------------------------------------------------------------------------

    def handle(self, method: str, target: str, body: Any, auth: str) -> tuple[int, Any]:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        authorized = auth in (f"Bearer {self.token}", f"token {self.token}")
        read_only = bool(self.read_only_token) and auth in (
            f"Bearer {self.read_only_token}", f"token {self.read_only_token}")
        request = Request(method, parts.path, query, body, authorized or read_only)
        with self._lock:
            self.requests.append(request)
            if read_only and method not in ("GET", "HEAD"):
                status, data = 403, {"message": "Resource not accessible by integration"}
            elif not (authorized or read_only):
                status, data = 401, {"message": "Bad credentials"}
            else:
                status, data = self._route(method, parts.path, query, body)
            request.status = status
        return status, data

    def _route(self, method: str, path: str, query: dict[str, str],
               body: Any) -> tuple[int, Any]:
        repo = re.escape(self.repository)
        routes: list[tuple[str, str, Any]] = [
            ("GET", r"/user", lambda: (403, {
                "message": "Resource not accessible by integration"})),
            ("GET", rf"/repos/{repo}/issues/(\d+)/comments",
             lambda n: (200, self._page(self.comments.get(int(n), []), query))),
            ("POST", rf"/repos/{repo}/issues/(\d+)/comments",
             lambda n: self._create_comment(int(n), body)),
            ("GET", rf"/repos/{repo}/issues/comments/(\d+)", lambda i: self._comment(int(i))),
            ("PATCH", rf"/repos/{repo}/issues/comments/(\d+)",
             lambda i: self._update_comment(int(i), body)),
            ("DELETE", rf"/repos/{repo}/issues/comments/(\d+)",
             lambda i: self._delete_comment(int(i))),
            ("GET", rf"/repos/{repo}/issues", lambda: (200, self._list_issues(query))),
            ("POST", rf"/repos/{repo}/issues", lambda: self._create_issue(body)),
            ("GET", rf"/repos/{repo}/issues/(\d+)", lambda n: self._issue(int(n))),
            ("PATCH", rf"/repos/{repo}/issues/(\d+)", lambda n: self._update_issue(int(n), body)),
            ("GET", rf"/repos/{repo}/issues/(\d+)/labels",
             lambda n: (200, self._page(self._labels_of(int(n)), query))),
            ("POST", rf"/repos/{repo}/issues/(\d+)/labels",
             lambda n: self._add_labels(int(n), body)),
            ("DELETE", rf"/repos/{repo}/issues/(\d+)/labels/([^/]+)",
             lambda n, name: self._remove_label(int(n), unquote(name))),
            ("GET", rf"/repos/{repo}/labels",
             lambda: (200, self._page(list(self.labels.values()), query))),
            ("POST", rf"/repos/{repo}/labels", lambda: self._create_label(body)),
            ("GET", rf"/repos/{repo}/actions/runs/(\d+)/approvals",
             lambda run: (200, self._approvals(run))),
            ("GET", rf"/repos/{repo}/commits/(\w+)", lambda sha: (200, {
                "sha": sha, "author": {"login": self.author, "type": "User"}})),
            ("GET", r"/orgs/([^/]+)/teams/([^/]+)",
             lambda org, slug: self._found(self.teams.get(f"{org}/{unquote(slug)}"))),
            ("GET", rf"/repos/{repo}/environments/([^/]+)",
             lambda e: self._found(self.environments.get(unquote(e)))),
            ("PUT", rf"/repos/{repo}/environments/([^/]+)",
             lambda e: self._put_environment(unquote(e), body or {})),
            ("GET", rf"/repos/{repo}/environments/([^/]+)/deployment-branch-policies",
             lambda e: self._branch_policies(unquote(e), query)),
            ("POST", rf"/repos/{repo}/environments/([^/]+)/deployment-branch-policies",
             lambda e: self._create_branch_policy(unquote(e), body)),
            ("PATCH", rf"/repos/{repo}/actions/variables/([^/]+)",
             lambda name: self._update_variable(self.variables, unquote(name), body)),
            ("POST", rf"/repos/{repo}/actions/variables",
             lambda: self._create_variable(self.variables, body)),
            ("PATCH", rf"/repos/{repo}/environments/([^/]+)/variables/([^/]+)",
             lambda e, name: self._env_variables(unquote(e), lambda found: (
                 self._update_variable(found, unquote(name), body)))),
            ("POST", rf"/repos/{repo}/environments/([^/]+)/variables",
             lambda e: self._env_variables(unquote(e), lambda found: (
                 self._create_variable(found, body)))),
        ]
        for verb, pattern, answer in routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                try:
                    result: tuple[int, Any] = answer(*match.groups())
                except (AttributeError, KeyError, TypeError) as error:
                    return 422, {"message": f"Validation Failed: {error}"}
                return result
        return 404, {"message": "Not Found", "documentation_url": "fake"}

    # -- resources --------------------------------------------------------------------------

    @staticmethod
    def _page(items: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = max(int(query.get("page", 1)), 1)
        return items[(page - 1) * per_page:page * per_page]

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _html(self, kind: str, number: int) -> str:
        return f"https://github.com/{self.repository}/{kind}/{number}"

    def _create_comment(self, number: int, body: Any) -> tuple[int, Any]:
        if not isinstance(body.get("body"), str):
            return 422, {"message": "Validation Failed: body"}
        cid = self._id()
        comment = {"id": cid, "body": body["body"], "user": dict(BOT),
                   "html_url": f"{self._html('pull', number)}#issuecomment-{cid}",
                   "issue_number": number}
        self.comments.setdefault(number, []).append(comment)
        if number in self.issues:
            self.issues[number]["comments"] += 1
        return 201, comment

    def _find_comment(self, cid: int) -> dict[str, Any] | None:
        return next((c for cs in self.comments.values() for c in cs if c["id"] == cid), None)

    def _comment(self, cid: int) -> tuple[int, Any]:
        comment = self._find_comment(cid)
        return (200, comment) if comment else (404, {"message": "Not Found"})

    def _update_comment(self, cid: int, body: Any) -> tuple[int, Any]:
        comment = self._find_comment(cid)
        if comment is None:
            return 404, {"message": "Not Found"}
        comment["body"] = body["body"]
        return 200, comment

    def _delete_comment(self, cid: int) -> tuple[int, Any]:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == cid:
                    comments.remove(comment)
                    return 204, None
        return 404, {"message": "Not Found"}

    def _create_label(self, body: Any) -> tuple[int, Any]:
        name = body["name"]
        if not isinstance(name, str) or not name:
            return 422, {"message": "Validation Failed: name"}
        if name in self.labels:
            return 422, {"message": "Validation Failed",
                         "errors": [{"resource": "Label", "code": "already_exists",
                                     "field": "name"}]}
        label = self._label(name)
        label.update(color=str(body.get("color", "ededed")),
                     description=body.get("description"))
        return 201, label

    def _labels_of(self, number: int) -> list[dict[str, Any]]:
        if number in self.issues:
            labels: list[dict[str, Any]] = self.issues[number]["labels"]
            return labels
        return self.pr_labels.setdefault(number, [])

    def _remove_label(self, number: int, name: str) -> tuple[int, Any]:
        labels = self._labels_of(number)
        for label in labels:
            if label["name"] == name:
                labels.remove(label)
                return 200, list(labels)
        return 404, {"message": "Label does not exist"}

    def _label(self, name: str) -> dict[str, Any]:
        if name not in self.labels:
            self.labels[name] = {"id": self._id(), "name": name, "color": "ededed"}
        return self.labels[name]

    def _create_issue(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body.get("title"), str) or not body["title"]:
            return 422, {"message": "Validation Failed: title"}
        self._next_number += 1
        number = self._next_number
        issue = {"id": self._id(), "number": number, "title": body["title"],
                 "body": body.get("body"), "state": "open", "state_reason": None,
                 "labels": [self._label(str(n)) for n in body.get("labels") or []],
                 "user": dict(BOT), "comments": 0, "html_url": self._html("issues", number)}
        self.issues[number] = issue
        return 201, issue

    def _issue(self, number: int) -> tuple[int, Any]:
        issue = self.issues.get(number)
        return (200, issue) if issue else (404, {"message": "Not Found"})

    def _update_issue(self, number: int, body: Any) -> tuple[int, Any]:
        issue = self.issues.get(number)
        if issue is None:
            return 404, {"message": "Not Found"}
        for key in ("title", "body", "state", "state_reason"):
            if key in body:
                issue[key] = body[key]
        if "labels" in body:
            issue["labels"] = [self._label(str(n)) for n in body["labels"]]
        return 200, issue

    def _add_labels(self, number: int, body: Any) -> tuple[int, Any]:
        # Any number is a pull request or an issue here; GitHub creates a missing label.
        labels = self._labels_of(number)
        names = body.get("labels") if isinstance(body, dict) else body
        for name in names or []:
            if all(label["name"] != name for label in labels):
                labels.append(self._label(str(name)))
        return 200, labels

    def _list_issues(self, query: dict[str, str]) -> list[dict[str, Any]]:
        state = query.get("state", "open")
        wanted = {n for n in query.get("labels", "").split(",") if n}
        found = [i for i in self.issues.values()
                 if state in ("all", i["state"])
                 and wanted <= {label["name"] for label in i["labels"]}]
        return self._page(sorted(found, key=lambda i: -int(i["number"])), query)

    def _approval(self, environments: tuple[str, ...], by: str) -> dict[str, Any]:
        return {"state": "approved", "comment": "approved in the e2e harness",
                "user": {"login": by, "type": "User"},
                "environments": [{"id": 100 + i, "name": name}
                                 for i, name in enumerate(environments)]}

    def _approvals(self, run_id: str) -> list[dict[str, Any]]:
        if self.approvals is not None:
            return self.approvals.get(run_id, [])
        # act runs every job of an environment without a review: answer as GitHub would once
        # the required reviewers approved this run's deployments, to any environment.
        return [self._approval(("dev", "qa", "staging", "prod"), self.approver)]

    @staticmethod
    def _found(item: dict[str, Any] | None) -> tuple[int, Any]:
        return (200, item) if item is not None else (404, {"message": "Not Found"})

    def _put_environment(self, name: str, body: Any) -> tuple[int, Any]:
        env = self.environments.get(name) or {
            "id": self._id(), "name": name, "reviewers": [], "prevent_self_review": False,
            "deployment_branch_policy": None}
        if "reviewers" in body:
            reviewers = []
            for given in body["reviewers"] or []:
                team = next((t for t in self.teams.values() if t["id"] == given["id"]), None)
                if given["type"] != "Team" or team is None:
                    return 422, {"message": f"Validation Failed: reviewer {given}"}
                reviewers.append({"type": "Team", "reviewer": dict(team)})
            env["reviewers"] = reviewers
        if "prevent_self_review" in body:
            env["prevent_self_review"] = bool(body["prevent_self_review"])
        if "deployment_branch_policy" in body:
            policy = body["deployment_branch_policy"]
            if policy is not None and policy["protected_branches"] == \
                    policy["custom_branch_policies"]:
                return 422, {"message": "Validation Failed: exactly one of protected_branches "
                                        "and custom_branch_policies must be true"}
            env["deployment_branch_policy"] = policy and {
                "protected_branches": bool(policy["protected_branches"]),
                "custom_branch_policies": bool(policy["custom_branch_policies"])}
        self.environments[name] = env
        return 200, self._environment(env)

    @staticmethod
    def _environment(env: dict[str, Any]) -> dict[str, Any]:
        """The environment as GitHub shows it: its reviewers in ``protection_rules``."""
        rules: list[dict[str, Any]] = []
        if env["reviewers"]:
            rules.append({"type": "required_reviewers", "reviewers": env["reviewers"],
                          "prevent_self_review": env["prevent_self_review"]})
        if env["deployment_branch_policy"]:
            rules.append({"type": "branch_policy"})
        return {"id": env["id"], "name": env["name"], "protection_rules": rules,
                "deployment_branch_policy": env["deployment_branch_policy"]}

    def _custom_branches(self, environment: str) -> list[dict[str, Any]] | None:
        env = self.environments.get(environment)
        if env is None or not (env["deployment_branch_policy"] or {}).get(
                "custom_branch_policies"):
            return None
        return self.branch_policies.setdefault(environment, [])

    def _branch_policies(self, environment: str, query: dict[str, str]) -> tuple[int, Any]:
        policies = self._custom_branches(environment)
        if policies is None:
            return 404, {"message": "Not Found"}
        return 200, {"total_count": len(policies), "branch_policies": self._page(policies, query)}

    def _create_branch_policy(self, environment: str, body: Any) -> tuple[int, Any]:
        policies = self._custom_branches(environment)
        if policies is None:
            return 404, {"message": "Not Found"}
        kind = body.get("type", "branch")
        if not isinstance(body.get("name"), str) or kind not in ("branch", "tag"):
            return 422, {"message": "Validation Failed: name, type"}
        if any(p["name"] == body["name"] and p["type"] == kind for p in policies):
            return 303, {"message": "the same branch name pattern already exists"}
        policy = {"id": self._id(), "name": body["name"], "type": kind}
        policies.append(policy)
        return 200, policy

    def _env_variables(self, environment: str,
                       answer: Any) -> tuple[int, Any]:
        if environment not in self.environments:
            return 404, {"message": "Not Found"}
        result: tuple[int, Any] = answer(self.env_variables.setdefault(environment, {}))
        return result

    @staticmethod
    def _update_variable(found: dict[str, dict[str, Any]], name: str,
                         body: Any) -> tuple[int, Any]:
        variable = found.get(name.upper())
        if variable is None:
            return 404, {"message": "Not Found"}
        if not isinstance(body.get("value"), str):
            return 422, {"message": "Validation Failed: value"}
        variable["value"] = body["value"]
        return 204, None

    @staticmethod
    def _create_variable(found: dict[str, dict[str, Any]], body: Any) -> tuple[int, Any]:
        name, value = body.get("name"), body.get("value")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) \
                or not isinstance(value, str):
            return 422, {"message": "Validation Failed: name, value"}
        if name.upper() in found:
            return 409, {"message": "Already exists"}
        found[name.upper()] = {"name": name.upper(), "value": value}
        return 201, {}

    # -- assertions -------------------------------------------------------------------------

    def pr_comments(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.comments.get(number, [])]

    def label_names(self, number: int) -> list[str]:
        """The names of the labels on pull request or issue ``number``."""
        with self._lock:
            return [str(label["name"]) for label in self._labels_of(number)]


@contextmanager
def serve(repository: str, token: str) -> Iterator[FakeGithub]:
    """A :class:`FakeGithub` answering on a free port of 127.0.0.1 (its ``url``)."""
    fake = FakeGithub(repository, token)
    with serve_json(fake.handle) as url:
        fake.url = url
        yield fake
