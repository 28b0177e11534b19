from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from lmi_delivery.github.rest import GithubApiError, GithubRest


class Response(io.BytesIO):
    def __enter__(self) -> Response:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


class FakeOpener:
    def __init__(self, *responses: Any) -> None:
        self.responses = list(responses)
        self.requests: list[urllib.request.Request] = []

    def __call__(self, request: urllib.request.Request, timeout: float) -> Response:
        self.requests.append(request)
        value = self.responses.pop(0)
        if isinstance(value, Exception):
            raise value
        return Response(json.dumps(value).encode())


def test_requests_carry_the_token_and_api_version() -> None:
    opener = FakeOpener({"id": 5, "html_url": "u"})
    rest = GithubRest("tok", "http://127.0.0.1:1/api/v3/", opener=opener)
    assert rest.create_issue_comment("o/r", 7, "hello")["id"] == 5
    [req] = opener.requests
    assert req.full_url == "http://127.0.0.1:1/api/v3/repos/o/r/issues/7/comments"
    assert req.get_method() == "POST"
    assert req.get_header("Authorization") == "Bearer tok"
    assert req.get_header("X-github-api-version") == "2022-11-28"
    assert json.loads(req.data or b"") == {"body": "hello"}


def test_comments_are_paginated() -> None:
    opener = FakeOpener([{"id": i} for i in range(100)], [{"id": 100}])
    comments = GithubRest("t", "http://h", opener=opener).list_issue_comments("o/r", 1)
    assert len(comments) == 101
    assert [r.full_url.rsplit("&page=", 1)[1] for r in opener.requests] == ["1", "2"]


def test_approvals_and_commit_author() -> None:
    opener = FakeOpener([{"state": "approved"}], {"author": {"login": "alice"}}, {"author": None})
    rest = GithubRest("t", "http://h", opener=opener)
    assert rest.run_approvals("o/r", "42") == [{"state": "approved"}]
    assert opener.requests[0].full_url == "http://h/repos/o/r/actions/runs/42/approvals"
    assert rest.commit_author("o/r", "abc") == "alice"
    assert rest.commit_author("o/r", "abc") is None


def test_http_errors_name_the_call_but_not_the_token() -> None:
    error = urllib.error.HTTPError("http://h/x", 403, "Forbidden", {},  # type: ignore[arg-type]  # headers may be any mapping here
                                   io.BytesIO(b'{"message": "Resource not accessible"}'))
    rest = GithubRest("secret-token", "http://h", opener=FakeOpener(error))
    with pytest.raises(GithubApiError, match="HTTP 403: Resource not accessible") as info:
        rest.run_approvals("o/r", "1")
    assert "secret-token" not in str(info.value)
    assert info.value.exit_code == 1


def _http_error(status: int, message: str) -> urllib.error.HTTPError:
    body = io.BytesIO(json.dumps({"message": message}).encode())
    return urllib.error.HTTPError("http://h/user", status, message, {},  # type: ignore[arg-type]  # headers may be any mapping here
                                  body)


def test_the_token_user_or_none_when_the_token_may_not_read_it() -> None:
    opener = FakeOpener({"login": "deployer", "type": "User"},
                        _http_error(403, "Resource not accessible by integration"),
                        _http_error(401, "Bad credentials"))
    rest = GithubRest("t", "http://h", opener=opener)
    assert rest.authenticated_user() == {"login": "deployer", "type": "User"}
    assert opener.requests[0].full_url == "http://h/user"
    assert rest.authenticated_user() is None
    with pytest.raises(GithubApiError, match="HTTP 401"):
        rest.authenticated_user()
