"""A tiny GitHub REST client on ``urllib.request``: only the endpoints ``ci`` and
``bootstrap --github`` need.

The base URL comes from ``GITHUB_API_URL`` (GitHub Enterprise Server has its own), the token
from the action's ``github-token`` input. The token travels in the Authorization header only and
is never part of an error message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lmi_delivery.errors import OperationFailed

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PAGE_SIZE = 100
MAX_PAGES = 50

Opener = Callable[..., Any]


class GithubApiError(OperationFailed):
    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"GitHub API {method} {path}: HTTP {status}: {message}",
                         context={"status": status})
        self.status = status


@dataclass
class GithubRest:
    token: str
    base_url: str = DEFAULT_API_URL
    timeout: float = 30.0
    opener: Opener = field(default=urllib.request.urlopen, repr=False)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                query: dict[str, str | int] | None = None) -> Any:
        url = self.base_url.rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
                   "User-Agent": "lmi-delivery"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self.opener(req, timeout=self.timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            raise GithubApiError(method, path, exc.code, _message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise GithubApiError(method, path, 0, str(getattr(exc, "reason", exc))) from None
        return json.loads(text) if text.strip() else None

    def _pages(self, path: str, query: dict[str, str | int] | None = None) -> list[Any]:
        items: list[Any] = []
        for page in range(1, MAX_PAGES + 1):
            chunk = self.request("GET", path,
                                 query={**(query or {}), "per_page": PAGE_SIZE, "page": page})
            if not isinstance(chunk, list):
                raise GithubApiError("GET", path, 200, "expected a JSON list")
            items += chunk
            if len(chunk) < PAGE_SIZE:
                break
        return items

    # -- the token's own user -------------------------------------------------------------------

    def authenticated_user(self) -> dict[str, Any] | None:
        """``GET /user``: the user the token acts as; ``None`` when the token may not read it
        (403: the ``GITHUB_TOKEN`` of Actions and other installation tokens)."""
        try:
            result = self.request("GET", "/user")
        except GithubApiError as exc:
            if exc.status == 403:
                return None
            raise
        return result if isinstance(result, dict) else None

    # -- issue comments (pull requests are issues for comments) ---------------------------------

    def list_issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        return self._pages(f"/repos/{repo}/issues/{number}/comments")

    def create_issue_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})
        return result

    def update_issue_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "PATCH", f"/repos/{repo}/issues/comments/{comment_id}", {"body": body})
        return result

    def delete_issue_comment(self, repo: str, comment_id: int) -> None:
        self.request("DELETE", f"/repos/{repo}/issues/comments/{comment_id}")

    # -- labels (a pull request's labels are its issue's) ---------------------------------------

    def list_labels(self, repo: str) -> list[dict[str, Any]]:
        return self._pages(f"/repos/{repo}/labels")

    def create_label(self, repo: str, name: str, color: str, description: str) -> None:
        self.request("POST", f"/repos/{repo}/labels",
                     {"name": name, "color": color, "description": description})

    def list_issue_labels(self, repo: str, number: int) -> list[dict[str, Any]]:
        return self._pages(f"/repos/{repo}/issues/{number}/labels")

    def add_issue_labels(self, repo: str, number: int, names: list[str]) -> None:
        self.request("POST", f"/repos/{repo}/issues/{number}/labels", {"labels": names})

    def remove_issue_label(self, repo: str, number: int, name: str) -> None:
        quoted = urllib.parse.quote(name, safe="")
        self.request("DELETE", f"/repos/{repo}/issues/{number}/labels/{quoted}")

    # -- issues ---------------------------------------------------------------------------------

    def list_issues(self, repo: str, *, state: str = "open", labels: str = "") -> list[Any]:
        """Issues (and pull requests, which carry ``pull_request``) with every label of
        ``labels`` (comma-separated), every page."""
        query: dict[str, str | int] = {"state": state}
        if labels:
            query["labels"] = labels
        return self._pages(f"/repos/{repo}/issues", query)

    def create_issue(self, repo: str, title: str, body: str,
                     labels: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", f"/repos/{repo}/issues", {"title": title, "body": body, "labels": labels})
        return result

    def update_issue(self, repo: str, number: int, **fields: str) -> dict[str, Any]:
        """``PATCH`` an issue: ``body``, ``state`` (``closed``), ``state_reason``, ..."""
        result: dict[str, Any] = self.request("PATCH", f"/repos/{repo}/issues/{number}",
                                              dict(fields))
        return result

    # -- approvals and commits ------------------------------------------------------------------

    def run_approvals(self, repo: str, run_id: str) -> list[dict[str, Any]]:
        result = self.request("GET", f"/repos/{repo}/actions/runs/{run_id}/approvals")
        if not isinstance(result, list):
            raise GithubApiError("GET", f"/repos/{repo}/actions/runs/{run_id}/approvals", 200,
                                 "expected a JSON list")
        return result

    def commit(self, repo: str, sha: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/repos/{repo}/commits/{sha}")
        return result

    def commit_author(self, repo: str, sha: str) -> str | None:
        """The login of the commit's author, or ``None`` when no GitHub user is linked."""
        author = self.commit(repo, sha).get("author")
        login = author.get("login") if isinstance(author, dict) else None
        return login if isinstance(login, str) and login else None


    # -- environments, deployment-branch policies, variables (``bootstrap --github``) ------------

    def team(self, org: str, slug: str) -> dict[str, Any]:
        """``GET /orgs/ORG/teams/SLUG``: the team (its ``id`` names it as a reviewer)."""
        result: dict[str, Any] = self.request("GET", f"/orgs/{org}/teams/{_q(slug)}")
        return result

    def environment(self, repo: str, name: str) -> dict[str, Any] | None:
        """The environment, or ``None`` when the repository has none of that name (404)."""
        try:
            result = self.request("GET", f"/repos/{repo}/environments/{_q(name)}")
        except GithubApiError as exc:
            if exc.status == 404:
                return None
            raise
        return result if isinstance(result, dict) else None

    def put_environment(self, repo: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or update the environment (reviewers, deployment_branch_policy, ...)."""
        result: dict[str, Any] = self.request(
            "PUT", f"/repos/{repo}/environments/{_q(name)}", body)
        return result

    def deployment_branch_policies(self, repo: str, environment: str) -> list[dict[str, Any]]:
        path = f"/repos/{repo}/environments/{_q(environment)}/deployment-branch-policies"
        policies: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            chunk = self.request("GET", path, query={"per_page": PAGE_SIZE, "page": page})
            found = chunk.get("branch_policies") if isinstance(chunk, dict) else None
            if not isinstance(found, list):
                raise GithubApiError("GET", path, 200, "expected branch_policies")
            policies += found
            if len(found) < PAGE_SIZE:
                break
        return policies

    def create_deployment_branch_policy(self, repo: str, environment: str, name: str,
                                        kind: str = "branch") -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", f"/repos/{repo}/environments/{_q(environment)}/deployment-branch-policies",
            {"name": name, "type": kind})
        return result

    def update_variable(self, repo: str, name: str, value: str, *,
                        environment: str | None = None) -> bool:
        """``PATCH`` a variable of the repository (of its ``environment`` if given);
        ``False`` when there is no such variable (404)."""
        path = f"{_variables(repo, environment)}/{_q(name)}"
        try:
            self.request("PATCH", path, {"name": name, "value": value})
        except GithubApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def create_variable(self, repo: str, name: str, value: str, *,
                        environment: str | None = None) -> None:
        self.request("POST", _variables(repo, environment), {"name": name, "value": value})

def _message(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read().decode("utf-8"))
    except (ValueError, OSError):
        return exc.reason if isinstance(exc.reason, str) else "error"
    message = data.get("message") if isinstance(data, dict) else None
    return str(message or exc.reason)


def _q(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _variables(repo: str, environment: str | None) -> str:
    if environment is None:
        return f"/repos/{repo}/actions/variables"
    return f"/repos/{repo}/environments/{_q(environment)}/variables"
