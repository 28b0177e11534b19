"""The pure parts of the sandbox's CodeBuild: buildspec parsing, references, artifact paths."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from lmi_delivery.sandbox.codebuild import artifacts as build_artifacts
from lmi_delivery.sandbox.codebuild import env as build_env
from lmi_delivery.sandbox.codebuild import spec as build_spec
from lmi_delivery.sandbox.codebuild.spec import ArtifactsSpec, BuildspecError


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
    assert spec.version == "0.2"
    assert spec.phases["install"].commands == ()
    assert spec.artifacts == ArtifactsSpec(files=("**/*",), discard_paths=True)


@pytest.mark.parametrize(("text", "message"), [
    ("version: 0.3\n", "expected 0.2 (or the old 0.1)"),
    ("- a\n", "expected a mapping"),
    ("version: 0.2\nphases:\n  build:\n    commands: [{a: b}]\n",
     "Expected phases.build.commands[0] to be of string type"),
    ("version: 0.2\nphases:\n  build:\n    on-failure: STOP\n",
     "ABORT, CONTINUE or RETRY[-count][-regex]"),
    ("version: 0.2\nphases:\n  build:\n    on-failure: RETRY-101\n", "0..100"),
    ("version: 0.2\nphases:\n  build:\n    on-failure: RETRY-2-(\n", "invalid regex"),
    ("version: 0.2\nenv:\n  shell: zsh\n", "unsupported env.shell"),
    ("version: 0.2\nphases: [build]\n", "phases must be a mapping"),
])
def test_parse_rejects_what_codebuild_rejects(text: str, message: str) -> None:
    with pytest.raises(BuildspecError, match=re.escape(message)):
        build_spec.parse(text)


# AWS CodeBuild user guide, "Build specification reference": on-failure is ABORT, CONTINUE,
# RETRY, RETRY-count, RETRY-regex or RETRY-count-regex (3 retries and regex .* by default);
# left out, the phase transitions apply. Real buildspecs give one string for a one-item list.
@pytest.mark.parametrize(("value", "parsed"), [
    (None, (None, 0, ".*")),
    ("ABORT", ("ABORT", 0, ".*")),
    ("continue", ("CONTINUE", 0, ".*")),
    ("RETRY", ("RETRY", 3, ".*")),
    ("RETRY-5", ("RETRY", 5, ".*")),
    ("RETRY-Connection reset", ("RETRY", 3, "Connection reset")),
    ("RETRY-2-exit status [0-9]+", ("RETRY", 2, "exit status [0-9]+")),
])
def test_on_failure(value: str | None, parsed: tuple[str | None, int, str]) -> None:
    line = "" if value is None else f"    on-failure: {value}\n"
    phase = build_spec.parse(f"version: 0.2\nphases:\n  build:\n{line}    commands: [x]\n"
                             ).phases["build"]
    assert (phase.on_failure, phase.retries, phase.retry_pattern) == parsed


def test_single_strings_run_as_and_version_0_1() -> None:
    spec = build_spec.parse("version: 0.2\nrun-as: builder\nphases:\n  install:\n"
                            "    run-as: root\n    commands: make deps\n  build:\n"
                            "    commands: make\n    finally: make clean\n"
                            "artifacts:\n  files: dist/app.zip\n")
    assert spec.phases["install"] == build_spec.PhaseSpec(("make deps",), run_as="root")
    assert spec.phases["build"] == build_spec.PhaseSpec(("make",), ("make clean",),
                                                        run_as="builder")
    assert spec.artifacts == ArtifactsSpec(files=("dist/app.zip",))
    old = build_spec.parse("version: 0.1\nenvironment_variables:\n  plaintext: {A: 1}\n"
                           "phases: {build: {commands: [echo $A]}}\n")
    assert (old.version, dict(old.variables)) == ("0.1", {"A": "1"})


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


def test_tool_path_puts_the_tools_first_and_hides_the_virtualenv(tmp_path: Path) -> None:
    venv = tmp_path / "venv" / "bin"
    path = build_env.tool_path(f"{venv}:/usr/bin:/bin", tmp_path, hidden=[str(venv)])
    assert path.split(":") == [str(tmp_path), "/usr/bin", "/bin"]


def test_the_machine_s_pip_and_python_settings_do_not_reach_a_build() -> None:
    inherited = build_env.machine_environment({
        "PATH": "/usr/bin", "HOME": "/root", "PIP_FIND_LINKS": "/opt/wheels",
        "PIP_INDEX_URL": "https://pypi.example/simple", "VIRTUAL_ENV": "/opt/app/.venv",
        "PYTHONPATH": "/opt/app", "LMI_DELIVERY_WHEEL_SHA256": "0" * 64, "AWS_PROFILE": "x"})
    assert inherited == {"PATH": "/usr/bin", "HOME": "/root"}


def test_a_working_copy_inside_its_source_is_not_copied_into_itself(tmp_path: Path) -> None:
    from lmi_delivery.sandbox.codebuild.source import prepare

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
