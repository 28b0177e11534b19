"""One poller for many builds.

:func:`wait` watches any number of builds with one loop. Each round asks ``BatchGetBuilds``
about every build still running, 100 ids per call (so N builds cost ceil(N/100) calls per
interval, never N), reads the new log lines of the running builds that have a log stream
(one ``GetLogEvents`` page each), and when a build has ended, drains its log, reports it and
drops it from the next rounds. A round starts every ``poll_interval`` seconds (the time the
round took is deducted), so each end is noticed within one interval. Throttling widens the
interval (:class:`~lmi_delivery.codebuild.interval.AdaptiveInterval`); a cancel stops the
builds and raises :class:`~lmi_delivery.errors.Interrupted`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.errors import is_aws_error, translate
from lmi_delivery.codebuild.cancel import STOP_TIMEOUT, Cancellation, stop_builds
from lmi_delivery.codebuild.failure import result_of
from lmi_delivery.codebuild.interval import AdaptiveInterval, is_throttle
from lmi_delivery.codebuild.logs import LogFollower
from lmi_delivery.codebuild.model import IN_PROGRESS, BuildResult, StartedBuild
from lmi_delivery.errors import InputError

if TYPE_CHECKING:
    from mypy_boto3_codebuild import CodeBuildClient
    from mypy_boto3_logs import CloudWatchLogsClient

    from lmi_delivery.codebuild.reporting import Reporter

BATCH_SIZE = 100
TAIL_LINES = 50
#: Threads reading log streams at once (botocore's default connection pool holds 10).
LOG_WORKERS = 8
#: ``GetLogEvents`` calls a second for running builds (AWS allows 25 per account and region);
#: with more running builds than that, their logs are read in turns. Ended builds are always
#: drained at once.
LOG_CALLS_PER_SECOND = 10.0


class _Cancelled(Exception):
    pass


@dataclass
class _Watch:
    build: StartedBuild
    tail: deque[str]
    follower: LogFollower | None = None
    read_at: int = -1
    """The round that last read this running build's log (the oldest read goes first)."""


def wait(builds: Sequence[StartedBuild], *, codebuild_client: CodeBuildClient,
         logs_client: CloudWatchLogsClient | None, reporter: Reporter,
         poll_interval: float = 5.0, max_interval: float | None = None,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] | None = None,
         cancel: Cancellation | None = None, stop_on_cancel: bool = True,
         stop_timeout: float = STOP_TIMEOUT, tail_lines: int = TAIL_LINES,
         log_workers: int = LOG_WORKERS,
         log_calls_per_second: float = LOG_CALLS_PER_SECOND) -> list[BuildResult]:
    """Wait until every build has ended; return their results in the order given.

    ``sleep`` defaults to the cancellation's (which wakes on a signal) or ``time.sleep``.
    ``logs_client=None`` skips the logs; ``log_workers`` threads read the logs of different
    builds at once (each build's lines are still reported in order, from this thread). On
    cancel, builds still running are stopped (unless ``stop_on_cancel`` is false) and
    :class:`Interrupted` is raised.
    """
    pool = ThreadPoolExecutor(max_workers=log_workers, thread_name_prefix="codebuild-logs")
    poller = _Poller(codebuild_client, logs_client, reporter, clock, pool)
    watches = {b.id: _Watch(b, deque(maxlen=tail_lines)) for b in builds}
    interval = AdaptiveInterval(poll_interval, max_interval)
    pause = sleep or (cancel.sleep if cancel is not None else time.sleep)

    def check() -> None:
        if cancel is not None and cancel.requested:
            raise _Cancelled

    results: dict[str, BuildResult] = {}
    try:
        check()
        while len(results) < len(watches):
            started = clock()
            pending = [w for i, w in watches.items() if i not in results]
            try:
                poller.budget = max(1, int(log_calls_per_second * interval.current))
                for chunk in _chunks(pending, BATCH_SIZE):
                    poller.round(chunk, results, check)
                interval.succeeded()
            except _Cancelled:
                raise
            except Exception as error:
                if not is_throttle(error):
                    if is_aws_error(error):  # the executor fails the waiting stages on it
                        raise translate(error) from error
                    raise
                reporter.notice(f"throttled by AWS: polling every {interval.throttled():g}s")
            check()
            if len(results) < len(watches):
                pause(max(0.0, interval.current - (clock() - started)))
                check()
    except _Cancelled:
        assert cancel is not None
        running = [i for i in watches if i not in results]
        if not stop_on_cancel or not running:
            raise cancel.interrupted(f"left {len(running)} build(s) running") from None
        reporter.notice(f"stopping {len(running)} build(s): {', '.join(running)}")
        statuses = stop_builds(codebuild_client, running, timeout=stop_timeout, clock=clock,
                               sleep=sleep or time.sleep)
        detail = ", ".join(f"{watches[i].build.short} {s}" for i, s in statuses.items())
        raise cancel.interrupted(f"stopped {detail}") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[i] for i in watches]


