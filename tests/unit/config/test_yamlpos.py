"""YAML loading with positions: values as written, every node located, tricks refused."""

from __future__ import annotations

import pytest

from lmi_delivery.config.yamlpos import decode, dotted, parse
from lmi_delivery.errors import ConfigError, Location


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(text, "c.yml")
    return [str(d) for d in info.value.diagnostics]


def test_scalars_keep_versions_dates_and_octal_looking_values_as_written() -> None:
    doc = parse("a: 1.12.2\nb: 1.10\nc: 0755\nd: 2026-01-01\ne: 1.0\nf: 2.5\ng: 12\n"
                "h: -3\ni: true\nj: False\nk: ~\nl:\nm: '12'\nn: yes\no: 1e3\np: 0x1f\n", "c.yml")
    assert doc.value == {
        "a": "1.12.2", "b": "1.10", "c": "0755", "d": "2026-01-01", "e": 1.0, "f": 2.5,
        "g": 12, "h": -3, "i": True, "j": False, "k": None, "l": None, "m": "12",
        "n": "yes", "o": "1e3", "p": "0x1f",
    }
    assert isinstance(doc.value["g"], int)
    assert not isinstance(doc.value["i"], int) or doc.value["i"] is True


def test_explicit_string_tag_wins_over_resolution() -> None:
    assert parse("a: !!str 12\n", "c.yml").value == {"a": "12"}


def test_every_node_has_a_one_based_position() -> None:
    doc = parse("top:\n  list:\n    - x\n    - {k: v}\n  flow: [1, 2]\n", "c.yml")
    assert doc.locations[()] == Location("c.yml", 1, 1)
    assert doc.locations[("top",)] == Location("c.yml", 2, 3)
    assert doc.locations[("top", "list")] == Location("c.yml", 3, 5)
    assert doc.locations[("top", "list", 0)] == Location("c.yml", 3, 7)
    assert doc.locations[("top", "list", 1, "k")] == Location("c.yml", 4, 11)
    assert doc.locations[("top", "flow", 1)] == Location("c.yml", 5, 13)
    assert doc.key_locations[("top", "flow")] == Location("c.yml", 5, 3)


def test_an_empty_value_is_located_at_its_key() -> None:
    doc = parse("a:\nb: 1\n", "c.yml")
    assert doc.value == {"a": None, "b": 1}
    assert doc.locations[("a",)] == Location("c.yml", 1, 1)


def test_duplicate_keys_point_at_the_second_key() -> None:
    assert problems("a: 1\nb:\n  c: 1\n  c: 2\n") == [
        "c.yml:4:3: duplicate key 'c' (first defined at line 3) (at b.c)"
    ]


def test_anchors_aliases_and_merge_keys_are_refused_together() -> None:
    found = problems("base: &b {x: 1}\nother: *b\nmerged:\n  <<: {y: 2}\n")
    assert found == [
        "c.yml:1:7: YAML anchors are not allowed (&b): write the value out (at base)",
        "c.yml:2:1: YAML aliases are not allowed (*b): write the value out (at other)",
        "c.yml:4:3: YAML merge keys (<<) are not allowed: write the keys out (at merged.<<)",
    ]


def test_alias_bombs_are_not_expanded() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
              for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    assert len(problems("\n".join(lines) + "\n")) < 100


def test_unsupported_tags_and_complex_keys() -> None:
    assert problems("a: !Ref x\n? [k]\n: v\n") == [
        "c.yml:1:4: unsupported YAML tag !Ref (at a)",
        "c.yml:2:3: mapping keys must be plain strings",
    ]


@pytest.mark.parametrize(("text", "where", "message"), [
    ("a: [1, 2\n", "2:1", "expected ',' or ']'"),
    ("a: b: c\n", "1:5", "mapping values are not allowed here"),
    ("a: 1\n---\nb: 2\n", "2:1", "expected a single document"),
    ("a: *nowhere\n", "1:4", "found undefined alias 'nowhere'"),
    ("a: 1\nb: \x07\n", "2:4", "unacceptable character U+0007"),
])
def test_syntax_errors_carry_the_position_ruamel_reports(text: str, where: str,
                                                         message: str) -> None:
    (found,) = problems(text)
    assert found.startswith(f"c.yml:{where}: ")
    assert message in found


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "--- ~\n"])
def test_empty_documents_are_an_error_at_the_first_line(text: str) -> None:
    assert problems(text) == ["c.yml:1:1: the file is empty: expected a mapping"]


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    assert "too deep" in problems("a: " + "[" * 70 + "]" * 70 + "\n")[0]
    assert "too deep" in problems("[" * 5000 + "]" * 5000 + "\n")[0]


def test_bad_utf8_points_at_the_byte() -> None:
    with pytest.raises(ConfigError) as info:
        decode("a: 1\nservice: caf\xe9 ok\n".encode("latin-1"), "c.yml")
    assert str(info.value) == "c.yml:2:13: not valid UTF-8: byte 0xe9 cannot be decoded"


def test_utf8_with_bom_and_non_ascii_columns() -> None:
    text = decode("\ufeffa: café\n".encode(), "c.yml")
    assert parse(text, "c.yml").value == {"a": "café"}
    with pytest.raises(ConfigError) as info:
        decode("é: 1\né\xff\n".encode()[:-2] + b"\xff\n", "c.yml")
    assert str(info.value).startswith("c.yml:2:2: ")


def test_dotted_paths() -> None:
    assert dotted(()) == ""
    assert dotted(("functions", "router", "scaling", "min")) == "functions.router.scaling.min"
    assert dotted(("terraform", "var_files", 0)) == "terraform.var_files[0]"
