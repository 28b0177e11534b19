"""Doctor's report formats: text lines, JSON rows, the summary, the refusing lines, Markdown."""

from __future__ import annotations

import json

from lmi_delivery.doctor.report import problems, render, summary, to_markdown
from lmi_delivery.doctor.rules import RULES, finding, is_failing
from lmi_delivery.errors import Location

DRIFT = finding("LMD003", Location(".github/workflows/ci.yml", 17, 9),
                "'shop-dev-tf-plann' is not 'shop-dev-tf-plan'")
SECRETS = finding("LMD004", Location(".github/workflows/ci.yml", 21, 5), "step mixes secrets")


def test_every_rule_is_an_error_or_a_warning() -> None:
    levels = {r.id: finding(r.id, Location("x"), "m").level for r in RULES.values()}
    assert {rule for rule, level in levels.items() if level == "warning"} == {
        "LMD004", "LMD007", "LMD008"}
    assert set(levels.values()) == {"error", "warning"}
    assert all(r.name and r.title and r.help for r in RULES.values())


def test_text_lines_name_the_place_and_the_rule() -> None:
    assert render([DRIFT, SECRETS], "text") == (
        ".github/workflows/ci.yml:17:9: LMD003 'shop-dev-tf-plann' is not 'shop-dev-tf-plan'\n"
        ".github/workflows/ci.yml:21:5: LMD004 step mixes secrets\n")


def test_summary_counts_errors_and_warnings_and_only_errors_refuse() -> None:
    assert summary([]) == "doctor: no findings"
    assert summary([DRIFT, SECRETS]) == "doctor: 1 error(s), 1 warning(s)"
    assert is_failing([DRIFT, SECRETS])
    assert not is_failing([SECRETS])
    assert problems([DRIFT, SECRETS]) == [
        ".github/workflows/ci.yml:17:9: LMD003 'shop-dev-tf-plann' is not 'shop-dev-tf-plan'"]


def test_json_rows() -> None:
    report = json.loads(render([SECRETS], "json"))
    assert report == {"findings": [{
        "file": ".github/workflows/ci.yml", "line": 21, "column": 5, "rule": "LMD004",
        "name": "mixed-secrets", "severity": "warning", "message": "step mixes secrets"}],
        "summary": "doctor: 0 error(s), 1 warning(s)"}


def test_markdown_shows_outside_strings_as_text() -> None:
    """A message quotes the repository: it can never become HTML, a mention or a new cell."""
    hostile = finding("LMD007", Location("docs/a|b.md", 3, 1),
                      "`x` links <img src=x onerror=alert(1)> for @org/team | cell")
    markdown = to_markdown([hostile])
    head, table = markdown.split("\n\n", 1)
    assert head == "**doctor: 0 error(s), 1 warning(s)**"
    header, rule, row = table.splitlines()[0], table.splitlines()[1], table.splitlines()[2]
    assert (header, rule) == ("| Where | Rule | Severity | Message |", "|---|---|---|---|")
    assert row.startswith("| `docs/a\\|b.md:3:1` | LMD007 broken\\-doc\\-reference | warning | ")
    assert "<img" not in row
    assert "&lt;img" in row
    assert "@&#8203;org" in row
    assert row.count(" | ") == 3
    assert to_markdown([]) == "**doctor: no findings**\n\n"
