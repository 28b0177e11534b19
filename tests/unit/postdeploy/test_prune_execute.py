"""The executor against an injected fake: one bad version never stops the run, transient
failures get a second pass, a version already gone counts as deleted, reports render."""

from __future__ import annotations

import json
import threading
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from lmi_delivery.postdeploy.prune.api import execute_prune, render_prune_report
from lmi_delivery.postdeploy.prune.decision import Action, PrunePolicy, decide
from lmi_delivery.postdeploy.prune.state import snapshot_from_dicts

CP = "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:shared"


def error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} message"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "DeleteFunction")


class FakeDeletes:
    """``DeleteFunction`` that answers from a script: version → errors to raise, in order."""

    def __init__(self, script: dict[str, list[Exception]]) -> None:
        self.script = script
        self.deleted: list[str] = []
        self.attempts: list[str] = []
        self._lock = threading.Lock()

    def delete_function(self, FunctionName: str, Qualifier: str) -> None:
        with self._lock:
            self.attempts.append(Qualifier)
            pending = self.script.get(Qualifier) or []
            if pending:
                raise pending.pop(0)
            self.deleted.append(Qualifier)


def decision(keep: int = 2) -> Any:
    snapshot = snapshot_from_dicts({"functions": [
        {"name": "f", "capacity_provider": CP, "versions": ["$LATEST", *range(1, 11)],
         "aliases": {"live": 10}}]})
    return decide(snapshot, PrunePolicy(keep=keep))


def test_failures_are_recorded_and_the_rest_goes_on() -> None:
    fake = FakeDeletes({
        "2": [error("AccessDeniedException", 403)],
        "3": [error("ResourceConflictException", 409)],
        "4": [error("ResourceNotFoundException", 404)],
        "5": [error("TooManyRequestsException", 429)],
        "6": [EndpointConnectionError(endpoint_url="http://127.0.0.1:1")],
        "7": [error("ServiceException", 500), error("ServiceException", 500)],
    })
    planned = decision()
    # keep 2 besides the alias's 10: 8 and 9 stay
    assert [v.version for v in planned.deletions] == ["1", "2", "3", "4", "5", "6", "7"]
    seen: list[tuple[int, int, str | None]] = []

    result = execute_prune(fake, planned, workers=3,  # type: ignore[arg-type]  # a fake client
                           reporter=lambda done, total, v, err: seen.append((done, total, err)))

    failed = {v.version: v.note for v in result.failures}
    assert failed == {
        "2": "AccessDeniedException: AccessDeniedException message",
        "3": "now routed by an alias: ResourceConflictException message",
        "7": "ServiceException: ServiceException message",
    }
    assert sorted(fake.deleted) == ["1", "5", "6"]  # 5 and 6 on the second pass
    assert result.verdict("f", "4").action is Action.DELETE  # type: ignore[union-attr]  # exists
    assert sorted(d for d, _, _ in seen) == list(range(1, 8))
    assert result.headroom(CP) == 100 - (3 + 1 + 3)  # alias + 2 newest, $LATEST, failures


def test_nothing_to_delete_touches_nothing() -> None:
    fake = FakeDeletes({})
    planned = decision(keep=100)
    assert not planned.deletions
    assert execute_prune(fake, planned) is planned  # type: ignore[arg-type]  # a fake client
    assert fake.attempts == []


def test_reports_list_every_version_in_every_format() -> None:
    result = decision().with_failure("f", 3, "AccessDeniedException: no")
    text = render_prune_report(result, "text")
    assert "  3                  failed       AccessDeniedException: no" in text
    assert "alias live points to it" in text
    assert "totals: deleted 6, kept 4, failed 1 of 11 version(s)" in text
    assert "f: kept 4, deleted 6, 1 failed" in text
    report = json.loads(render_prune_report(result, "json"))
    assert report["schema"] == "lmi-delivery/prune-report@1"
    assert report["totals"] == {"deleted": 6, "kept": 4, "failed": 1, "deleting": 0,
                                "versions": 11}
    assert report["functions"] == {"f": {"kept": 4, "deleted": 6, "failed": 1, "deleting": 0}}
    assert len(report["verdicts"]) == 11
    markdown = render_prune_report(result, "markdown", dry_run=True)
    assert markdown.startswith("### Prune: would delete 6")
    assert "| `f` | 4 | 6 (would delete), 1 failed |" in markdown
    assert "| `f` | 3 | failed | AccessDeniedException: no |" in markdown
