from __future__ import annotations

import urllib.parse

import pytest
from md_checks import HOSTILE, runner_commands

from lmi_delivery.errors import ConfigError, Location
from lmi_delivery.github.annotations import (
    Annotation,
    at,
    for_config_error,
    for_finding,
    group,
    relative_to_workspace,
)


def test_error_with_file_line_and_column() -> None:
    note = Annotation("error", "bad value", "lmi-delivery.yml", 4, 7, "lmi-delivery config")
    assert note.command() == ("::error file=lmi-delivery.yml,line=4,col=7,"
                              "title=lmi-delivery config::bad value")


def test_data_and_properties_are_escaped() -> None:
    note = Annotation("warning", "100% sure\nsecond line\r", "a,b:c.yml", title="x:y,z")
    assert note.command() == ("::warning file=a%2Cb%3Ac.yml,title=x%3Ay%2Cz::"
                              "100%25 sure%0Asecond line%0D")
    assert "\n" not in note.command()


def test_a_message_cannot_start_another_command() -> None:
    assert Annotation("error", "x\n::add-mask::y").command() == "::error::x%0A::add-mask::y"


def test_paths_relative_to_the_workspace() -> None:
    assert relative_to_workspace("/ws/repo/lmi-delivery.yml", "/ws/repo") == "lmi-delivery.yml"
    assert relative_to_workspace("/elsewhere/x.yml", "/ws/repo") == "/elsewhere/x.yml"
    assert relative_to_workspace("x.yml", "/ws/repo") == "x.yml"
    assert at("error", Location("/ws/repo/a.yml", 2), "m", workspace="/ws/repo").command() == \
        "::error file=a.yml,line=2::m"


def test_one_annotation_per_config_diagnostic() -> None:
    error = ConfigError.at("/ws/lmi-delivery.yml", "unknown key", line=3, column=5,
                           path="environments.dev")
    [note] = for_config_error(error, "/ws")
    assert note.command() == ("::error file=lmi-delivery.yml,line=3,col=5,title=lmi-delivery "
                              "config::unknown key (at environments.dev)")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_messages_titles_and_files_stay_one_command(hostile: str) -> None:
    note = Annotation("error", hostile, file=f"terraform/{hostile}.tf", line=3, column=1,
                      title=hostile)
    command = note.command()
    assert not set("\r\n") & set(command)
    assert runner_commands(command) == [command]
    head, message = command.split("::", 2)[1:]
    assert head.startswith("error file=terraform/")
    props = dict(p.split("=", 1) for p in head.removeprefix("error ").split(","))
    assert set(props) == {"file", "line", "col", "title"}
    assert urllib.parse.unquote(props["title"]) == hostile
    assert urllib.parse.unquote(message) == hostile


def test_a_level_is_never_taken_from_outside() -> None:
    with pytest.raises(ValueError, match="not an annotation level"):
        Annotation("add-mask", "x")  # type: ignore[arg-type]  # the point of the test


def test_a_group_title_cannot_start_another_command() -> None:
    assert group("plan\n::add-mask::x") == "::group::plan%0A::add-mask::x"


def test_a_finding_becomes_an_annotation_at_its_level() -> None:
    from lmi_delivery.doctor.rules import finding
    from lmi_delivery.gates.rules import RULES

    drift = finding("LMD003", Location("/ws/repo/buildspecs/plan.yml", 4, 12), "name drifts")
    assert for_finding(drift, "/ws/repo").command() == (
        "::error file=buildspecs/plan.yml,line=4,col=12,title=lmi-delivery name-drift::"
        "LMD003 name drifts")
    mixed = finding("LMD004", Location("ci.yml", 2), "mixes secrets")
    assert for_finding(mixed).command().startswith("::warning file=ci.yml,line=2,title=")
    advisory = RULES["LMI013"].finding("not listed", address="aws_lambda_capacity_provider.old",
                                       advisory=True)
    assert for_finding(advisory).command() == (
        "::notice title=lmi-delivery Capacity provider deleted while versions are bound to it::"
        "LMI013 aws_lambda_capacity_provider.old: not listed [advisory: not blocking]")
