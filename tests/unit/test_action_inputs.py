"""action.yml and ``lmi-delivery ci`` cannot drift: every input is an option and vice versa,
every input reaches the script through ``env:`` only, and every output is written by ``ci``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruamel.yaml import YAML

from lmi_delivery.cli.commands.ci import INPUTS, ci_command
from lmi_delivery.cli.main import cli
from lmi_delivery.github.pipeline import dry_run_outcome

ROOT = Path(__file__).resolve().parents[2]


def action() -> Any:
    return YAML(typ="safe", pure=True).load((ROOT / "action.yml").read_text("utf-8"))


def help_options() -> set[str]:
    result = CliRunner().invoke(cli, ["ci", "--help"])
    assert result.exit_code == 0, result.output
    return set(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", result.output, re.M)) - {"--help"}


def test_inputs_and_ci_options_are_the_same_set() -> None:
    assert {f"--{name}" for name in action()["inputs"]} == help_options()
    assert set(INPUTS) == set(action()["inputs"])


def test_defaults_agree() -> None:
    params = {p.name: p for p in ci_command.params}
    inputs = action()["inputs"]
    assert inputs["command"]["default"] == params["command"].default == "run"
    assert inputs["config"]["default"] == params["config"].default
    assert inputs["comment-on-pr"]["default"] == "true"
    assert params["comment_on_pr"].default
    assert inputs["dry-run"]["default"] == "false"
    assert not params["dry_run"].default
    assert inputs["github-token"]["default"] == "${{ github.token }}"
    assert inputs["python-version"]["default"] == "3.11"
    assert inputs["environment"]["required"] is True


def test_every_input_goes_through_env_and_never_into_a_script() -> None:
    steps = action()["runs"]["steps"]
    [ci] = [s for s in steps if s.get("id") == "ci"]
    for step in steps:
        assert "${{" not in step.get("run", ""), f"expression interpolated into {step['name']}"
    assert {v for v in ci["env"].values()} == {f"${{{{ inputs.{n} }}}}" for n in INPUTS}
    for name, (_, var) in INPUTS.items():
        assert ci["env"][var] == f"${{{{ inputs.{name} }}}}"
    assert "LMI_GITHUB_TOKEN" not in ci["run"], "the token must not be on the command line"
    assert "lmi-delivery ci" in ci["run"]


def test_install_is_pinned_to_the_action_checkout_with_a_pip_cache() -> None:
    steps = action()["runs"]["steps"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["uses"] == "actions/setup-python@v5"
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"].endswith("pyproject.toml")
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert '"$ACTION_PATH"' in install["run"]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert not any("aws-access-key" in str(s) for s in steps)


def test_every_output_is_written_by_ci() -> None:
    outputs = action()["outputs"]
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.ci.outputs.{name} }}}}"
    from lmi_delivery.plan.events import ContextFlags
    from lmi_delivery.plan.prepare import PlanRequest, make_plan

    plan = make_plan(PlanRequest(str(ROOT / "examples/quickstart/lmi-delivery.yml"), "dev",
                                 ContextFlags(event="push", ref="dev", sha="a" * 40),
                                 offline=True), {})
    assert set(dry_run_outcome(plan, "r.json").outputs) == set(outputs)
