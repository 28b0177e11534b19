"""``load``: the fixtures under tests/data/config, the examples, and the whole contract."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from config_helpers import BASE, WriteConfig

from lmi_delivery.config import load
from lmi_delivery.config.model import NOTIFY_EVENTS, Config, Scaling
from lmi_delivery.errors import ConfigError, InputError, Location

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data" / "config"
INVALID = sorted(p for p in (DATA / "invalid").iterdir() if p.suffix in (".yml", ".yaml"))
VALID = sorted((DATA / "valid").glob("*.yml"))
EXAMPLES = sorted(ROOT.glob("examples/*/lmi-delivery.yml"))


def expectations(fixture: Path) -> list[tuple[str, str]]:
    """``(LINE:COL, message)`` pairs from ``# expect:`` lines or a ``.expect`` sidecar."""
    sidecar = fixture.with_name(fixture.name + ".expect")
    if sidecar.exists():
        lines = sidecar.read_text(encoding="utf-8").splitlines()
    else:
        lines = [line.removeprefix("# expect: ")
                 for line in fixture.read_text(encoding="utf-8").splitlines()
                 if line.startswith("# expect: ")]
    pairs = [tuple(line.split(" ", 1)) for line in lines if line.strip()]
    return [(where, message) for where, message in pairs]


def test_there_is_an_invalid_fixture_for_every_rule() -> None:
    assert len(INVALID) >= 25
    names = {p.stem for p in INVALID}
    for needed in ("yaml-syntax-error", "yaml-duplicate-key", "yaml-anchor-alias",
                   "yaml-merge-key", "schema-misspelt-key", "empty", "non-utf8",
                   "is-a-directory", "schema-wrong-type-integer"):
        assert needed in names


@pytest.mark.parametrize("fixture", INVALID, ids=[p.name for p in INVALID])
def test_invalid_fixture(fixture: Path) -> None:
    expected = expectations(fixture)
    assert expected, f"{fixture.name} has no '# expect: LINE:COL message' line"
    with pytest.raises(ConfigError) as info:
        load(fixture)
    found = info.value.diagnostics
    got = [(f"{d.location.line}:{d.location.column}" if d.location.line else "-", d.message)
           for d in found]
    assert len(got) == len(expected), "\n".join(str(d) for d in found)
    for (where, message), (got_where, got_message) in zip(expected, got, strict=True):
        assert got_where == where, got_message
        assert message in got_message
    assert all(d.location.file == str(fixture) for d in found)
    printed = str(info.value).splitlines()[0]
    assert printed.startswith(f"{fixture}:{expected[0][0]}: " if expected[0][0] != "-"
                              else f"{fixture}: ")


@pytest.mark.parametrize("fixture", VALID, ids=[p.name for p in VALID])
def test_valid_fixture(fixture: Path) -> None:
    config = load(fixture)
    assert config.root == fixture.parent
    assert config.digest == hashlib.sha256(fixture.read_bytes()).hexdigest()


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_examples_load_cleanly(example: Path) -> None:
    config = load(example)
    assert config.environments
    assert config.functions


def test_there_are_two_examples() -> None:
    assert {p.parent.name for p in EXAMPLES} >= {"quickstart", "agent-platform"}


def test_agent_platform_example_matches_the_design() -> None:
    config = load(ROOT / "examples" / "agent-platform" / "lmi-delivery.yml")
    assert config.service == "agent-core"
    assert {n: (e.branch, e.apply) for n, e in config.environments.items()} == {
        "dev": ("dev", "auto"), "qa": ("qa", "approval"), "prod": ("main", "approval")}
    router = config.functions["clm-router"]
    assert router.scaling == Scaling(min=3, max=12)
    assert router.warm is not None
    assert (router.warm.concurrency, router.warm.schedule) == (8, "rate(5 minutes)")
    assert config.gates.validation.unsupported_azs == ("us-east-1e",)


def test_full_fixture_builds_the_exact_model() -> None:
    config = load(DATA / "valid" / "full.yml")
    assert config.terraform.backend_config == ("key={service}/{env}/terraform.tfstate",
                                               "region={region}")
    assert config.codebuild.poll_interval_seconds == 2.5
    assert config.codebuild.projects["post_deploy"] == "{service}-{env}-post"
    assert config.environments["qa"].role_arn == (
        "arn:aws:iam::222222222222:role/delivery/agent-core-deployer")
    assert config.environments["dev"].account_id == "111111111111"
    assert config.capacity_providers["shared"].name is None
    assert config.functions["standard"].capacity_provider is None
    assert config.functions["clm-router"].alias == "current"
    assert config.post_deploy.steps == ("publish", "alias", "prune")
    assert config.post_deploy.prune_keep == 5
    assert config.post_deploy.prune_scope == "capacity-provider"
    assert config.post_deploy.history_keep == 4
    waiver = config.gates.security.waivers[0]
    assert waiver.expires == "2026-12-31"
    assert config.gates.security.scanners == ("checkov", "trivy")
    slack, hook = config.notifications
    assert (slack.kind, slack.url, slack.events) == (
        "slack", "ssm:/{service}/{env}/slack-webhook", NOTIFY_EVENTS)
    assert (hook.kind, hook.events) == ("webhook", ("apply-failed", "rollback",
                                                    "canary-rolled-back"))
    assert config.location("functions", "clm-router", "scaling", "max") == Location(
        str(DATA / "valid" / "full.yml"), 39, 28)
    assert config.location("functions", "clm-router", "nope") == config.location(
        "functions", "clm-router")


