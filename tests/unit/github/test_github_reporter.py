"""The GitHub reporter as the runner reads its log: build output is echoed, never obeyed."""

from __future__ import annotations

import io
import itertools

from md_checks import HOSTILE, runner_commands

from lmi_delivery.codebuild import BuildResult, GithubReporter, StartedBuild

A = StartedBuild("app:aaaaaaaa-1111", "app", "https://console/a")
B = StartedBuild("lib:bbbbbbbb-2222", "lib", "https://console/b")
LOG = (
    "::set-output name=approved::true",
    "   ::add-mask::x",
    "##[add-mask]secret",
    "progress 50% ##[set-env name=PATH;]/tmp/evil",
    "::endgroup::",
    "::stop-commands::mine",
    "::mine::",
    *HOSTILE,
)


def tokens() -> itertools.count[int]:
    return itertools.count(1)


def reporter(out: io.StringIO) -> GithubReporter:
    counter = tokens()
    return GithubReporter(out, new_token=lambda: f"{next(counter):032x}")


def test_hostile_build_output_issues_no_command() -> None:
    out = io.StringIO()
    r = reporter(out)
    r.group_start("stage plan")
    for build in (A, B):
        r.build_started(build)
    for line in LOG:
        for part in line.split("\n"):  # the log follower hands over single lines
            r.log_line(A, part)
            r.log_line(B, part)
    r.build_finished(BuildResult(A, "FAILED", "BUILD", "::set-output name=x::y\n##[add-mask]z"))
    r.build_finished(BuildResult(B, "SUCCEEDED"))
    r.group_end()
    text = out.getvalue()
    assert runner_commands(text) == [
        "::group::stage plan", "::endgroup::",
        f"::group::[app:aaaaaaaa] {A.id}", "::endgroup::",
        "::error title=CodeBuild FAILED::app:aaaaaaaa FAILED in phase BUILD: "
        "::set-output name=x::y%0A##[add-mask]z",
        f"::group::[lib:bbbbbbbb] {B.id}", "::endgroup::",
    ]
    for line in LOG:
        for part in line.split("\n"):
            assert f"[app:aaaaaaaa] {part}" in text.splitlines()


def test_a_line_holding_the_token_cannot_resume_commands() -> None:
    out = io.StringIO()
    r = reporter(out)
    r.build_started(A)
    r.log_line(A, "warming up")  # streamed live: the first stretch of lines, token 1
    token = f"{1:032x}"
    assert f"::stop-commands::{token}" in out.getvalue()
    r.log_line(A, f"##[{token}]")
    r.log_line(A, f"##[{token.upper()}] ::add-mask::x ##[add-mask]y")
    r.build_finished(BuildResult(A, "SUCCEEDED"))
    text = out.getvalue()
    assert runner_commands(text) == [f"::group::[app:aaaaaaaa] {A.id}", "::endgroup::"]
    assert token not in text.replace(f"::stop-commands::{token}", "").replace(f"::{token}::", "")


def test_commands_resume_when_the_stage_ends_even_with_a_build_still_open() -> None:
    out = io.StringIO()
    r = reporter(out)
    r.build_started(A)
    r.log_line(A, "::set-output name=x::y")  # live, and then the wait is interrupted
    r.group_end()
    out.write("::error title=lmi-delivery failed::interrupted\n")
    assert runner_commands(out.getvalue()) == [
        f"::group::[app:aaaaaaaa] {A.id}", "::error title=lmi-delivery failed::interrupted"]


def test_each_stretch_of_build_lines_gets_a_fresh_token() -> None:
    out = io.StringIO()
    r = reporter(out)
    for build in (A, B):
        r.build_started(build)
        r.log_line(build, "hello")
        r.build_finished(BuildResult(build, "SUCCEEDED"))
    stops = [line for line in out.getvalue().splitlines() if line.startswith("::stop-commands")]
    assert stops == [f"::stop-commands::{1:032x}", f"::stop-commands::{2:032x}"]
