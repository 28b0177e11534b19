from __future__ import annotations

from pathlib import Path

import pytest

from lmi_delivery.github.outputs import format_outputs, read_outputs, write_outputs


def test_multiline_and_forged_values_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "output"
    path.write_text("build-id=b-1\n", encoding="utf-8")
    values = {"plan-summary": "Plan: 1 to add\nhas-changes=false\nEOF", "has-changes": "true",
              "empty": ""}
    write_outputs(path, values)
    assert read_outputs(path.read_text("utf-8")) == {"build-id": "b-1", **values}


def test_nothing_is_written_outside_a_runner() -> None:
    write_outputs(None, {"a": "b"})


def test_names_are_checked() -> None:
    with pytest.raises(ValueError, match="invalid output name"):
        format_outputs({"a\nb": "x"})


def test_the_delimiter_never_occurs_in_the_value() -> None:
    text = format_outputs({"x": "ghadelimiter_"})
    delimiter = text.splitlines()[0].split("<<")[1]
    assert text.splitlines()[1] == "ghadelimiter_"
    assert delimiter != "ghadelimiter_"