def test_minimal_fixture_takes_every_default() -> None:
    config = load(DATA / "valid" / "minimal.yml")
    assert config.naming == "{service}-{env}-{name}"
    assert config.terraform.version == "1.12.2"
    assert config.codebuild.projects == {"plan": "{service}-{env}-tf-plan",
                                         "apply": "{service}-{env}-tf-apply",
                                         "post_deploy": "{service}-{env}-post-deploy",
                                         "review": "{service}-{env}-tf-review"}
    assert config.codebuild.poll_interval_seconds == 5.0
    assert config.environments["prod"].apply == "approval"
    assert (config.post_deploy.prune_scope, config.post_deploy.history_keep) == ("config", 2)
    assert config == Config(**{**config.__dict__})


def test_load_accepts_str_and_pathlike(write_config: WriteConfig) -> None:
    path = write_config(BASE)
    assert load(str(path)).digest == load(path).digest


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "nope.yml")
    assert str(info.value) == f"{tmp_path / 'nope.yml'}: no such file"


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"c\.yml:1:1: the file is empty"):
        load(tmp_path / "c.yml")


def test_oversized_file(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_bytes(b"# x\n" * 300_000)
    with pytest.raises(ConfigError, match="larger than"):
        load(tmp_path / "c.yml")


def test_errors_are_input_errors_with_exit_code_2(tmp_path: Path) -> None:
    shutil.copytree(DATA / "invalid" / "terraform", tmp_path / "terraform")
    (tmp_path / "c.yml").write_text("version: [\n")
    with pytest.raises(InputError) as info:
        load(tmp_path / "c.yml")
    assert info.value.exit_code == 2


def test_schema_errors_stop_before_semantic_checks(write_config: WriteConfig) -> None:
    text = BASE.replace("version: 1", "version: 2").replace("working_directory: terraform",
                                                           "working_directory: missing")
    with pytest.raises(ConfigError) as info:
        load(write_config(text))
    assert [d.path for d in info.value.diagnostics] == ["version"]


# A %YAML directive ruamel.yaml cannot read once failed an assertion inside it: exit 1, an
# "internal error", instead of a located ConfigError (found by tests/unit/config/test_properties).
DIRECTIVES = [
    ("%YAML 1.11\n---\n", "1:7", "unsupported YAML version 1.11 in the %YAML directive"),
    ("%YAML 1.3\n---\n", "1:7", "unsupported YAML version 1.3 in the %YAML directive"),
    ("%YAML 1.0\n---\n", "1:7", "unsupported YAML version 1.0 in the %YAML directive"),
    ("%YAML   2.0\n---\n", "1:9", "unsupported YAML version 2.0 in the %YAML directive"),
    ("%YAML 1.11\n", "1:7", "unsupported YAML version 1.11"),  # no document start marker
    ("%YAML 1.2\n%YAML 1.2\n---\n", "2:1", "found duplicate YAML directive"),
    ("%YAML 1.x\n---\n", "1:9", "expected a digit, but found 'x'"),
    ("%YAML\n---\n", "1:6", "expected a digit, but found '\\n'"),
    ("%TAG !s! tag:yaml.org,2002:\n%TAG !s! tag:x,2000:\n---\n", "2:1",
     "duplicate tag handle '!s!'"),
]


@pytest.mark.parametrize(("directives", "where", "message"), DIRECTIVES,
                         ids=["1.11", "1.3", "1.0", "2.0", "1.11-no-start-marker",
                              "duplicate", "not-a-number", "no-version", "duplicate-tag"])
def test_a_bad_yaml_directive_is_a_located_config_error(
        write_config: WriteConfig, directives: str, where: str, message: str) -> None:
    path = write_config(directives + BASE)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.exit_code == 2
    (found,) = info.value.diagnostics
    assert f"{found.location.line}:{found.location.column}" == where
    assert message in found.message
    assert str(info.value).startswith(f"{path}:{where}: invalid YAML: ")


def test_a_later_documents_bad_directive_is_located_too(write_config: WriteConfig) -> None:
    path = write_config(BASE + "...\n%YAML 1.9\n---\nb: 1\n")
    line = BASE.count("\n") + 2
    with pytest.raises(ConfigError, match=rf":{line}:7: invalid YAML: .*unsupported YAML "
                                          r"version 1\.9"):
        load(path)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_the_yaml_versions_ruamel_reads_are_accepted(write_config: WriteConfig,
                                                     version: str) -> None:
    assert load(write_config(f"%YAML {version}\n---\n" + BASE)).service == "shop"
