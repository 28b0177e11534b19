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
    planfile = runner.root / "dev.tfplan"

    assert runner.plan(planfile, detailed_exitcode=True) is True
    summary = summarize(runner.show_json(planfile))
    assert summary.by_address() == {"terraform_data.router_release": "create"}
    assert summary.outputs == {"router_release": "create"}
    assert summary.text() == (
        "Plan: 1 to add, 0 to change, 0 to destroy, 0 to replace. 1 output changed.")

    assert not any(line.startswith('{"format_version"') for line in lines)  # JSON not logged

    runner.apply(planfile)
    assert any(line.startswith("Apply complete! Resources: 1 added") for line in lines)
    assert runner.plan(runner.root / "again.tfplan", detailed_exitcode=True) is False
    assert runner.plan(runner.root / "again.tfplan") is False


def test_plan_without_detailed_exitcode_reads_the_saved_plan(
    repo: tuple[TerraformRunner, list[str]],
) -> None:
    runner, _ = repo
    assert runner.plan(runner.root / "dev.tfplan") is True


def test_a_plan_made_stale_by_another_apply_is_refused(
    repo: tuple[TerraformRunner, list[str]],
) -> None:
    runner, _ = repo
    older, newer = runner.root / "older.tfplan", runner.root / "newer.tfplan"
    runner.plan(older)
    runner.plan(newer)
    runner.apply(newer)
    with pytest.raises(StalePlan, match="Saved plan is stale") as caught:
        runner.apply(older)
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
        runner.plan(root / "qa.tfplan")


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
command = sys.argv[2:3]
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
        runner.plan(tmp_path / "x.tfplan")
    assert [c["argv"] for c in fake.calls()] == [["-chdir=terraform", "version", "-json"]] * 2


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
    planfile = tmp_path / "dev.tfplan"

    runner.init()
    runner.validate()
    runner.fmt_check()
    runner.plan(planfile, detailed_exitcode=True)
    runner.show_json(planfile)
    runner.apply(planfile)

    calls = fake.calls()
    assert [c["argv"] for c in calls] == [
        ["-chdir=terraform", "version", "-json"],
        ["-chdir=terraform", "init", "-input=false", "-no-color",
         "-backend-config=key=agent-core/dev.tfstate", "-backend-config=backend/dev.hcl"],
        ["-chdir=terraform", "validate", "-no-color"],
        ["-chdir=terraform", "fmt", "-check", "-recursive", "-list=true", "-no-color"],
        ["-chdir=terraform", "plan", "-input=false", "-no-color", "-lock-timeout=300s",
         f"-out={planfile}", "-var-file=env/dev.tfvars", "-detailed-exitcode"],
        ["-chdir=terraform", "show", "-json", "-no-color", str(planfile)],
        ["-chdir=terraform", "apply", "-input=false", "-no-color", "-lock-timeout=300s",
         str(planfile)],
    ]
    assert {c["cwd"] for c in calls} == {str(fake.root)}
    assert {c["automation"] for c in calls} == {"1"}
    assert {c["plugin_cache"] for c in calls} == {str(runner.plugin_cache_dir)}
    assert runner.plugin_cache_dir.is_dir()
    assert runner.argv(["output"]) == [str(fake.binary), "-chdir=terraform", "output"]


def test_on_a_terminal_colour_is_kept(tmp_path: Path) -> None:
    fake = Fake(tmp_path, V1122)
    runner = fake.runner(tty=True)
    runner.validate()
    runner.show_json(tmp_path / "p.tfplan")
    argvs = [c["argv"] for c in fake.calls()]
    assert argvs[1] == ["-chdir=terraform", "validate"]
    assert "-no-color" in argvs[2]  # show -json always: it is parsed, not read


def test_plugin_cache_dir_comes_from_the_environment(tmp_path: Path) -> None:
    fake = Fake(tmp_path, V1122, TF_PLUGIN_CACHE_DIR=str(tmp_path / "plugins"))
    runner = fake.runner()
    runner.init()
    assert (tmp_path / "plugins").is_dir()
    assert fake.calls()[-1]["plugin_cache"] == str(tmp_path / "plugins")


def test_a_failed_apply_carries_exit_code_and_stderr_tail(tmp_path: Path) -> None:
    fake = Fake(tmp_path, V1122, FAKE_TF_FAIL="1")
    with pytest.raises(CommandFailed) as caught:
        fake.runner().apply(tmp_path / "p.tfplan")
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
    """`lmi-delivery plan` prints Terraform commands; the runner must run those, not others."""
    from lmi_delivery.config import load
    from lmi_delivery.config.naming import values
    from lmi_delivery.plan.planner import PLAN_FILE, terraform_argv

    config = load(Path(__file__).resolve().parents[3] / "examples/quickstart/lmi-delivery.yml")
    env = config.environment("dev")
    fake = Fake(tmp_path, V1122)
    (fake.root / "terraform" / "env").mkdir(parents=True, exist_ok=True)
    (fake.root / "terraform" / "env" / "dev.tfvars").touch()
    runner = TerraformRunner(fake.binary, config.terraform, fake.root, fake.env, "dev",
                             placeholders=values(config, env))
    planfile = fake.root / "terraform" / PLAN_FILE
    runner.fmt_check()
    runner.init()
    runner.validate()
    runner.plan(planfile)
    runner.show_json(planfile)
    runner.apply(planfile)

    def normal(argv: list[str] | tuple[str, ...]) -> tuple[str, list[str]]:
        words = [a.replace(str(planfile), PLAN_FILE) for a in argv]
        return words[1], sorted(words)  # the subcommand, then every word in any order

    ran = [normal(c["argv"]) for c in fake.calls() if c["argv"][1] != "version"]
    shown = [normal(terraform_argv(config, env, c)[1:])
             for c in ("fmt", "init", "validate", "plan", "show", "apply")]
    # The plan build re-reads a plan without changes through show -json: ignore repeats.
    deduplicated = [c for i, c in enumerate(ran) if c not in ran[:i]]
    assert deduplicated == shown
