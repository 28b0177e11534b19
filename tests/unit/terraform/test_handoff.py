"""The plan hand-off: metadata, its verification, and the store, against the sandbox's S3.

The apply flow's refusals are checked here with a recording fake runner: a refused plan must
never reach ``init`` or ``apply``. The real Terraform runs in the functional tests.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmi_delivery.config import Config, load
from lmi_delivery.config.model import ApplyMode
from lmi_delivery.errors import GateRefused, UsageError
from lmi_delivery.sandbox.server import Sandbox
from lmi_delivery.terraform import builds
from lmi_delivery.terraform.handoff import (
    SCHEMA_VERSION,
    AppliedMarker,
    PlanBinding,
    PlanKeys,
    PlanMetadata,
    PlanStore,
    sha256_hex,
    verify,
)

REPO = Path(__file__).resolve().parents[3]
QUICKSTART = REPO / "examples" / "quickstart" / "lmi-delivery.yml"
COMMIT = "a" * 40
OTHER = "b" * 40
PLAN = b"PK\x03\x04 a plan file"
SUMMARY = {"text": "Plan: 1 to add, 0 to change, 0 to destroy, 0 to replace.", "has_changes": True}


@pytest.fixture(scope="module")
def config() -> Config:
    return load(QUICKSTART)


@pytest.fixture
def store(sandbox: Sandbox, config: Config) -> PlanStore:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=PlanKeys.of(config, config.environment("dev"), COMMIT).bucket)
    return PlanStore(s3)


def _metadata(config: Config, env: str = "dev", commit: str = COMMIT,
              plan: bytes = PLAN) -> tuple[PlanKeys, PlanMetadata]:
    environment = config.environment(env)
    keys = PlanKeys.of(config, environment, commit)
    binding = PlanBinding.of(config, environment, commit)
    return keys, PlanMetadata.build(binding, plan, keys.url(keys.plan),
                                    created_at="2026-01-02T03:04:05Z", summary=SUMMARY,
                                    build_id="quickstart-dev-tf-plan:1")


# -- keys and metadata --------------------------------------------------------------------------


def test_keys_follow_the_naming_rule(config: Config) -> None:
    keys = PlanKeys.of(config, config.environment("dev"), COMMIT)
    base = f"plans/quickstart/dev/{COMMIT}"
    assert (keys.bucket, keys.plan, keys.metadata, keys.applied) == (
        "quickstart-delivery-artifacts", f"{base}/plan.tfplan", f"{base}/plan.json",
        f"{base}/applied.json")


def test_metadata_records_the_binding_and_the_file(config: Config) -> None:
    keys, metadata = _metadata(config)
    document = json.loads(metadata.to_json())
    assert document == {
        "schema_version": SCHEMA_VERSION, "service": "quickstart", "environment": "dev",
        "commit": COMMIT, "working_directory": "terraform", "terraform_version": "1.12.2",
        "config_digest": config.digest, "plan_sha256": sha256_hex(PLAN),
        "plan_size": len(PLAN), "plan_url": keys.url(keys.plan),
        "created_at": "2026-01-02T03:04:05Z", "build_id": "quickstart-dev-tf-plan:1",
        "summary": SUMMARY,
    }
    assert PlanMetadata.from_json(metadata.to_json(), "here") == metadata


@pytest.mark.parametrize(("document", "message"), [
    (b"not json", "is not valid JSON"),
    (b"[1, 2]", "is not a JSON object"),
    (b'{"schema_version": 2}', "schema_version 2 is not 1"),
])
def test_malformed_metadata_is_refused(document: bytes, message: str) -> None:
    with pytest.raises(GateRefused, match=message):
        PlanMetadata.from_json(document, "s3://b/k")


@pytest.mark.parametrize(("field", "value"), [("plan_sha256", None), ("plan_size", "12"),
                                              ("commit", 7), ("summary", []),
                                              ("plan_size", True)])
def test_metadata_with_a_missing_or_mistyped_field_is_refused(
        config: Config, field: str, value: Any) -> None:
    _, metadata = _metadata(config)
    document = json.loads(metadata.to_json())
    document[field] = value
    with pytest.raises(GateRefused, match=f"field '{field}' is missing or not a"):
        PlanMetadata.from_json(json.dumps(document).encode(), "s3://b/k")


# -- verification -------------------------------------------------------------------------------


def test_the_exact_plan_verifies(config: Config) -> None:
    _, metadata = _metadata(config)
    verify(metadata, PLAN, PlanBinding.of(config, config.environment("dev"), COMMIT))


def test_a_changed_plan_file_is_refused(config: Config) -> None:
    _, metadata = _metadata(config)
    expected = PlanBinding.of(config, config.environment("dev"), COMMIT)
    with pytest.raises(GateRefused, match="does not match the metadata's") as caught:
        verify(metadata, PLAN + b"!", expected)
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(("field", "value", "label"), [
    ("commit", OTHER, "commit"), ("environment", "prod", "environment"),
    ("service", "other", "service"), ("working_directory", "infra", "working directory"),
    ("terraform_version", "1.12.1", "Terraform version"),
    ("config_digest", "0" * 64, "config digest"),
])
def test_every_binding_mismatch_is_refused(config: Config, field: str, value: str,
                                           label: str) -> None:
    _, metadata = _metadata(config)
    expected = dataclasses.replace(PlanBinding.of(config, config.environment("dev"), COMMIT),
                                   **{field: value})
    with pytest.raises(GateRefused, match=f"{label}: the plan is for .*, this build is for "
                                          f"'{value}'"):
        verify(metadata, PLAN, expected)


def test_all_problems_are_reported_at_once(config: Config) -> None:
    _, metadata = _metadata(config)
    expected = PlanBinding.of(config, config.environment("prod"), OTHER)
    with pytest.raises(GateRefused) as caught:
        verify(metadata, b"other bytes", expected)
    assert len(caught.value.context["problems"]) == 3  # type: ignore[arg-type]  # a list


# -- the store ----------------------------------------------------------------------------------


def test_save_then_load_returns_the_same_bytes(config: Config, store: PlanStore) -> None:
    keys, metadata = _metadata(config)
    assert store.metadata(keys) is None
    assert store.plan(keys) is None
    store.save(keys, PLAN, metadata)
    assert store.plan(keys) == PLAN
    assert store.metadata(keys) == metadata
    assert store.applied(keys) is None


def test_the_applied_marker_is_separate_and_leaves_the_metadata_alone(
        config: Config, store: PlanStore) -> None:
    keys, metadata = _metadata(config)
    store.save(keys, PLAN, metadata)
    before = store.s3.get_object(Bucket=keys.bucket, Key=keys.metadata)["Body"].read()
    marker = AppliedMarker(metadata.plan_sha256, COMMIT, "dev", "2026-01-02T04:00:00Z", "b:2")
    store.mark_applied(keys, marker)
    assert store.applied(keys) == marker
    assert store.s3.get_object(Bucket=keys.bucket, Key=keys.metadata)["Body"].read() == before


def test_an_s3_failure_is_an_operation_error_not_a_missing_plan(config: Config,
                                                                 sandbox: Sandbox) -> None:
    from lmi_delivery.errors import AwsError

    keys, _ = _metadata(config)
    with pytest.raises(AwsError, match="GetObject failed: NoSuchBucket"):
        PlanStore(sandbox.client("s3")).metadata(keys)


# -- the apply flow's refusals, with a fake runner ----------------------------------------------


class FakeRunner:
    def __init__(self, working_dir: Path, unformatted: tuple[str, ...] = ()) -> None:
        self.working_dir = working_dir
        self.unformatted = list(unformatted)
        self.calls: list[str] = []

    def fmt_check(self) -> list[str]:
        self.calls.append("fmt")
        return self.unformatted

    def init(self) -> None:
        self.calls.append("init")

    def apply(self, planfile: Path) -> None:
        self.calls.append(f"apply {planfile.name} {sha256_hex(planfile.read_bytes())}")


def _services(config: Config, store: PlanStore, runner: FakeRunner,
              commit: str = COMMIT, apply: ApplyMode = "auto") -> builds.Services:
    env = dataclasses.replace(config.environment("dev"), apply=apply)
    return builds.Services(config, env, commit, store, runner,  # type: ignore[arg-type]  # fake
                           PlanKeys.of(config, env, commit), build_id="apply:1",
                           clock=lambda: datetime(2026, 1, 2, 5, tzinfo=UTC))


def test_apply_without_a_plan_is_refused_before_terraform(
        config: Config, store: PlanStore, tmp_path: Path) -> None:
    runner = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match=f"no reviewed plan for dev at {COMMIT}: the plan "
                                          "build for this commit has not run or its artifact "
                                          "expired"):
        builds.apply_build(_services(config, store, runner))
    assert runner.calls == []


def test_apply_applies_the_verified_bytes_once(config: Config, store: PlanStore,
                                              tmp_path: Path) -> None:
    keys, metadata = _metadata(config)
    store.save(keys, PLAN, metadata)
    runner = FakeRunner(tmp_path)
    outcome = builds.apply_build(_services(config, store, runner))
    assert runner.calls == ["init", f"apply lmi-delivery.tfplan {sha256_hex(PLAN)}"]
    assert outcome.marker == AppliedMarker(sha256_hex(PLAN), COMMIT, "dev",
                                           "2026-01-02T05:00:00Z", "apply:1")
    assert outcome.exports()["LMI_APPLIED_PLAN_SHA256"] == sha256_hex(PLAN)

    again = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match="was already applied at 2026-01-02T05:00:00Z by "
                                          "build apply:1"):
        builds.apply_build(_services(config, store, again))
    assert again.calls == []


def test_a_plan_stored_under_another_commit_is_refused(config: Config, store: PlanStore,
                                                      tmp_path: Path) -> None:
    _, metadata = _metadata(config, commit=OTHER)
    keys = PlanKeys.of(config, config.environment("dev"), COMMIT)
    store.save(keys, PLAN, metadata)
    runner = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match=f"commit: the plan is for '{OTHER}'"):
        builds.apply_build(_services(config, store, runner))
    assert runner.calls == []


def test_an_environment_that_never_applies_is_refused(config: Config, store: PlanStore,
                                                      tmp_path: Path) -> None:
    runner = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match="environment dev has apply: never"):
        builds.apply_build(_services(config, store, runner, apply="never"))
    assert runner.calls == []


def test_the_plan_build_refuses_unformatted_terraform_before_init(
        config: Config, store: PlanStore, tmp_path: Path) -> None:
    runner = FakeRunner(tmp_path, unformatted=("main.tf",))
    with pytest.raises(GateRefused, match=r"terraform fmt would change 1 file\(s\) in "
                                          "terraform: main.tf"):
        builds.plan_build(_services(config, store, runner))
    assert runner.calls == ["fmt"]


# -- the commit a build is for ------------------------------------------------------------------


def test_the_commit_comes_from_codebuild_and_every_claim_must_agree() -> None:
    checked_out = {builds.CHECKED_OUT: COMMIT}
    assert builds.resolve_commit(None, checked_out) == COMMIT
    assert builds.resolve_commit(COMMIT.upper(), {**checked_out, builds.REQUESTED: COMMIT}) == (
        COMMIT)
    assert builds.resolve_commit(None, {builds.REQUESTED: OTHER}) == OTHER
    with pytest.raises(GateRefused, match="conflicting commits"):
        builds.resolve_commit(None, {**checked_out, builds.REQUESTED: OTHER})
    with pytest.raises(GateRefused, match="conflicting commits"):
        builds.resolve_commit(OTHER, checked_out)


@pytest.mark.parametrize(("flag", "environ", "message"), [
    (None, {}, "no commit: pass --commit"),
    ("main", {}, "is not a full git commit id"),
    ("../" + "a" * 37, {}, "is not a full git commit id"),
])
def test_a_missing_or_malformed_commit_is_a_usage_error(flag: str | None,
                                                        environ: dict[str, str],
                                                        message: str) -> None:
    with pytest.raises(UsageError, match=message):
        builds.resolve_commit(flag, environ)


# -- exports ------------------------------------------------------------------------------------


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\0"),
               max_size=80))
def test_exported_values_read_back_as_one_line(value: str) -> None:
    (line,) = builds.exports_text({"LMI_PLAN_SUMMARY": value}).splitlines()
    key, _, quoted = line.partition("=")
    assert key == "LMI_PLAN_SUMMARY"
    assert shlex.split(quoted) == [" ".join(value.split())]


def test_the_exports_file_can_be_sourced_by_the_buildspec(tmp_path: Path) -> None:
    path = tmp_path / ".lmi-delivery" / "plan.env"
    builds.write_exports(path, {"LMI_PLAN_SUMMARY": "Plan: 1 to add; $(rm -rf /) `x` 'q'",
                                "LMI_PLAN_SHA256": "ab" * 32})
    out = subprocess.run(["bash", "-c", 'set -a && . "$1" && set +a && '
                                        'printf "%s\\n" "$LMI_PLAN_SUMMARY" "$LMI_PLAN_SHA256"',
                          "bash", str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["Plan: 1 to add; $(rm -rf /) `x` 'q'", "ab" * 32]


# -- the gates run inside the plan build --------------------------------------------------------


class PlanningRunner(FakeRunner):
    """Plans by writing a plan file and answering show -json with a recorded plan document."""

    def __init__(self, working_dir: Path, plan_json: dict[str, object]) -> None:
        super().__init__(working_dir)
        self.plan_json = plan_json

    def validate(self) -> None:
        self.calls.append("validate")

    def plan(self, out: Path) -> bool:
        self.calls.append("plan")
        out.write_bytes(PLAN)
        return True

    def show_json(self, planfile: Path) -> dict[str, object]:
        self.calls.append("show")
        return self.plan_json


LMI_PLANS = Path(__file__).resolve().parents[2] / "data" / "plans" / "lmi"


def test_a_plan_the_lmi_gate_refuses_is_never_stored(config: Config, store: PlanStore,
                                                     tmp_path: Path) -> None:
    import json

    bad = json.loads((LMI_PLANS / "positive" / "concurrency.json").read_text(encoding="utf-8"))
    said: list[str] = []
    services = dataclasses.replace(_services(config, store, PlanningRunner(tmp_path, bad)),
                                   say=said.append)
    with pytest.raises(GateRefused, match="LMI002"):
        builds.plan_build(services)
    assert any("LMI002" in line for line in said), "findings are shown in the build log"
    assert store.metadata(services.keys) is None
    assert store.plan(services.keys) is None


def test_a_clean_plan_passes_the_gates_and_is_stored(config: Config, store: PlanStore,
                                                     tmp_path: Path) -> None:
    import json

    good = json.loads(next((LMI_PLANS / "negative").glob("*.json")).read_text(encoding="utf-8"))
    services = _services(config, store, PlanningRunner(tmp_path, good))
    outcome = builds.plan_build(services)
    assert store.plan(services.keys) == PLAN
    assert outcome.metadata.plan_sha256 == sha256_hex(PLAN)
