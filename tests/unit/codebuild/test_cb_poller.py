"""The poller against injected fakes: batching, backoff, end detection, logs, failures."""

from __future__ import annotations

from typing import Any

import pytest
from cb_fakes import FakeBuild, FakeClock, FakeCodeBuild, FakeLogs, RecordingReporter

from lmi_delivery.codebuild import (
    AdaptiveInterval,
    BuildResult,
    StartedBuild,
    raise_for_failures,
    wait,
)
from lmi_delivery.codebuild.cancel import Cancellation
from lmi_delivery.errors import InputError, Interrupted, OperationFailed


def build_id(n: int) -> str:
    return f"app:{n:08d}-0000-0000-0000-000000000000"


def run(codebuild: Any, clock: FakeClock, ids: list[str], *, interval: float = 5.0,
        reporter: RecordingReporter | None = None, logs: Any | None = None,
        **options: Any) -> list[BuildResult]:
    logs_client: Any = logs if logs is not None else FakeLogs(codebuild)
    return wait([StartedBuild.from_id(i) for i in ids], codebuild_client=codebuild,
                logs_client=logs_client,
                reporter=reporter or RecordingReporter(), poll_interval=interval,
                clock=clock, sleep=clock.sleep, **options)


def test_250_builds_cost_three_batch_calls_per_poll() -> None:
    clock = FakeClock()
    ids = [build_id(n) for n in range(250)]
    codebuild = FakeCodeBuild(clock, [FakeBuild(i, end_at=clock() + 12, logs=False) for i in ids])
    results = run(codebuild, clock, ids)
    assert [len(call) for call in codebuild.batch_calls] == [100, 100, 50] * 4  # t=0,5,10,15
    assert all(r.succeeded for r in results)
    assert [r.build.id for r in results] == ids


def test_ended_builds_leave_the_batch_and_each_end_is_noticed_within_one_interval() -> None:
    clock = FakeClock()
    ends = {build_id(1): 3.0, build_id(2): 11.0, build_id(3): 27.5}
    codebuild = FakeCodeBuild(clock, [FakeBuild(i, end_at=clock() + t) for i, t in ends.items()])
    results = run(codebuild, clock, list(ends), interval=5.0)
    for result in results:
        assert result.end_time is not None
        assert result.noticed_at is not None
        assert 0 <= result.noticed_at - result.end_time <= 5.0
    assert [len(c) for c in codebuild.batch_calls] == [3, 3, 2, 2, 1, 1, 1]


def test_throttling_doubles_the_interval_up_to_the_cap_then_recovers() -> None:
    clock = FakeClock()
    codebuild = FakeCodeBuild(clock, [FakeBuild(build_id(1), end_at=clock() + 400, logs=False)])
    codebuild.throttle_next = 4
    reporter = RecordingReporter()
    run(codebuild, clock, [build_id(1)], interval=5.0, max_interval=30.0, reporter=reporter)
    # 4 throttles: 10, 20, 30 (cap), 30; then 3 successes per halving: 15, 7.5, 5.
    assert clock.sleeps[:4] == [10.0, 20.0, 30.0, 30.0]
    assert clock.sleeps[4:7] == [30.0, 30.0, 15.0]
    assert clock.sleeps[7:10] == [15.0, 15.0, 7.5]
    assert clock.sleeps[10:13] == [7.5, 7.5, 5.0]
    assert set(clock.sleeps[13:]) == {5.0}
    assert len(reporter.notices) == 4
    assert "Rate exceeded" not in reporter.notices[0]


def test_adaptive_interval_alone() -> None:
    interval = AdaptiveInterval(2.0, 16.0, recover_after=2)
    assert [interval.throttled() for _ in range(4)] == [4.0, 8.0, 16.0, 16.0]
    assert [interval.succeeded() for _ in range(8)] == [16, 8, 8, 4, 4, 2, 2, 2]


def test_every_log_line_once_and_in_order_including_the_lines_after_the_end() -> None:
    clock = FakeClock()
    lines_a = [(clock() + 0.5 * k, f"a-{k}") for k in range(40)]
    lines_b = [(clock() + 0.3 * k, f"b-{k}") for k in range(30)]
    codebuild = FakeCodeBuild(clock, [FakeBuild(build_id(1), end_at=clock() + 19.9,
                                                lines=lines_a),
                                      FakeBuild(build_id(2), end_at=clock() + 8.0,
                                                lines=lines_b)])
    reporter = RecordingReporter()
    logs = FakeLogs(codebuild, page_size=7)
    run(codebuild, clock, [build_id(1), build_id(2)], reporter=reporter, logs=logs)
    assert reporter.lines(build_id(1)) == [line for _, line in lines_a]
    assert reporter.lines(build_id(2)) == [line for _, line in lines_b]
    # while running one page per poll; the drain reads to the end (same token back)
    assert logs.calls[0] == (build_id(1), None)


