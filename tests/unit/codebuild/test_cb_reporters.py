"""The text and GitHub reporters: prefixes, outputs written at once, groups never interleaved."""

from __future__ import annotations

import io
import re
from pathlib import Path

from lmi_delivery.codebuild import BuildResult, GithubReporter, StartedBuild, TextReporter

A = StartedBuild("app:aaaaaaaa-1111", "app", "https://console/a")
B = StartedBuild("app:bbbbbbbb-2222", "app", "https://console/b")
C = StartedBuild("lib:cccccccc-3333", "lib", "https://console/c")


def test_text_reporter_prefixes_each_line() -> None:
    out = io.StringIO()
    reporter = TextReporter(out)
    reporter.build_started(A)
    reporter.log_line(A, "hello")
    reporter.build_finished(BuildResult(A, "FAILED", "BUILD", "COMMAND_EXECUTION_ERROR: x"))
    assert out.getvalue().splitlines() == [
        "[app:aaaaaaaa] started app:aaaaaaaa-1111 log: https://console/a",
        "[app:aaaaaaaa] hello",
        "[app:aaaaaaaa] FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: x",
    ]


def test_github_reporter_writes_outputs_the_moment_builds_start(tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    reporter = GithubReporter(io.StringIO(), output)
    reporter.build_started(A)
    assert output.read_text() == f"build-id={A.id}\nbuild-ids={A.id}\n"
    reporter.build_started(B)
    assert output.read_text().splitlines()[-2:] == [f"build-id={B.id}",
                                                    f"build-ids={A.id} {B.id}"]


def groups(text: str) -> list[list[str]]:
    """The groups of a log, asserting none opens inside another."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("::stop-commands::") or re.fullmatch("::[0-9a-f]{32}::", line):
            continue  # the runner's bookkeeping around build output (test_github_reporter.py)
        if line.startswith("::group::"):
            assert current is None, "a group opened inside another"
            current = [line]
        elif line == "::endgroup::":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None:
            current.append(line)
    assert current is None
    return found


def test_github_groups_one_build_live_and_the_others_whole() -> None:
    out = io.StringIO()
    reporter = GithubReporter(out)
    for build in (A, B, C):
        reporter.build_started(build)
    reporter.log_line(A, "a1")
    reporter.log_line(B, "b1")
    reporter.log_line(C, "c1")
    reporter.log_line(A, "::add-mask::leak")  # a build cannot issue workflow commands
    reporter.log_line(B, "b2")
    reporter.build_finished(BuildResult(B, "SUCCEEDED"))
    reporter.log_line(C, "c2")
    reporter.build_finished(BuildResult(A, "FAILED", "BUILD", "boom"))
    reporter.log_line(C, "c3")
    reporter.build_finished(BuildResult(C, "SUCCEEDED"))
    text = out.getvalue()
    assert groups(text) == [
        [f"::group::[app:aaaaaaaa] {A.id}", "[app:aaaaaaaa] a1",
         "[app:aaaaaaaa] ::add-mask::leak", "[app:aaaaaaaa] FAILED in phase BUILD: boom"],
        [f"::group::[app:bbbbbbbb] {B.id}", "[app:bbbbbbbb] b1", "[app:bbbbbbbb] b2",
         "[app:bbbbbbbb] SUCCEEDED"],
        [f"::group::[lib:cccccccc] {C.id}", "[lib:cccccccc] c1", "[lib:cccccccc] c2",
         "[lib:cccccccc] c3", "[lib:cccccccc] SUCCEEDED"],
    ]
    assert "::error title=CodeBuild FAILED::app:aaaaaaaa FAILED in phase BUILD: boom" in text
    assert not any(line.startswith("::add-mask::") for line in text.splitlines())
