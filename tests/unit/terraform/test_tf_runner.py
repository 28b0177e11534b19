"""TerraformRunner with the real embedded Terraform 1.12.2, and with a recording fake binary."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from lmi_delivery.config.model import TerraformSettings
from lmi_delivery.errors import CommandFailed, InputError, OperationFailed
from lmi_delivery.terraform.embedded import write_shim
from lmi_delivery.terraform.invoke import StalePlan, TerraformRunner
from lmi_delivery.terraform.summary import summarize

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "quickstart" / "terraform"
SETTINGS = TerraformSettings(version="1.12.2", working_directory="terraform",
                             var_files=("env/{env}.tfvars",))


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_shim(tmp_path_factory.mktemp("bin"))


def _copy_example(root: Path) -> Path:
    # The example keeps its state in an S3 backend; these tests use local state.
    ignore = shutil.ignore_patterns(".terraform*", "*.tfstate*", "backend.tf")
    shutil.copytree(EXAMPLE, root / "terraform", ignore=ignore)
    return root


def _env(root: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(root)}


@pytest.fixture
def repo(tmp_path: Path, shim: Path) -> tuple[TerraformRunner, list[str]]:
    """A fresh, initialised copy of the quickstart root; the lines streamed so far."""
    root = _copy_example(tmp_path)
    lines: list[str] = []
    runner = TerraformRunner(shim, SETTINGS, root, _env(root), "dev", stream=lines.append)
    runner.init()
    return runner, lines


# -- the real Terraform ----------------------------------------------------------------------


def test_plan_show_apply_on_the_quickstart(repo: tuple[TerraformRunner, list[str]]) -> None:
    runner, lines = repo
    assert runner.plugin_cache_dir.is_dir()
    runner.validate()
    assert runner.fmt_check() == []
    runner.plan()
    assert runner.planfile.is_file()
    summary = summarize(runner.show_json())
    assert summary.has_changes
    assert summary.by_address() == {"terraform_data.router_release": "create"}
    assert summary.outputs == {"router_release": "create"}
    assert summary.text() == (
        "Plan: 1 to add, 0 to change, 0 to destroy, 0 to replace. 1 output changed.")

    assert not any(line.startswith('{"format_version"') for line in lines)  # JSON not logged

    runner.apply()
    assert any(line.startswith("Apply complete! Resources: 1 added") for line in lines)
    assert "$ terraform -chdir=terraform apply -input=false -no-color -lock-timeout=300s " \
        "lmi-delivery.tfplan" in lines, "every command line is echoed before it runs"
    runner.plan()
    assert not summarize(runner.show_json()).has_changes


def test_plan_writes_the_plan_file_show_reads(
    repo: tuple[TerraformRunner, list[str]],
) -> None:
    runner, _ = repo
    runner.plan()
    assert summarize(runner.show_json()).has_changes


def test_a_plan_made_stale_by_another_apply_is_refused(
    repo: tuple[TerraformRunner, list[str]],
) -> None:
    runner, _ = repo
    runner.plan()
    older = runner.planfile.read_bytes()
    runner.plan()
    runner.apply()
    runner.planfile.write_bytes(older)
    with pytest.raises(StalePlan, match="Saved plan is stale") as caught:
        runner.apply()
    assert isinstance(caught.value, CommandFailed)
    assert caught.value.returncode == 1
    assert caught.value.argv[1:4] == ["-chdir=terraform", "apply", "-input=false"]


def test_an_invalid_root_raises_command_failed_with_the_stderr_tail(
    repo: tuple[TerraformRunner, list[str]],
) -> None:
    runner, _ = repo
    broken = 'resource "terraform_data" "x" {\n  nope = 1\n}\n'
    (runner.working_dir / "broken.tf").write_text(broken)
    with pytest.raises(CommandFailed) as caught:
        runner.validate()
    assert caught.value.returncode == 1
    assert "Unsupported argument" in str(caught.value)
    assert "-chdir=terraform validate" in str(caught.value)


def test_fmt_check_lists_unformatted_files(tmp_path: Path, shim: Path) -> None:
    root = _copy_example(tmp_path)
    (root / "terraform" / "ugly.tf").write_text('locals {\nx="a"\n}\n')
    runner = TerraformRunner(shim, SETTINGS, root, _env(root), "dev")
    assert runner.fmt_check() == ["ugly.tf"]


def test_missing_var_file_is_invalid_input(tmp_path: Path, shim: Path) -> None:
    root = _copy_example(tmp_path)
    runner = TerraformRunner(shim, SETTINGS, root, _env(root), "qa")
    with pytest.raises(InputError, match=r"env/qa\.tfvars: var file not found"):
        runner.plan()


def test_missing_working_directory_is_invalid_input(tmp_path: Path, shim: Path) -> None:
    runner = TerraformRunner(shim, SETTINGS, tmp_path, _env(tmp_path), "dev")
    with pytest.raises(InputError, match=r"terraform\.working_directory does not exist"):
        runner.init()


# -- a recording fake binary -----------------------------------------------------------------

FAKE = """#!{python}
import json, os, sys
with open(os.environ["FAKE_TF_LOG"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(),
                          "automation": os.environ.get("TF_IN_AUTOMATION"),
                          "plugin_cache": os.environ.get("TF_PLUGIN_CACHE_DIR")}}) + "\\n")