def test_a_failed_build_names_its_phase_message_and_last_50_lines() -> None:
    clock = FakeClock()
    phases: list[dict[str, Any]] = [{"phaseType": "INSTALL", "phaseStatus": "SUCCEEDED",
               "contexts": [{"statusCode": "", "message": ""}]},
              {"phaseType": "BUILD", "phaseStatus": "FAILED",
               "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR",
                             "message": "Error while executing command: make. Reason: exit 2"}]},
              {"phaseType": "POST_BUILD", "phaseStatus": "SUCCEEDED"}]
    lines = [(clock(), f"line-{k}") for k in range(80)]
    codebuild = FakeCodeBuild(clock, [FakeBuild(build_id(1), end_at=clock() + 1, status="FAILED",
                                                phases=phases, lines=lines),
                                      FakeBuild(build_id(2), end_at=clock() + 1)])
    results = run(codebuild, clock, [build_id(1), build_id(2)])
    failed = results[0]
    assert (failed.status, failed.phase) == ("FAILED", "BUILD")
    assert failed.message.startswith("COMMAND_EXECUTION_ERROR: Error while executing command")
    assert failed.tail == tuple(f"line-{k}" for k in range(30, 80))
    with pytest.raises(OperationFailed) as raised:
        raise_for_failures(results)
    text = str(raised.value)
    assert raised.value.exit_code == 1
    assert "FAILED in phase BUILD" in text
    assert "line-79" in text
    assert "line-29" not in text
    assert raised.value.context["builds"] == [build_id(1)]
    raise_for_failures(results[1:])


def test_unknown_build_ids_are_an_input_error() -> None:
    clock = FakeClock()
    with pytest.raises(InputError, match="not found"):
        run(FakeCodeBuild(clock), clock, [build_id(9)])


def test_a_cancel_stops_the_running_builds_then_raises_interrupted() -> None:
    clock = FakeClock()
    ids = [build_id(1), build_id(2), build_id(3)]
    codebuild = FakeCodeBuild(clock, [FakeBuild(ids[0], end_at=clock() + 2),
                                      FakeBuild(ids[1], end_at=clock() + 100),
                                      FakeBuild(ids[2], end_at=clock() + 100)])
    cancel = Cancellation()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock() >= 1010:
            cancel.cancel(2)

    cb: Any = codebuild
    builds = [StartedBuild.from_id(i) for i in ids]
    try:
        with pytest.raises(Interrupted, match="SIGINT") as raised:
            wait(builds, codebuild_client=cb, logs_client=None, reporter=RecordingReporter(),
                 poll_interval=5.0, clock=clock, sleep=sleep, cancel=cancel)
    finally:
        cancel.close()
    assert raised.value.exit_code == 130
    assert codebuild.stops == ids[1:]  # the finished one is left alone
    assert all(codebuild.builds[i].status == "STOPPED" for i in ids[1:])
    assert "STOPPED" in str(raised.value)


def test_running_logs_are_read_in_turns_within_the_log_budget_and_none_is_lost() -> None:
    clock = FakeClock()
    ids = [build_id(n) for n in range(30)]
    codebuild = FakeCodeBuild(clock, [
        FakeBuild(i, end_at=clock() + 20, lines=[(clock() + k, f"{i}-{k}") for k in range(20)])
        for i in ids])
    logs = FakeLogs(codebuild)
    reporter = RecordingReporter()
    run(codebuild, clock, ids, interval=1.0, logs=logs, reporter=reporter,
        log_calls_per_second=10.0)
    # 20 one-second rounds, at most 10 reads of running builds each, plus each final drain
    # (two calls: the last lines, then the same token back)
    assert len(logs.calls) <= 21 * 10 + 30 * 2
    assert len(logs.calls) < 21 * 30  # fewer than one read per running build per round
    for i in ids:
        assert reporter.lines(i) == [f"{i}-{k}" for k in range(20)]
