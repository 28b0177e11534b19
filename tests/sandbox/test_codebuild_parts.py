"""The pure parts of the sandbox's CodeBuild: buildspec parsing, references, artifact paths."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from lmi_delivery.sandbox import build_artifacts, build_env, build_spec
from lmi_delivery.sandbox.build_spec import ArtifactsSpec, BuildspecError


def test_parse_reads_env_phases_and_artifacts() -> None:
    spec = build_spec.parse("""\
version: 0.2
env:
  shell: bash
  variables: {A: 1, B: true}
  secrets-manager: {TOKEN: "app/token:key"}
  exported-variables: [A]
phases:
  build:
    on-failure: continue
    commands: [make]
    finally: [echo end]
  install:
    runtime-versions: {python: 3.13}
artifacts:
  files: ['**/*']
  discard-paths: yes
reports: {}
""")
    assert spec.variables == {"A": "1", "B": "true"}
    assert spec.secrets_manager == {"TOKEN": "app/token:key"}
    assert spec.exported_variables == ("A",)
    assert spec.phases["build"] == build_spec.PhaseSpec(("make",), ("echo end",), "CONTINUE")
    assert spec.phases["install"].commands == ()
    assert spec.artifacts == ArtifactsSpec(files=("**/*",), discard_paths=True)


@pytest.mark.parametrize(("text", "message"), [
    ("version: 0.1\n", "only 0.2 is supported"),
    ("- a\n", "expected a mapping"),
    ("version: 0.2\nphases:\n  build:\n    commands: [{a: b}]\n",
     "Expected phases.build.commands[0] to be of string type"),
    ("version: 0.2\nphases:\n  build:\n    on-failure: RETRY\n", "ABORT or CONTINUE"),
    ("version: 0.2\nenv:\n  shell: zsh\n", "unsupported env.shell"),
    ("version: 0.2\nphases: [build]\n", "phases must be a mapping"),
])
def test_parse_rejects_what_codebuild_rejects(text: str, message: str) -> None:
    with pytest.raises(BuildspecError, match=re.escape(message)):
        build_spec.parse(text)


def test_inline_or_path() -> None:
    assert build_spec.is_inline("version: 0.2\nphases: {}\n")
    assert not build_spec.is_inline("ci/buildspec.yml")


@pytest.mark.parametrize(("reference", "parts"), [
    ("app/token", ("app/token", "", "", "")),
    ("app/token:password:AWSPREVIOUS", ("app/token", "password", "AWSPREVIOUS", "")),
    ("arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf:key::v1",
     ("arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf", "key", "", "v1")),
])
def test_secret_references(reference: str, parts: tuple[str, str, str, str]) -> None:
    assert build_env._split_secret_reference(reference) == parts


def test_artifact_paths(tmp_path: Path) -> None:
    (tmp_path / "dist" / "a").mkdir(parents=True)
    (tmp_path / "dist" / "a" / "x.txt").write_text("x")
    (tmp_path / "dist" / "y.bin").write_text("y")
    spec = ArtifactsSpec(files=("**/*",), base_directory="dist")
    assert [key for _, key in build_artifacts.collect(spec, tmp_path)] == ["a/x.txt", "y.bin"]
    flat = ArtifactsSpec(files=("**/*.txt",), base_directory="dist", discard_paths=True)
    assert [key for _, key in build_artifacts.collect(flat, tmp_path)] == ["x.txt"]
    with pytest.raises(build_artifacts.ArtifactsError, match="no matching artifact paths"):
        build_artifacts.collect(ArtifactsSpec(files=("*.zip",)), tmp_path)


def test_tool_path_puts_the_interpreter_and_shim_first(tmp_path: Path) -> None:
    path = build_env.tool_path("/usr/bin:/bin", tmp_path)
    entries = path.split(":")
    assert entries[1] == str(tmp_path)
    assert entries[-2:] == ["/usr/bin", "/bin"]


def test_a_working_copy_inside_its_source_is_not_copied_into_itself(tmp_path: Path) -> None:
    from lmi_delivery.sandbox.build_source import prepare

    (tmp_path / "main.tf").write_text("# source\n")
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "a.tf").write_text("# module\n")
    dest = tmp_path / "sandbox-work" / "builds" / "b1"
    dest.parent.mkdir(parents=True)
    (dest.parent / "other-build.txt").write_text("another build's copy\n")
    prepare(str(tmp_path), None, dest, {"PATH": os.environ.get("PATH", "")})
    assert (dest / "main.tf").read_text() == "# source\n"
    assert (dest / "modules" / "a.tf").exists()
    assert not (dest / "sandbox-work").exists(), "the area holding the copy is not copied"
