"""Carrying out a prune decision: ``DeleteFunction`` per version, paced by the shared budget.

Deletions run on a few threads (``fan_out``), but every attempt first takes a token from the
account's rate budget (the Lambda client is paced, see ``lmi_delivery.aws.pacing``), so the
admitted rate is the budget's, whatever the thread count; the threads only hide each call's
latency: 8 of them keep 15 requests/s busy at up to ~300 ms a round trip. A throttle answer
pushes the whole budget back, not one thread.

One version that cannot be deleted never stops the run: its error is recorded on the decision
(``with_failure``) and the rest carry on. Transient failures that outlived botocore's retries
(throttles, 5xx, dropped connections) get one more pass at the end. A version found gone
already counts as deleted. AWS itself is the last guard against a race: an alias moved onto a
version after the snapshot makes ``DeleteFunction`` answer ``ResourceConflictException``, which
is recorded as failed with :data:`CONFLICT_NOTE`, not treated as an error of the run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lmi_delivery.aws.fanout import WORKERS, fan_out
from lmi_delivery.aws.pacing import THROTTLE_CODES
from lmi_delivery.postdeploy.prune.decision import PruneDecision, Verdict

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

#: How a deletion refused because an alias now routes to the version is recorded.
CONFLICT_NOTE = "now routed by an alias"

DeleteProgress = Callable[[int, int, Verdict, "str | None"], None]
"""Called after each deletion attempt with (done, total, verdict, error or None)."""


@dataclass(frozen=True)
class _Outcome:
    verdict: Verdict
    error: str | None = None
    transient: bool = False


def is_conflict(verdict: Verdict) -> bool:
    """Whether a failed deletion was refused because an alias now routes to the version."""
    return verdict.note.startswith(CONFLICT_NOTE)


def execute_prune(client: LambdaClient, decision: PruneDecision, *,
                  reporter: DeleteProgress | None = None, workers: int = WORKERS) -> PruneDecision:
    """Delete ``decision.deletions``; return the decision with every failure recorded.

    Never raises for the failure of one version. A dry run never calls this: it shows the
    decision itself.
    """
    todo = decision.deletions
    if not todo:
        return decision
    progress = _Progress(len(todo), reporter)
    outcomes = {_key(o.verdict): o for o in _run(client, todo, workers, progress)}
    again = [o.verdict for o in outcomes.values() if o.transient]
    if again:
        outcomes.update({_key(o.verdict): o for o in _run(client, again, workers, None)})
    for outcome in outcomes.values():
        if outcome.error is not None:
            decision = decision.with_failure(outcome.verdict.function,
                                             outcome.verdict.version, outcome.error)
    return decision


def _key(verdict: Verdict) -> tuple[str, str]:
    return verdict.function, verdict.version


def _run(client: LambdaClient, todo: Sequence[Verdict], workers: int,
         progress: _Progress | None) -> list[_Outcome]:
    def one(verdict: Verdict) -> _Outcome:
        outcome = delete_version(client, verdict)
        if progress is not None:
            progress.step(outcome)
        return outcome

    return fan_out(one, todo, workers=workers, name="lmi-prune")


def delete_version(client: LambdaClient, verdict: Verdict) -> _Outcome:
    """One ``DeleteFunction`` with a qualifier, its failure turned into a recorded outcome."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.delete_function(FunctionName=verdict.function, Qualifier=verdict.version)
    except ClientError as exc:
        error = exc.response.get("Error") or {}
        code, message = str(error.get("Code", "")), str(error.get("Message", exc))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code == "ResourceNotFoundException":
            return _Outcome(verdict)  # already gone: what we wanted
        if code == "ResourceConflictException":
            return _Outcome(verdict, f"{CONFLICT_NOTE}: {message}")
        transient = code in THROTTLE_CODES or status == 429 or status >= 500
        return _Outcome(verdict, f"{code or status}: {message}", transient)
    except BotoCoreError as exc:  # connection dropped, timeouts: botocore already retried
        return _Outcome(verdict, f"{type(exc).__name__}: {exc}", transient=True)
    return _Outcome(verdict)


class _Progress:
    def __init__(self, total: int, reporter: DeleteProgress | None) -> None:
        self.total = total
        self.done = 0
        self.reporter = reporter
        self._lock = threading.Lock()

    def step(self, outcome: _Outcome) -> None:
        with self._lock:
            self.done += 1
            if self.reporter is not None:
                self.reporter(self.done, self.total, outcome.verdict, outcome.error)
