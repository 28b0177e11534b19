"""The review comment of one root's plan: golden files, and what must hold whatever the plan.

Each fixture in ``tests/data/review_comment/`` is a plan JSON (``NAME.plan.json``), optionally
with Terraform's text plan (``NAME.plan.txt``); ``NAME.md`` is the review it renders to. After
a deliberate change of the rendering, rewrite the golden files with
``LMI_UPDATE_GOLDEN=1 python -m pytest tests/unit/github/test_review_comment.py`` and read the
diff. Every rendering is also parsed by a CommonMark parser (markdown-it-py): no code block left
open, no HTML but the ``<details>``/``<summary>`` the renderer writes.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from md_checks import HOSTILE

from lmi_delivery.github.comments import MAX_COMMENT, comment_body
from lmi_delivery.github.review_comment import FindingRow, Review, from_summary, render
from lmi_delivery.terraform.plan_text import trim, warnings
from lmi_delivery.terraform.summary import summarize

DATA = Path(__file__).resolve().parents[2] / "data" / "review_comment"
FIXTURES = ("create", "update", "replace_capacity_provider", "destroy", "no_changes")
OWN_HTML = {"<details><summary>", "</summary>", "</details>"}
LOG = "https://console.aws.amazon.com/codesuite/codebuild/projects/x/build/x:1/log"


def review_of(plan_json: dict[str, Any], text_plan: str = "", **extra: Any) -> Review:
    return from_summary(summarize(plan_json).to_dict(), text_plan=text_plan,
                        warnings=tuple(warnings(text_plan)), log_url=LOG, **extra)


def fixture(name: str) -> Review:
    plan = json.loads((DATA / f"{name}.plan.json").read_text(encoding="utf-8"))
    text = DATA / f"{name}.plan.txt"
    return review_of(plan, text.read_text(encoding="utf-8") if text.is_file() else "",
                     post_deploy=("publish a version of agent-core-dev-router to "
                                  "$LATEST.PUBLISHED on capacity provider agent-core-dev-shared",
                                  "move alias live of agent-core-dev-router to the new version"),
                     capacity=("agent-core-dev-shared: peak 24 of 64 vCPUs",),
                     findings=(FindingRow("LMI003", "warning", "memory below 2048 MB",
                                          "terraform/main.tf:12:3", "aws_lambda_function.r"),))


def assert_renders(markdown: str) -> list[Any]:
    """Parsed as CommonMark: every fence closed, only our own HTML; returns the tokens."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    for token in tokens:
        if token.type == "fence":
            # A fence that never closed runs to the end of the document.
            assert markdown.rstrip("\n").splitlines()[token.map[1] - 1].strip(
                token.markup[0]) == "", f"the code block at line {token.map[0] + 1} never closes"
        if token.type == "html_block":
            assert all(line.strip() in OWN_HTML or re.fullmatch(
                r"<details><summary>[^<>]*</summary>", line.strip())
                for line in token.content.splitlines() if line.strip()), token.content
        for child in token.children or ():
            assert child.type != "html_inline" or child.content in OWN_HTML, child.content
    return tokens


def destructive_addresses(plan_json: dict[str, Any]) -> list[str]:
    return [r.address for r in summarize(plan_json).resources
            if r.action in ("delete", "replace")]


@pytest.mark.parametrize("name", FIXTURES)
def test_each_fixture_renders_its_golden_file(name: str) -> None:
    markdown = render(fixture(name))
    golden = DATA / f"{name}.md"
    if os.environ.get("LMI_UPDATE_GOLDEN"):
        golden.write_text(markdown, encoding="utf-8")
    assert markdown == golden.read_text(encoding="utf-8")
    assert_renders(markdown)
    assert len(comment_body("dev", markdown, LOG)) < MAX_COMMENT


@pytest.mark.parametrize("name", FIXTURES)
def test_every_deleted_or_replaced_address_is_in_the_warning_block(name: str) -> None:
    plan = json.loads((DATA / f"{name}.plan.json").read_text(encoding="utf-8"))
    markdown = render(fixture(name))
    block = "\n".join(line for line in markdown.splitlines() if line.startswith(">"))
    for address in destructive_addresses(plan):
        assert f"`{address}`" in block, address
    assert bool(block) == bool(destructive_addresses(plan))


def test_capacity_providers_and_lmi_functions_come_first_in_the_warning_block() -> None:
    plan = json.loads((DATA / "replace_capacity_provider.plan.json").read_text("utf-8"))
    plan["resource_changes"].append({**plan["resource_changes"][1], "address":
                                     "aws_lambda_function.a_router",
                                     "change": {**plan["resource_changes"][1]["change"],
                                                "actions": ["delete"]}})
    items = [line for line in render(review_of(plan)).splitlines() if line.startswith("> - ")]
    assert [i.split("`")[1] for i in items] == [
        "aws_lambda_capacity_provider.shared", "aws_lambda_function.a_router",
        'module.edge["us-east-1"].aws_security_group.lmi']
    assert "**capacity provider**" in items[0]
    assert "**LMI function**" in items[1]


