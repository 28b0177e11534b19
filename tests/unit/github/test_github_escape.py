"""lmi_delivery.escape: outside strings stay text in Markdown and stay data in workflow commands."""

from __future__ import annotations

import pytest
from md_checks import HOSTILE, assert_inert_inline, code_span_body, fenced_block

from lmi_delivery.escape import (
    code_span,
    command_data,
    command_property,
    fenced,
    link,
    markdown_text,
    open_fence,
)


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_is_inert(text: str) -> None:
    assert_inert_inline(markdown_text(text))


def test_markdown_text_keeps_what_it_shows() -> None:
    assert markdown_text("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert markdown_text("[x](javascript:alert(1))") == "\\[x\\]\\(javascript:alert\\(1\\)\\)"
    assert markdown_text("@org/team") == "@&#8203;org/team"
    assert markdown_text("see #12, mail a@b.c") == "see \\#&#8203;12, mail a@&#8203;b\\.c"
    assert markdown_text("one\ntwo\r\nthree") == "one two three"
    assert markdown_text("plain words") == "plain words"


@pytest.mark.parametrize("text", [*HOSTILE, "`", "``x``", " `a` ", "a|b"])
def test_code_span_shows_its_text_exactly(text: str) -> None:
    span = code_span(text)
    assert code_span_body(span) == text.replace("\n", " ")
    assert "\n" not in span


def test_code_span_in_a_table_escapes_the_pipe() -> None:
    assert code_span("a|b", table=True) == "`a\\|b`"


@pytest.mark.parametrize("text", [*HOSTILE, "Plan: 1 to add\n```\n</details>\n@team",
                                  "x\r```\ry", "~~~~\n````````"])
def test_a_fenced_block_cannot_be_closed_from_inside(text: str) -> None:
    block = fenced(text)
    _, body, rest = fenced_block(block)
    assert body == text.replace("\r\n", "\n").replace("\r", "\n")
    assert rest == ""
    assert open_fence(block) is None


def test_a_backtick_in_the_info_string_switches_to_tildes() -> None:
    block = fenced("~~~ inside\n```", info="te`xt")
    assert block.startswith("~~~~te`xt\n")
    assert fenced_block(block)[1] == "~~~ inside\n```"


def test_open_fence_finds_the_block_a_cut_ends_in() -> None:
    assert open_fence("text\n````hcl\n```\nstill code") == "````"
    assert open_fence("````\n```\n````\nafter") is None
    assert open_fence("~~~\n```\n") == "~~~"
    assert open_fence("``` not`a fence\n") is None


def test_links_only_to_http_urls() -> None:
    assert link("run", "https://github.com/o/r/actions/runs/1") == \
        "[run](https://github.com/o/r/actions/runs/1)"
    assert link("run", "javascript:alert(1)") == "run"
    assert link("run", None) == "run"
    assert link("[x]", "https://h/a b)(c") == "[\\[x\\]](https://h/a%20b%29%28c)"


def test_workflow_command_escaping_matches_the_toolkit() -> None:
    assert command_data("100%\r\n::set-output name=x::y") == "100%25%0D%0A::set-output name=x::y"
    assert command_data("%0A") == "%250A"
    assert command_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"
