"""The plan hand-off: metadata, verification, the store and the apply build's refusals.

The store runs against the sandbox's S3 (conditional writes, SSE-KMS, tags); the plan build's
CodeBuild record is a fake ``BatchGetBuilds`` answer, git a fake lineage, Terraform a recording
fake runner: a refused plan must never reach ``init`` or ``apply``. The real Terraform and the
sandbox's CodeBuild run in the functional tests.
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
from lmi_delivery.plan.steps import TerraformCommand
from lmi_delivery.sandbox.server import Sandbox
from lmi_delivery.terraform import apply_build, build_services, plan_build
from lmi_delivery.terraform.argv import PLAN_FILE
from lmi_delivery.terraform.handoff import (
    SCHEMA_VERSION,
    ApplyRecord,
    PlanBinding,
    PlanLocation,
    PlanMetadata,
    PlanStore,
    StoreSettings,
    sha256_hex,
    verify,
)

REPO = Path(__file__).resolve().parents[3]
QUICKSTART = REPO / "examples" / "quickstart" / "lmi-delivery.yml"
COMMIT = "a" * 40
OTHER = "b" * 40
PLAN = b"PK\x03\x04 a plan file"
SHA = sha256_hex(PLAN)
SUMMARY = {"text": "Plan: 1 to add, 0 to change, 0 to destroy, 0 to replace.", "has_changes": True}
PLAN_BUILD = "quickstart-dev-tf-plan:1"


@pytest.fixture(scope="module")
def config() -> Config:
    return load(QUICKSTART)


@pytest.fixture
def store(sandbox: Sandbox, config: Config) -> PlanStore:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=PlanLocation.of(config, config.environment("dev"), COMMIT).bucket)
    return PlanStore(s3)


def _metadata(config: Config, env: str = "dev", commit: str = COMMIT, plan: bytes = PLAN,
              kind: Any = "deploy") -> tuple[PlanLocation, PlanMetadata]:
    environment = config.environment(env)
    location = PlanLocation.of(config, environment, commit, kind)
    binding = PlanBinding.of(config, environment, commit)
    return location, PlanMetadata.build(
        binding, plan, location.url(location.plan_key(sha256_hex(plan))),
        created_at="2026-01-02T03:04:05Z", summary=SUMMARY, kind=kind, event="push",
        build_id=PLAN_BUILD)


# -- keys and metadata --------------------------------------------------------------------------


def test_keys_are_content_addressed_and_review_plans_live_apart(config: Config) -> None:
    dev = config.environment("dev")
    deploy = PlanLocation.of(config, dev, COMMIT)
    review = PlanLocation.of(config, dev, COMMIT, "review")
    assert (deploy.bucket, deploy.plan_key(SHA), deploy.metadata_key(SHA)) == (
        "quickstart-delivery-artifacts", f"plans/quickstart/dev/{COMMIT}/{SHA}.tfplan",
        f"plans/quickstart/dev/{COMMIT}/{SHA}.json")
    assert review.plan_key(SHA) == f"reviews/quickstart/dev/{COMMIT}/{SHA}.tfplan"


def test_metadata_records_the_binding_the_file_and_its_kind(config: Config) -> None:
    location, metadata = _metadata(config)
    document = json.loads(metadata.to_json())
    assert document == {
        "schema_version": SCHEMA_VERSION, "service": "quickstart", "environment": "dev",
        "commit": COMMIT, "working_directory": "terraform", "terraform_version": "1.12.2",
        "config_digest": config.digest, "plan_sha256": SHA,
        "plan_size": len(PLAN), "plan_url": location.url(location.plan_key(SHA)),
        "created_at": "2026-01-02T03:04:05Z", "build_id": PLAN_BUILD, "kind": "deploy",
        "event": "push", "summary": SUMMARY,
    }
    assert PlanMetadata.from_json(metadata.to_json(), "here") == metadata


@pytest.mark.parametrize(("document", "message"), [
    (b"not json", "is not valid JSON"),
    (b"[1, 2]", "is not a JSON object"),
    (b'{"schema_version": 1}', "schema_version 1 is not 2"),
])
def test_malformed_metadata_is_refused(document: bytes, message: str) -> None:
    with pytest.raises(GateRefused, match=message):
        PlanMetadata.from_json(document, "s3://b/k")


@pytest.mark.parametrize(("field", "value"), [("plan_sha256", None), ("plan_size", "12"),
                                              ("commit", 7), ("summary", []),
                                              ("plan_size", True), ("kind", None)])
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
    verify(metadata, PLAN, PlanBinding.of(config, config.environment("dev"), COMMIT), SHA)


def test_a_file_that_does_not_hash_to_the_plan_builds_sha_is_refused(config: Config) -> None:
    _, metadata = _metadata(config)
    expected = PlanBinding.of(config, config.environment("dev"), COMMIT)
    with pytest.raises(GateRefused, match=r"is not the .* the plan build exported") as caught:
        verify(metadata, PLAN + b"!", expected, SHA)
    assert caught.value.exit_code == 3
    # Rewriting the metadata to the new bytes does not help: the sha comes from CodeBuild.
    _, forged = _metadata(config, plan=PLAN + b"!")
    with pytest.raises(GateRefused, match="the plan build exported"):
        verify(forged, PLAN + b"!", expected, SHA)


def test_a_review_plan_never_verifies(config: Config) -> None:
    _, metadata = _metadata(config, kind="review")
    with pytest.raises(GateRefused, match="it is a review plan"):
        verify(metadata, PLAN, PlanBinding.of(config, config.environment("dev"), COMMIT), SHA)


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
        verify(metadata, PLAN, expected, SHA)


def test_all_problems_are_reported_at_once(config: Config) -> None:
    _, metadata = _metadata(config)
    expected = PlanBinding.of(config, config.environment("prod"), OTHER)
    with pytest.raises(GateRefused) as caught:
        verify(metadata, b"other bytes", expected, SHA)
    assert len(caught.value.context["problems"]) == 4  # type: ignore[arg-type]  # a list


# -- the store ----------------------------------------------------------------------------------


def test_save_then_load_returns_the_same_bytes(config: Config, store: PlanStore) -> None:
    location, metadata = _metadata(config)
    assert store.metadata(location, SHA) is None
    assert store.plan(location, SHA) is None
    store.save(location, PLAN, metadata)
    assert store.plan(location, SHA) == PLAN
    assert store.metadata(location, SHA) == metadata


def test_stored_plans_are_never_overwritten_encrypted_and_tagged(
        config: Config, sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    location, metadata = _metadata(config)
    s3.create_bucket(Bucket=location.bucket)
    store = PlanStore(s3, StoreSettings(kms_key="alias/plans", retention_days=7))
    store.save(location, PLAN, metadata)
    key = location.plan_key(SHA)
    head = s3.head_object(Bucket=location.bucket, Key=key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", "alias/plans")
    tags = {t["Key"]: t["Value"] for t in
            s3.get_object_tagging(Bucket=location.bucket, Key=key)["TagSet"]}
    assert tags == {"lmi-delivery-expires-after-days": "7", "lmi-delivery-plan": "deploy"}
    # Someone else's bytes at the key: the store refuses instead of overwriting or trusting.
    s3.delete_object(Bucket=location.bucket, Key=key)
    s3.put_object(Bucket=location.bucket, Key=key, Body=b"forged")
    with pytest.raises(GateRefused, match="already holds other bytes"):
        store.save(location, PLAN, metadata)
    assert s3.get_object(Bucket=location.bucket, Key=key)["Body"].read() == b"forged"


def test_the_apply_history_is_appended_never_rewritten(config: Config, store: PlanStore) -> None:
    dev = config.environment("dev")
    record = ApplyRecord("dev", COMMIT, SHA, PLAN_BUILD, "apply:1", "2026-01-02T05:00:00Z")
    bucket = PlanLocation.of(config, dev, COMMIT).bucket
    from lmi_delivery.terraform.handoff import history_prefix, record_key

    key = record_key(config, dev, record)
    assert key == f"plans/quickstart/dev/applied/20260102T050000Z-{SHA}.json"
    store.append(bucket, key, record)
    with pytest.raises(GateRefused, match="never rewritten"):
        store.append(bucket, key, dataclasses.replace(record, commit=OTHER))
    assert store.history(bucket, history_prefix(config, dev)) == [record]


def test_an_s3_failure_is_an_operation_error_not_a_missing_plan(config: Config,
                                                                 sandbox: Sandbox) -> None:
    from lmi_delivery.errors import AwsError

    location, _ = _metadata(config)
    with pytest.raises(AwsError, match="GetObject failed: NoSuchBucket"):
        PlanStore(sandbox.client("s3")).metadata(location, SHA)


# -- the apply build's refusals, with fakes -----------------------------------------------------


class FakeRunner:
    def __init__(self, working_dir: Path, unformatted: tuple[str, ...] = ()) -> None:
        self.working_dir = working_dir
        self.unformatted = list(unformatted)
        self.calls: list[str] = []

    def run_step(self, step: TerraformCommand) -> Any:
        """Record the planned command (the apply with the bytes it would apply)."""
        command = step.argv[2]
        if command == "fmt":
            self.calls.append("fmt")
            return self.unformatted
        if command == "apply":
            planfile = self.working_dir / PLAN_FILE
            self.calls.append(f"apply {planfile.name} {sha256_hex(planfile.read_bytes())}")
            return None
        self.calls.append(command)
        return None


class FakeCodeBuild:
    """``BatchGetBuilds`` of one plan build, as CodeBuild would record it."""

    def __init__(self, **changes: Any) -> None:
        self.build: dict[str, Any] = {
            "id": PLAN_BUILD, "projectName": "quickstart-dev-tf-plan",
            "buildStatus": "SUCCEEDED", "resolvedSourceVersion": COMMIT,
            "environment": {"environmentVariables": [
                {"name": "LMI_DELIVERY_MODE", "value": "deploy", "type": "PLAINTEXT"},
                {"name": "LMI_DELIVERY_EVENT", "value": "push", "type": "PLAINTEXT"}]},
            "exportedEnvironmentVariables": [{"name": "LMI_PLAN_SHA256", "value": SHA},
                                             {"name": "LMI_PLAN_KIND", "value": "deploy"}],
            **changes}

    def batch_get_builds(self, ids: list[str]) -> dict[str, Any]:
        return {"builds": [self.build] if ids == [self.build["id"]] else []}


def _services(config: Config, store: PlanStore, runner: FakeRunner, *, commit: str = COMMIT,
              apply: ApplyMode = "auto", event: str = "push", head: str | None = COMMIT,
              codebuild: Any = None, descends: bool | None = True,
              claim: tuple[str, str] = (PLAN_BUILD, SHA)) -> build_services.BuildServices:
    env = dataclasses.replace(config.environment("dev"), apply=apply)
    return build_services.BuildServices(
        config, env, commit, store, runner,  # type: ignore[arg-type]  # a fake runner
        event=event, mode=build_services.mode_of(event, None), build_id="quickstart-dev-tf-apply:1",
        clock=lambda: datetime(2026, 1, 2, 5, tzinfo=UTC),
        environ={"LMI_PLAN_BUILD_ID": claim[0], "LMI_PLAN_SHA256": claim[1]},
        codebuild=codebuild or FakeCodeBuild(),
        branch_head=lambda branch: head, is_ancestor=lambda older, newer: descends)


def test_apply_without_a_stored_plan_is_refused_before_terraform(
        config: Config, store: PlanStore, tmp_path: Path) -> None:
    runner = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match=f"plan build {PLAN_BUILD} vouches for sha256 {SHA}, "
                                          "but .* is missing: expired or never stored"):
        apply_build.apply_build(_services(config, store, runner))
    assert runner.calls == []


def test_apply_applies_the_verified_bytes_once(config: Config, store: PlanStore,
                                              tmp_path: Path) -> None:
    location, metadata = _metadata(config)
    store.save(location, PLAN, metadata)
    runner = FakeRunner(tmp_path)
    outcome = apply_build.apply_build(_services(config, store, runner))
    assert runner.calls == ["init", f"apply lmi-delivery.tfplan {SHA}"]
    assert outcome.record == ApplyRecord("dev", COMMIT, SHA, PLAN_BUILD,
                                         "quickstart-dev-tf-apply:1", "2026-01-02T05:00:00Z")
    assert outcome.exports()["LMI_APPLIED_PLAN_SHA256"] == SHA

    again = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match="was already applied at 2026-01-02T05:00:00Z by "
                                          "build quickstart-dev-tf-apply:1"):
        apply_build.apply_build(_services(config, store, again))
    assert again.calls == []


@pytest.mark.parametrize(("changes", "message"), [
    ({"projectName": "quickstart-dev-tf-review"}, "ran in project 'quickstart-dev-tf-review'"),
    ({"buildStatus": "FAILED"}, "its status is FAILED"),
    ({"resolvedSourceVersion": OTHER}, f"it planned commit {OTHER}"),
    ({"environment": {"environmentVariables": [
        {"name": "LMI_DELIVERY_MODE", "value": "review", "type": "PLAINTEXT"},
        {"name": "LMI_DELIVERY_EVENT", "value": "pull_request", "type": "PLAINTEXT"}]}},
     "started for a pull_request event in review mode"),
    ({"exportedEnvironmentVariables": [{"name": "LMI_PLAN_SHA256", "value": "c" * 64},
                                       {"name": "LMI_PLAN_KIND", "value": "deploy"}]},
     f"it exported plan sha256 {'c' * 64}"),
])
def test_a_plan_build_that_does_not_vouch_is_refused(
        config: Config, store: PlanStore, tmp_path: Path, changes: dict[str, Any],
        message: str) -> None:
    location, metadata = _metadata(config)
    store.save(location, PLAN, metadata)
    runner = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match=message):
        apply_build.apply_build(
            _services(config, store, runner, codebuild=FakeCodeBuild(**changes)))
    assert runner.calls == []


@pytest.mark.parametrize("event", ["pull_request", "pull_request_target", "merge_group",
                                   "schedule", ""])
def test_apply_never_runs_for_a_non_deploy_event(config: Config, store: PlanStore,
                                                 tmp_path: Path, event: str) -> None:
    location, metadata = _metadata(config)
    store.save(location, PLAN, metadata)
    runner = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match="apply never runs for a"):
        apply_build.apply_build(_services(config, store, runner, event=event))
    assert runner.calls == []


def test_a_commit_that_is_not_the_branch_head_or_is_older_is_refused(
        config: Config, store: PlanStore, tmp_path: Path) -> None:
    location, metadata = _metadata(config)
    store.save(location, PLAN, metadata)
    runner = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match=f"is not the head of dev \\({OTHER} is\\)"):
        apply_build.apply_build(_services(config, store, runner, head=OTHER))
    with pytest.raises(GateRefused, match="cannot read the head of branch dev"):
        apply_build.apply_build(_services(config, store, runner, head=None))
    newer = ApplyRecord("dev", OTHER, "d" * 64, "p:0", "a:0", "2026-01-01T00:00:00Z")
    from lmi_delivery.terraform.handoff import history_prefix, record_key

    dev = config.environment("dev")
    store.append(location.bucket, record_key(config, dev, newer), newer)
    with pytest.raises(GateRefused, match=f"older than \\(or not a descendant of\\) the last "
                                          f"applied commit {OTHER}"):
        apply_build.apply_build(_services(config, store, runner, descends=False))
    with pytest.raises(GateRefused, match="cannot prove"):
        apply_build.apply_build(_services(config, store, runner, descends=None))
    assert runner.calls == []
    allowed = dataclasses.replace(_services(config, store, runner, descends=False, head=OTHER),
                                  allow_older=True)
    assert apply_build.apply_build(allowed).record.allow_older is True
    history = store.history(location.bucket, history_prefix(config, dev))
    assert [r.commit for r in history] == [OTHER, COMMIT]


def test_an_environment_that_never_applies_is_refused(config: Config, store: PlanStore,
                                                      tmp_path: Path) -> None:
    runner = FakeRunner(tmp_path)
    with pytest.raises(GateRefused, match="environment dev has apply: never"):
        apply_build.apply_build(_services(config, store, runner, apply="never"))
    assert runner.calls == []


def test_the_plan_build_refuses_unformatted_terraform_before_init(
        config: Config, store: PlanStore, tmp_path: Path) -> None:
    runner = FakeRunner(tmp_path, unformatted=("main.tf",))
    with pytest.raises(GateRefused, match=r"terraform fmt would change 1 file\(s\) in "
                                          "terraform: main.tf"):
        plan_build.plan_build(dataclasses.replace(_services(config, store, runner),
                                              build_id=PLAN_BUILD))
    assert runner.calls == ["fmt"]


@pytest.mark.parametrize(("event", "project", "message"), [
    ("pull_request", "quickstart-dev-tf-plan", "never in the plan project"),
    ("push", "quickstart-dev-tf-review", "a deploy plan is made only by the plan project"),
])
def test_deploy_plans_come_only_from_the_plan_project(
        config: Config, store: PlanStore, tmp_path: Path, event: str, project: str,
        message: str) -> None:
    runner = FakeRunner(tmp_path)
    services = dataclasses.replace(_services(config, store, runner, event=event),
                                   build_id=f"{project}:1")
    with pytest.raises(GateRefused, match=message):
        plan_build.plan_build(services)
    assert runner.calls == []


def test_a_deploy_mode_is_refused_for_a_pull_request_event() -> None:
    with pytest.raises(GateRefused, match="a pull_request event never makes a deploy plan"):
        build_services.mode_of("pull_request", "deploy")
    assert build_services.mode_of("pull_request", None) == "review"
    assert build_services.mode_of("schedule", None) == "drift"
    assert build_services.mode_of("push", None) == "deploy"


# -- the commit a build is for ------------------------------------------------------------------


def test_the_commit_comes_from_codebuild_and_every_claim_must_agree() -> None:
    checked_out = {build_services.CHECKED_OUT: COMMIT}
    assert build_services.resolve_commit(None, checked_out) == COMMIT
    agreeing = {**checked_out, build_services.REQUESTED: COMMIT}
    assert build_services.resolve_commit(COMMIT.upper(), agreeing) == COMMIT
    assert build_services.resolve_commit(None, {build_services.REQUESTED: OTHER}) == OTHER
    with pytest.raises(GateRefused, match="conflicting commits"):
        build_services.resolve_commit(None, {**checked_out, build_services.REQUESTED: OTHER})
    with pytest.raises(GateRefused, match="conflicting commits"):
        build_services.resolve_commit(OTHER, checked_out)


@pytest.mark.parametrize(("flag", "environ", "message"), [
    (None, {}, "no commit: pass --commit"),
    ("main", {}, "is not a full git commit id"),
    ("../" + "a" * 37, {}, "is not a full git commit id"),
])
def test_a_missing_or_malformed_commit_is_a_usage_error(flag: str | None,
                                                        environ: dict[str, str],
                                                        message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_services.resolve_commit(flag, environ)


# -- exports ------------------------------------------------------------------------------------


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\0"),
               max_size=80))
def test_exported_values_read_back_as_one_line(value: str) -> None:
    (line,) = build_services.exports_text({"LMI_PLAN_SUMMARY": value}).splitlines()
    key, _, quoted = line.partition("=")
    assert key == "LMI_PLAN_SUMMARY"
    assert shlex.split(quoted) == [" ".join(value.split())]


def test_the_exports_file_can_be_sourced_by_the_buildspec(tmp_path: Path) -> None:
    path = tmp_path / ".lmi-delivery" / "plan.env"
    build_services.write_exports(path, {"LMI_PLAN_SUMMARY": "Plan: 1 to add; $(rm -rf /) `x` 'q'",
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

    def run_step(self, step: TerraformCommand) -> Any:
        command = step.argv[2]
        if command == "plan":
            (self.working_dir / PLAN_FILE).write_bytes(PLAN)
        if command == "show":
            self.calls.append("show")
            return self.plan_json
        return super().run_step(step)


LMI_PLANS = Path(__file__).resolve().parents[2] / "data" / "plans" / "lmi"


def test_a_plan_the_lmi_gate_refuses_is_never_stored(config: Config, store: PlanStore,
                                                     tmp_path: Path) -> None:
    import json

    bad = json.loads((LMI_PLANS / "positive" / "concurrency.json").read_text(encoding="utf-8"))
    said: list[str] = []
    services = dataclasses.replace(_services(config, store, PlanningRunner(tmp_path, bad)),
                                   say=said.append, build_id=PLAN_BUILD)
    with pytest.raises(GateRefused, match="LMI002"):
        plan_build.plan_build(services)
    assert any("LMI002" in line for line in said), "findings are shown in the build log"
    assert store.s3.list_objects_v2(Bucket=services.location("deploy").bucket)["KeyCount"] == 0


def test_a_clean_plan_passes_the_gates_and_is_stored(config: Config, store: PlanStore,
                                                     tmp_path: Path) -> None:
    import json

    good = json.loads(next((LMI_PLANS / "negative").glob("*.json")).read_text(encoding="utf-8"))
    services = dataclasses.replace(_services(config, store, PlanningRunner(tmp_path, good)),
                                   build_id=PLAN_BUILD)
    outcome = plan_build.plan_build(services)
    assert store.plan(services.location("deploy"), SHA) == PLAN
    assert outcome.metadata.plan_sha256 == SHA
    assert outcome.exports()["LMI_PLAN_KIND"] == "deploy"
    review = dataclasses.replace(services, mode="review", event="pull_request",
                                 build_id="quickstart-dev-tf-review:1")
    assert plan_build.plan_build(review).location.kind == "review"
    assert store.plan(services.location("review"), SHA) == PLAN


def test_the_plan_build_runs_only_the_steps_of_its_kind(config: Config, store: PlanStore,
                                                         tmp_path: Path) -> None:
    from lmi_delivery.errors import OperationFailed
    from lmi_delivery.plan.steps import GateCheck, Publish

    services = dataclasses.replace(_services(config, store, FakeRunner(tmp_path)),
                                   build_id=PLAN_BUILD)
    run = plan_build._PlanRun(services, "deploy")
    with pytest.raises(OperationFailed, match="no executor for a publish step"):
        run.step(Publish("codebuild:x", "fn", None))
    with pytest.raises(OperationFailed, match="runs on the plan, before any plan"):
        run.step(GateCheck("codebuild:x", "lmi", "LMI constraints", ""))
    run.plan_json = {"format_version": "1.2", "resource_changes": []}
    with pytest.raises(OperationFailed, match="does not run the setup gate"):
        run.step(GateCheck("codebuild:x", "setup", "delivery setup", ""))


def test_both_gates_report_before_either_refuses(config: Config, store: PlanStore,
                                                 tmp_path: Path) -> None:
    """The LMI gate's refusal waits for the store step: the security gate's findings are shown
    in the same build, and nothing is stored."""
    import json

    bad = json.loads((LMI_PLANS / "positive" / "concurrency.json").read_text(encoding="utf-8"))
    said: list[str] = []
    services = dataclasses.replace(_services(config, store, PlanningRunner(tmp_path, bad)),
                                   say=said.append, build_id=PLAN_BUILD)
    with pytest.raises(GateRefused, match="LMI002"):
        plan_build.plan_build(services)
    steps = [line for line in said if line.startswith("step ")]
    assert [s.split(": ", 1)[1].split(":")[0] for s in steps][-3:] == [
        "check LMI constraints on the plan", "check security rules on the plan",
        "store the deploy plan at s3"]
