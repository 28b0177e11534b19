"""The pull request labels and the stale-comment cleanup, through the real REST client
(:class:`~lmi_delivery.github.rest.GithubRest`) against the fake GitHub API the workflows run
against (its labels and comment endpoints answer as GitHub's do)."""

from __future__ import annotations

from collections.abc import Iterator

import fake_github
import pytest

from lmi_delivery.github import comments, labels
from lmi_delivery.github.rest import GithubRest

REPO, TOKEN, PR = "acme/platform", "t0ken", 7


@pytest.fixture
def github() -> Iterator[tuple[fake_github.FakeGithub, GithubRest]]:
    with fake_github.serve(REPO, TOKEN) as fake:
        yield fake, GithubRest(TOKEN, fake.url)


def test_labels_are_created_when_missing_and_stale_ones_of_the_env_removed(
        github: tuple[fake_github.FakeGithub, GithubRest]) -> None:
    fake, rest = github
    rest.add_issue_labels(REPO, PR, ["lmi:prod:changes", "needs-review"])
    first = labels.sync(rest, REPO, PR, "dev", labels.wanted("dev", True, destroys=2))
    assert sorted(first.created) == ["lmi:dev:changes", "lmi:dev:destroy"]
    assert set(fake.label_names(PR)) == {"lmi:prod:changes", "needs-review", "lmi:dev:changes",
                                         "lmi:dev:destroy"}
    assert fake.labels["lmi:dev:destroy"]["description"].startswith("lmi-delivery: the plan")

    second = labels.sync(rest, REPO, PR, "dev", labels.wanted("dev", False, destroys=0))
    assert second.created == ("lmi:dev:no-changes",)
    assert second.removed == ("lmi:dev:changes", "lmi:dev:destroy")
    assert set(fake.label_names(PR)) == {"lmi:prod:changes", "needs-review",
                                         "lmi:dev:no-changes"}
    again = labels.sync(rest, REPO, PR, "dev", labels.wanted("dev", False, destroys=0))
    assert again == labels.Synced((), (), ())
    assert [w for w in fake.writes() if w[0] == "POST" and w[1].endswith("/labels")
            and "/issues/" not in w[1]] == [("POST", f"/repos/{REPO}/labels")] * 3


def test_a_label_created_meanwhile_by_another_job_is_not_an_error(
        github: tuple[fake_github.FakeGithub, GithubRest]) -> None:
    fake, rest = github

    class Racing(GithubRest):
        def list_labels(self, repo: str) -> list[dict[str, object]]:
            found = super().list_labels(repo)
            rest.create_label(repo, "lmi:dev:changes", "ededed", "the other job's")
            return found

    labels.sync(Racing(TOKEN, fake.url), REPO, PR, "dev", ["lmi:dev:changes"])
    assert fake.label_names(PR) == ["lmi:dev:changes"]


def test_only_the_tokens_own_comment_of_the_env_is_deleted(
        github: tuple[fake_github.FakeGithub, GithubRest]) -> None:
    fake, rest = github
    mine = rest.create_issue_comment(REPO, PR, comments.marker("dev") + "\nplan")
    rest.create_issue_comment(REPO, PR, comments.marker("prod") + "\nplan")
    # Someone pasted the marker into a comment of theirs: never ours to delete.
    fake.comments[PR].append({"id": 1, "body": comments.marker("dev") + " mine!",
                              "user": {"login": "mallory", "type": "User"}})
    assert comments.delete_stale(rest, REPO, PR, "dev") == [mine["id"]]
    bodies = [c["body"] for c in fake.pr_comments(PR)]
    assert bodies == [comments.marker("prod") + "\nplan", comments.marker("dev") + " mine!"]
    assert comments.delete_stale(rest, REPO, PR, "dev") == []