class _Poller:
    def __init__(self, codebuild: CodeBuildClient, logs: CloudWatchLogsClient | None,
                 reporter: Reporter, clock: Callable[[], float], pool: ThreadPoolExecutor,
                 ) -> None:
        self.codebuild = codebuild
        self.logs = logs
        self.reporter = reporter
        self.clock = clock
        self.pool = pool
        self.budget = 1_000_000
        self.rounds = 0

    def round(self, watches: list[_Watch], results: dict[str, BuildResult],
              check: Callable[[], None]) -> None:
        """One ``BatchGetBuilds`` for up to 100 builds, their new log lines (read in
        parallel, reported in order), their ends. Each end goes into ``results`` when it is
        reported, so a throttle later in the round loses none; a build whose final drain
        failed is reported on a later round."""
        by_id = {w.build.id: w for w in watches}
        answer = self.codebuild.batch_get_builds(ids=list(by_id))
        known_at = self.clock()
        missing = answer.get("buildsNotFound") or []
        if missing:
            raise InputError(f"CodeBuild build(s) not found: {', '.join(missing)}")
        check()
        self.rounds += 1
        seen = [(by_id[b["id"]], b) for b in answer.get("builds") or []]
        running = sorted((w for w, b in seen if b.get("buildStatus") == IN_PROGRESS),
                         key=lambda w: w.read_at)
        turn = {w.build.id for w in running[:self.budget]}
        fetches = {w.build.id: self.pool.submit(self._read_logs, w, b) for w, b in seen
                   if w.build.id in turn or b.get("buildStatus") != IN_PROGRESS}
        for watch in running[:self.budget]:
            watch.read_at = self.rounds
        failure: BaseException | None = None
        for watch, build in seen:
            fetch = fetches.get(watch.build.id)
            lines, error = fetch.result() if fetch is not None else ([], None)
            for line in lines:
                watch.tail.append(line)
                self.reporter.log_line(watch.build, line)
            if error is not None:
                failure = failure or error
            elif build.get("buildStatus", IN_PROGRESS) != IN_PROGRESS:
                result = result_of(watch.build, build, tail=list(watch.tail),
                                   noticed_at=known_at)
                results[watch.build.id] = result
                self.reporter.build_finished(result)
        if failure is not None:
            raise failure
        check()

    def _read_logs(self, watch: _Watch, build: Any) -> tuple[list[str], BaseException | None]:
        """The new lines of one build (all of them once it has ended), and the error that
        stopped the reading, if any (the lines read before it are kept)."""
        lines: list[str] = []
        if self.logs is None:
            return lines, None
        if watch.follower is None:
            logs = build.get("logs") or {}
            group, stream = logs.get("groupName"), logs.get("streamName")
            if not group or not stream:
                return lines, None
            watch.follower = LogFollower(self.logs, group, stream)
        try:
            watch.follower.fetch(lines.append,
                                 drain=build.get("buildStatus", IN_PROGRESS) != IN_PROGRESS)
        except Exception as error:  # handed back to the round, which raises it after emitting
            return lines, error
        return lines, None


def _chunks(items: list[_Watch], size: int) -> list[list[_Watch]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


