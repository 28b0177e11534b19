"""The job summary: what the approver reads. Outside text in it stays text."""

from __future__ import annotations

from pathlib import Path

import pytest
from md_checks import HOSTILE, assert_inert_inline, code_span_body, fenced_block

from lmi_delivery.errors import GateRefused, OperationFailed
from lmi_delivery.escape import fenced
from lmi_delivery.github.context import Outcome
from lmi_delivery.github.summary import append_summary, section

RUN = "https://github.com/acme/platform/actions/runs/1"


def _line(text: str, prefix: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(prefix)]
    return line


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_title_error_and_path_are_escaped(hostile: str) -> None:
    outcome = Outcome(f"shop / dev: {hostile}", "body\n", "{}",
                      error=OperationFailed(hostile.split("\n")[0] or "x"))
    text = section(outcome, "run", RUN, f"/tmp/{hostile}.json")
    head = _line(text, "## lmi-delivery ")
    assert_inert_inline(head.removeprefix("## lmi-delivery `run`: ").removesuffix(" (failed)"))
    report = _line(text, "Report file: ")
    path = report.removeprefix("Report file: ").removesuffix(f" · [run]({RUN})")
    assert code_span_body(path) == f"/tmp/{hostile}.json".replace("\n", " ")
    error = _line(text, "> **failed:** ")
    assert_inert_inline(error.removeprefix("> **failed:** "))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_plan_summary_cannot_close_its_block(hostile: str) -> None:
    outcome = Outcome("shop / dev: run succeeded", "#### Terraform plan\n\n" + fenced(hostile),
                      "{}")
    text = section(outcome, "plan", RUN, "/tmp/r.json")
    _, inside, rest = fenced_block(text.split("#### Terraform plan\n\n", 1)[1])
    assert inside == hostile
    assert rest.lstrip().startswith("Report file: ")


def test_a_run_link_that_is_not_http_is_no_link() -> None:
    text = section(Outcome("t", "b", "{}", error=GateRefused("no")), "run",
                   "javascript:alert(1)", "/tmp/r.json")
    assert "javascript" not in text
    assert "> **refused:** no" in text


def test_append_summary_appends(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    append_summary(path, "one\n")
    append_summary(path, "two\n")
    append_summary(None, "nowhere")
    assert path.read_text() == "one\ntwo\n"
