"""LMI013 in the sandbox: the plan build refuses a plan that deletes a capacity provider while
function versions are still bound to it, before any apply build can start, and passes once
``lmi-delivery prune --retire-capacity-provider`` (the command the refusal names) has run.

The plan is what Terraform would plan after the router moved to a new provider and the old
provider's resource was removed from the code: the old provider deleted, the router updated.
Terraform itself is replaced by a runner that answers ``show -json`` with that plan (the AWS
provider cannot be downloaded offline); everything else is the real plan build against the
sandbox: the gates with the build's Lambda client, the plan store in the sandbox's S3.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prune_world import build, move, name, paced_client, sandbox_environ

from lmi_delivery.cli.commands.prune import prune_command
from lmi_delivery.errors import GateRefused, LmiError
from lmi_delivery.plan.steps import TerraformCommand
from lmi_delivery.sandbox import Sandbox
from lmi_delivery.terraform import build_services, plan_build
from lmi_delivery.terraform.argv import PLAN_FILE
from lmi_delivery.terraform.handoff import PlanStore, StoreSettings, sha256_hex

COMMIT = "c0ffee" * 6 + "abcd"
PLAN = b"a binary plan file"


class PlanningRunner:
    """Terraform's part of the plan build, answering ``show -json`` with a given plan."""

    def __init__(self, working_dir: Path, plan_json: dict[str, Any]) -> None:
        self.working_dir = working_dir
        self.plan_json = plan_json
        self.calls: list[str] = []

    def run_step(self, step: TerraformCommand) -> Any:
        """Record the planned command; ``plan`` writes the plan file, ``show`` answers."""
        command = step.argv[2]
        self.calls.append(command)
        if command == "plan":
            (self.working_dir / PLAN_FILE).write_bytes(PLAN)
        if command == "show":
            return self.plan_json
        return [] if command == "fmt" else None


def _lmi(function: str, provider_arn: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {"execution_environment_memory_gib_per_vcpu": 2,
                              "per_execution_environment_max_concurrency": 8}
    if provider_arn:
        config["capacity_provider_arn"] = provider_arn
    return {"function_name": function, "runtime": "python3.13", "memory_size": 2048,
            "publish": True, "publish_to": "LATEST_PUBLISHED", "vpc_config": [],
            "file_system_config": [], "capacity_provider_config": [
                {"lambda_managed_instances_capacity_provider_config": [config]}]}


def _plan(old: str, old_arn: str, new_arn: str, function: str) -> dict[str, Any]:
    """The old provider deleted (its resource removed), the router moved to the new one."""
    provider = {"name": old, "arn": old_arn, "id": old, "instance_requirements": [
        {"architectures": ["arm64"], "allowed_instance_types": ["m7g.large"]}]}
    return {
        "format_version": "1.2", "terraform_version": "1.12.2",
        "planned_values": {"root_module": {"resources": []}},
        "resource_changes": [
            {"address": "aws_lambda_capacity_provider.old", "mode": "managed",
             "type": "aws_lambda_capacity_provider", "name": "old",
             "provider_name": "registry.terraform.io/hashicorp/aws",
             "change": {"actions": ["delete"], "before": provider, "after": None,
                        "after_unknown": {}, "before_sensitive": {}, "after_sensitive": False},
             "action_reason": "delete_because_no_resource_config"},
            {"address": "aws_lambda_function.router", "mode": "managed",
             "type": "aws_lambda_function", "name": "router",
             "provider_name": "registry.terraform.io/hashicorp/aws",
             "change": {"actions": ["update"], "before": _lmi(function, old_arn),
                        "after": _lmi(function, new_arn),
                        "after_unknown": {"last_modified": True, "version": True},
                        "before_sensitive": {}, "after_sensitive": {}}},
        ],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_lambda_function.router", "mode": "managed",
             "type": "aws_lambda_function", "name": "router", "expressions": {}}]}},
    }


def _prune(sandbox: Sandbox, config: Path, command: str) -> int:
    """Run the command the refusal names, as a user would (plus where the config is)."""
    argv = shlex.split(command)
    assert argv[:2] == ["lmi-delivery", "prune"]
    result = CliRunner().invoke(prune_command, [*argv[2:], "--config", str(config)],
                                env=sandbox_environ(sandbox))
    error = result.exception
    if isinstance(error, LmiError):
        return error.exit_code
    assert error is None or isinstance(error, SystemExit), result.output
    return result.exit_code


def test_deleting_a_provider_with_bound_versions_is_refused_until_retired(
        sandbox: Sandbox, tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=2, versions=3, per_provider=1,
                  protections=False)
    old, function = world.provider_name("cp0"), name("f0")
    move(sandbox, function, world.providers["cp1"])  # $LATEST moved; versions 1-3 stay bound
    (tmp_path / "terraform" / "main.tf").write_text("# planned by the test\n")
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="pw-artifacts")
    env = world.env
    runner = PlanningRunner(tmp_path / "terraform",
                            _plan(old, world.providers["cp0"], world.providers["cp1"],
                                  function))
    said: list[str] = []
    services = build_services.BuildServices(
        world.config, env, COMMIT, PlanStore(s3, StoreSettings.of(world.config)),
        runner,  # type: ignore[arg-type]  # Terraform's part, faked
        event="push", mode="deploy", build_id="pw-dev-plan:1", say=said.append,
        environ={}, lambda_client=paced_client(sandbox))
    location = services.location("deploy")

    with pytest.raises(GateRefused, match="LMI013") as refused:
        plan_build.plan_build(services)

    message = str(refused.value)
    assert f"the plan deletes capacity provider {old}, but 3 function version(s) are still " \
        f"bound to it ({function}:1, {function}:2, {function}:3)" in message
    assert "To delete this capacity provider, first remove its association" in message
    command = re.search(r"Run `([^`]+)`", message)
    assert command is not None
    assert command.group(1) == f"lmi-delivery prune --env dev --retire-capacity-provider {old}"
    assert any("LMI013" in line for line in said), "the finding is in the build log"
    assert s3.list_objects_v2(Bucket=location.bucket)["KeyCount"] == 0, \
        "nothing is stored: no apply build can start"
    assert "apply" not in runner.calls

    assert _prune(sandbox, world.config_path, command.group(1)) == 0

    outcome = plan_build.plan_build(services)
    assert outcome.metadata.plan_sha256 == sha256_hex(PLAN)
    assert services.store.plan(location, sha256_hex(PLAN)) == PLAN
    lam = sandbox.client("lambda", max_attempts=3)
    lam.delete_capacity_provider(CapacityProviderName=old)  # what the apply would do: it can


def test_without_aws_access_the_plan_build_warns_and_passes(sandbox: Sandbox,
                                                            tmp_path: Path) -> None:
    world = build(sandbox, tmp_path, functions=2, versions=3, per_provider=1,
                  protections=False)
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="pw-artifacts")
    said: list[str] = []
    services = build_services.BuildServices(
        world.config, world.env, COMMIT, PlanStore(s3, StoreSettings.of(world.config)),
        PlanningRunner(tmp_path / "terraform", _plan(
            world.provider_name("cp0"), world.providers["cp0"], world.providers["cp1"],
            name("f0"))),  # type: ignore[arg-type]  # Terraform's part, faked
        event="push", mode="deploy", build_id="pw-dev-plan:1", say=said.append, environ={})
    plan_build.plan_build(services)
    warning = next(line for line in said if "LMI013" in line)
    assert "they cannot be listed here (no AWS access)" in warning
    assert warning.endswith("[advisory: not blocking]")