command = [a for a in sys.argv[1:] if not a.startswith("-chdir=")][:1]
if command == ["version"]:
    print(os.environ["FAKE_TF_VERSION_OUTPUT"])
elif command == ["show"]:
    print(json.dumps({{"format_version": "1.2"}}))
elif command == ["apply"] and os.environ.get("FAKE_TF_FAIL"):
    print("\\n".join(f"noise {{i}}" for i in range(30)), file=sys.stderr)
    print("Error: boom", file=sys.stderr)
    sys.exit(1)
"""


class Fake:
    def __init__(self, root: Path, version_output: str, **extra_env: str) -> None:
        self.root = _copy_example(root)
        self.binary = root / "fake" / "terraform"
        self.binary.parent.mkdir()
        self.binary.write_text(FAKE.format(python=sys.executable))
        self.binary.chmod(0o755)
        self.log = root / "calls.jsonl"
        self.env = {**_env(root), "FAKE_TF_LOG": str(self.log),
                    "FAKE_TF_VERSION_OUTPUT": version_output, **extra_env}

    def runner(self, settings: TerraformSettings = SETTINGS, **kwargs: Any) -> TerraformRunner:
        return TerraformRunner(self.binary, settings, self.root, self.env, "dev", **kwargs)

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


V1122 = json.dumps({"terraform_version": "1.12.2", "platform": "linux_amd64"})


def test_a_different_version_is_refused_before_anything_runs(tmp_path: Path) -> None:
    fake = Fake(tmp_path, json.dumps({"terraform_version": "1.5.7"}))
    runner = fake.runner()
    with pytest.raises(OperationFailed, match=r"Terraform 1\.5\.7.*pins 1\.12\.2"):
        runner.init()
    with pytest.raises(OperationFailed):
        runner.plan()
    assert [c["argv"] for c in fake.calls()] == [["version", "-json"]] * 2


def test_version_output_that_is_not_json_is_refused(tmp_path: Path) -> None:
    fake = Fake(tmp_path, "Terraform v1.12.2")
    with pytest.raises(OperationFailed, match="did not report its version as JSON"):
        fake.runner().validate()


def test_every_command_passes_chdir_and_the_automation_flags(tmp_path: Path) -> None:
    fake = Fake(tmp_path, V1122)
    settings = TerraformSettings(
        version="1.12.2", working_directory="terraform", var_files=("env/{env}.tfvars",),
        backend_config=("key={service}/{env}.tfstate", "backend/{env}.hcl"))
    runner = fake.runner(settings, placeholders={"service": "agent-core"})
    (fake.root / "terraform" / "env").mkdir(exist_ok=True)
    (fake.root / "terraform" / "env" / "dev.tfvars").touch()

    runner.init()
    runner.validate()
    runner.fmt_check()
    runner.plan()
    runner.show_json()
    runner.apply()

    calls = fake.calls()
    assert [c["argv"] for c in calls] == [
        ["version", "-json"],
        ["-chdir=terraform", "init", "-input=false", "-no-color",
         "-backend-config=key=agent-core/dev.tfstate", "-backend-config=backend/dev.hcl"],
        ["-chdir=terraform", "validate", "-no-color"],
        ["-chdir=terraform", "fmt", "-check", "-recursive", "-list=true", "-no-color"],
        ["-chdir=terraform", "plan", "-input=false", "-no-color", "-lock-timeout=300s",
         "-var-file=env/dev.tfvars", "-out=lmi-delivery.tfplan"],
        ["-chdir=terraform", "show", "-json", "-no-color", "lmi-delivery.tfplan"],
        ["-chdir=terraform", "apply", "-input=false", "-no-color", "-lock-timeout=300s",
         "lmi-delivery.tfplan"],
    ]
    assert {c["cwd"] for c in calls} == {str(fake.root)}
    assert {c["automation"] for c in calls} == {"1"}
    assert {c["plugin_cache"] for c in calls} == {str(runner.plugin_cache_dir)}
    assert runner.plugin_cache_dir.is_dir()
    assert runner.argv(["terraform", "-chdir=terraform", "output"]) == [
        str(fake.binary), "-chdir=terraform", "output"]


def test_a_step_the_runner_would_not_derive_is_refused_unrun(tmp_path: Path) -> None:
    """A planned step runs only when its argv is the one this runner builds from its config."""
    from lmi_delivery.plan.steps import TerraformCommand

    fake = Fake(tmp_path, V1122)
    runner = fake.runner()
    for argv in (("terraform", "-chdir=elsewhere", "init", "-input=false", "-no-color"),
                 ("terraform", "-chdir=terraform", "apply", "-auto-approve"),
                 ("terraform", "-chdir=terraform", "destroy"), ("terraform",)):
        with pytest.raises(OperationFailed, match="not a command this build derives"):
            runner.run_step(TerraformCommand("codebuild:x", argv, "terraform"))
    assert fake.calls() == []
    runner.run_step(TerraformCommand("codebuild:x", runner.command("validate"), "terraform"))
    assert fake.calls()[-1]["argv"] == ["-chdir=terraform", "validate", "-no-color"]


def test_plugin_cache_dir_comes_from_the_environment(tmp_path: Path) -> None:
    fake = Fake(tmp_path, V1122, TF_PLUGIN_CACHE_DIR=str(tmp_path / "plugins"))
    runner = fake.runner()
    runner.init()
    assert (tmp_path / "plugins").is_dir()
    assert fake.calls()[-1]["plugin_cache"] == str(tmp_path / "plugins")


def test_a_failed_apply_carries_exit_code_and_stderr_tail(tmp_path: Path) -> None:
    fake = Fake(tmp_path, V1122, FAKE_TF_FAIL="1")
    with pytest.raises(CommandFailed) as caught:
        fake.runner().apply()
    assert not isinstance(caught.value, StalePlan)
    assert caught.value.returncode == 1
    assert str(caught.value).endswith("Error: boom")
    assert "noise 0\n" not in str(caught.value)  # only the tail


def test_unknown_placeholder_in_var_files_is_invalid_input(tmp_path: Path) -> None:
    settings = TerraformSettings(version="1.12.2", working_directory="terraform",
                                 var_files=("env/{stage}.tfvars",))
    with pytest.raises(InputError, match=r"terraform.var_files: unknown placeholder \{stage\}"):
        TerraformRunner("terraform", settings, tmp_path, {}, "dev")


def test_the_dry_run_shows_the_commands_the_runner_runs(tmp_path: Path) -> None:
    """`lmi-delivery plan` prints Terraform commands; the runner runs exactly those argvs."""
    from lmi_delivery.config import load
    from lmi_delivery.config.naming import values
    from lmi_delivery.plan.planner import terraform_argv
    from lmi_delivery.plan.steps import TerraformCommand

    config = load(Path(__file__).resolve().parents[3] / "examples/quickstart/lmi-delivery.yml")
    env = config.environment("dev")
    fake = Fake(tmp_path, V1122)
    (fake.root / "terraform" / "env").mkdir(parents=True, exist_ok=True)
    (fake.root / "terraform" / "env" / "dev.tfvars").touch()
    runner = TerraformRunner(fake.binary, config.terraform, fake.root, fake.env, "dev",
                             placeholders=values(config, env))
    shown = [terraform_argv(config, env, c)
             for c in ("fmt", "init", "validate", "plan", "show", "apply")]
    for argv in shown:
        runner.run_step(TerraformCommand("codebuild:x", argv, config.terraform.working_directory))
    ran = [c["argv"] for c in fake.calls() if c["argv"][0] != "version"]
    assert ran == [list(a[1:]) for a in shown]