def test_no_changes_says_so_and_has_no_table_or_warning() -> None:
    markdown = render(fixture("no_changes"))
    assert markdown.startswith("**No changes\\.**")
    assert "[!WARNING]" not in markdown
    assert "| Resource |" not in markdown


def big_plan(n: int) -> tuple[dict[str, Any], str]:
    """``n`` resources: a fifth each deleted, replaced, created, updated and capacity
    providers replaced, with Terraform's text plan of each."""
    actions = (["delete"], ["delete", "create"], ["create"], ["update"], ["delete", "create"])
    changes, blocks = [], []
    for i in range(n):
        kind = i % 5
        rtype = "aws_lambda_capacity_provider" if kind == 4 else "aws_lambda_function"
        address = f'module.fleet["cell-{i:05d}"].{rtype}.this'
        changes.append({"address": address, "type": rtype, "name": "this",
                        "change": {"actions": actions[kind], "before": {}, "after": {}}})
        blocks.append(f"  # {address} will be changed\n  ~ resource \"{rtype}\" \"this\" {{\n"
                      f"      ~ memory_size = 2048 -> 4096\n    }}\n\n")
    text = ("\nTerraform will perform the following actions:\n\n" + "".join(blocks)
            + f"Plan: {n} to add, 0 to change, {n} to destroy.\n")
    return {"format_version": "1.2", "resource_changes": changes}, text


def test_a_20000_resource_plan_fits_and_counts_what_it_leaves_out() -> None:
    plan, text = big_plan(20_000)
    started = time.perf_counter()
    markdown = render(review_of(plan, text))
    seconds = time.perf_counter() - started
    body = comment_body("dev", markdown, LOG)
    assert len(body) < MAX_COMMENT
    assert seconds < 5, f"rendering took {seconds:.1f} s"
    assert_renders(markdown)
    destructive = destructive_addresses(plan)
    listed = [line.split("`")[1] for line in markdown.splitlines() if line.startswith("> - `")
              or line.startswith("> - **")]
    [more] = [line for line in markdown.splitlines() if line.startswith("> - … and ")]
    count = int(re.search(r"and ([\d,]+) more", more)[1].replace(",", ""))  # type: ignore[index]
    assert listed == sorted(destructive, key=lambda a: (
        0 if "capacity_provider" in a else 1, a))[:len(listed)]
    assert len(listed) + count == len(destructive) == 12_000
    # The text plan is cut at whole resource blocks, and says how many it left out.
    details = markdown[markdown.index("<details>"):]
    shown = details.count("  # module.fleet")
    [omitted] = re.findall(r"… ([\d,]+) more resource changes not shown", details)
    assert shown > 0
    assert shown + int(omitted.replace(",", "")) == 20_000
    assert details.count("  ~ resource") == shown  # no block cut in the middle
    print(f"\n20,000 resources: {len(body):,} characters in {seconds * 1000:.0f} ms")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_outside_strings_cannot_escape_into_markdown(hostile: str) -> None:
    plan = {"format_version": "1.2", "resource_changes": [
        {"address": f"aws_s3_bucket.x{hostile}", "type": f"aws_{hostile}",
         "change": {"actions": ["delete"]}, "action_reason": hostile}]}
    text = f"\n  # aws_s3_bucket.x will be destroyed\n{hostile}\n\nPlan: 0 to add.\n" \
           f"\nWarning: {hostile}\n"
    review = review_of(plan, text, findings=(FindingRow(hostile, hostile, hostile, hostile),),
                       post_deploy=(hostile,), capacity=(hostile,))
    markdown = render(review)
    assert_renders(markdown)
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    assert "<script" not in html
    assert "<!--" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert html.count("<details>") == 1
    assert html.count("</details>") == 1


def test_a_small_budget_is_kept() -> None:
    plan, text = big_plan(500)
    for budget in (2_000, 5_000, 20_000):
        markdown = render(review_of(plan, text), budget)
        assert len(markdown) <= budget
        assert_renders(markdown)


def test_trim_keeps_whole_blocks_and_the_trailer() -> None:
    _, text = big_plan(100)
    trimmed = trim(text, 3_000)
    assert len(trimmed.text) <= 3_000
    assert not trimmed.cut
    assert trimmed.text.rstrip().endswith("to destroy.")
    assert trimmed.text.count("  # module") + trimmed.omitted_blocks == 100


def test_warnings_are_read_with_and_without_box_drawing() -> None:
    text = "Warning: Plain one\n\n╷\n│ Warning: Boxed one\n│ \n╵\nWarning: Plain one\n"
    assert warnings(text) == ["Plain one", "Boxed one"]
