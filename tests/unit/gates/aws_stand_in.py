"""Real Terraform plans of AWS resources, offline: a stand-in for the hashicorp/aws provider.

The AWS provider cannot be downloaded here, so this module is one: a Terraform provider (the
``tf`` package speaks Terraform's plugin protocol) that serves the schemas of the few resources
the ownership rules read, with the attributes the real provider has for them (plain attributes
where the real provider nests a block: ``terraform show -json`` writes both as a list of
objects). It plans and applies without calling AWS; what the real provider computes (ARNs,
versions, ids) it leaves unknown in a plan and makes up on apply.

:func:`plan` runs the embedded Terraform 1.12.2 on a directory (a CLI configuration whose
``dev_overrides`` point ``hashicorp/aws`` here) and returns ``terraform show -json`` of the plan.
Run as a script, the module is the provider.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

STRING, NUMBER, BOOL = "string", "number", "bool"
#: type -> attribute -> (kind, how): ``required``, ``optional``, ``computed`` or ``both``.
SCHEMAS: dict[str, dict[str, tuple[str, str]]] = {
    "aws_lambda_function": {
        "function_name": (STRING, "required"), "role": (STRING, "optional"),
        "runtime": (STRING, "optional"), "handler": (STRING, "optional"),
        "memory_size": (NUMBER, "optional"), "publish": (BOOL, "optional"),
        "publish_to": (STRING, "optional"), "arn": (STRING, "computed"),
        "qualified_arn": (STRING, "computed"), "version": (STRING, "computed"),
        "id": (STRING, "computed"),
    },
    "aws_lambda_function_scaling_config": {
        "function_name": (STRING, "required"), "qualifier": (STRING, "required"),
        "function_scaling_config": ("scaling", "optional"), "id": (STRING, "computed"),
    },
    "aws_lambda_alias": {
        "name": (STRING, "required"), "function_name": (STRING, "required"),
        "function_version": (STRING, "required"), "description": (STRING, "optional"),
        "routing_config": ("routing", "optional"), "arn": (STRING, "computed"),
        "id": (STRING, "computed"),
    },
    "aws_cloudwatch_event_rule": {
        "name": (STRING, "optional"), "schedule_expression": (STRING, "optional"),
        "description": (STRING, "optional"), "event_bus_name": (STRING, "optional"),
        "state": (STRING, "optional"), "arn": (STRING, "computed"), "id": (STRING, "computed"),
    },
    "aws_cloudwatch_event_target": {
        "rule": (STRING, "required"), "arn": (STRING, "required"),
        "target_id": (STRING, "both"), "input": (STRING, "optional"),
        "event_bus_name": (STRING, "optional"), "id": (STRING, "computed"),
    },
    "aws_lambda_permission": {
        "statement_id": (STRING, "optional"), "action": (STRING, "required"),
        "function_name": (STRING, "required"), "qualifier": (STRING, "optional"),
        "principal": (STRING, "required"), "source_arn": (STRING, "optional"),
        "id": (STRING, "computed"),
    },
}
GO_PLUGIN_DIR = "stand-in-aws"


def _provider() -> Any:  # the tf package only in the provider's own process
    from tf import schema, types
    from tf.schema import Attribute
    from tf.types import Unknown

    kinds = {STRING: types.String(), NUMBER: types.Number(), BOOL: types.Bool(),
             "scaling": types.List(types.Map(types.Number())),
             "routing": types.List(types.Map(types.Map(types.Number())))}

    def resource(type_name: str, attributes: dict[str, tuple[str, str]]) -> type:
        def made_up(key: str, planned: dict[str, Any]) -> str:
            if key == "arn" and type_name == "aws_lambda_function":
                return f"arn:aws:lambda:us-east-1:123456789012:function:{planned['function_name']}"
            if key == "version":
                return "1"
            return f"{type_name}-{key}"

        class Stand(Resource):
            @classmethod
            def get_name(cls) -> str:
                return type_name

            @classmethod
            def get_schema(cls) -> Any:
                return schema.Schema(attributes=[
                    Attribute(name, kinds[kind], required=how == "required",
                              optional=how in ("optional", "both"),
                              computed=how in ("computed", "both"))
                    for name, (kind, how) in attributes.items()])

            def create(self, ctx: Any, planned: dict[str, Any]) -> dict[str, Any]:
                return {k: made_up(k, planned) if v is Unknown else v
                        for k, v in planned.items()}

            def update(self, ctx: Any, current: dict[str, Any],
                       planned: dict[str, Any]) -> dict[str, Any]:
                return self.create(ctx, planned)

        return Stand

    class Resource:
        def __init__(self, provider: Any) -> None:
            self.provider = provider

        def validate(self, diags: Any, type_name: str, config: Any) -> None:
            return None

        def plan(self, ctx: Any, current: Any, planned: Any) -> Any:
            return planned

        def read(self, ctx: Any, current: Any) -> Any:
            return current

        def delete(self, ctx: Any, current: Any) -> None:
            return None

    resources = [resource(name, attrs) for name, attrs in SCHEMAS.items()]

    class Provider:
        def get_model_prefix(self) -> str:
            return ""

        def full_name(self) -> str:
            return "registry.terraform.io/hashicorp/aws"

        def get_provider_schema(self, diags: Any) -> Any:
            return schema.Schema(attributes=[Attribute("region", types.String(), optional=True)])

        def validate_config(self, diags: Any, config: Any) -> None:
            return None

        def configure_provider(self, diags: Any, config: Any) -> None:
            return None

        def get_data_sources(self) -> list[Any]:
            return []

        def get_resources(self) -> list[Any]:
            return resources

        def get_functions(self) -> list[Any]:
            return []

        def new_resource(self, klass: Any) -> Any:
            return klass(self)

        def new_data_source(self, klass: Any) -> Any:
            return klass(self)

        def new_function(self, klass: Any) -> Any:
            return klass()

    return Provider()


def install(directory: Path) -> dict[str, str]:
    """Write the provider executable and a CLI configuration; the environment that uses them."""
    plugins = directory / GO_PLUGIN_DIR
    plugins.mkdir(parents=True, exist_ok=True)
    executable = plugins / "terraform-provider-aws"
    executable.write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).resolve()} \"$@\"\n",
                          encoding="utf-8")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    cli = directory / "terraformrc"
    cli.write_text('provider_installation {\n  dev_overrides {\n'
                   f'    "hashicorp/aws" = "{plugins}"\n  }}\n  direct {{}}\n}}\n',
                   encoding="utf-8")
    return {**os.environ, "TF_CLI_CONFIG_FILE": str(cli), "TF_IN_AUTOMATION": "1"}


def terraform(root: Path, env: dict[str, str], *args: str) -> str:
    """Run the embedded Terraform in ``root``; its stdout (a failure raises, with stderr)."""
    done = subprocess.run([sys.executable, "-m", "lmi_delivery.terraform.embedded",
                           f"-chdir={root}", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode in (0, 2), done.stderr[-3000:]
    return done.stdout


def plan(root: Path, env: dict[str, str], *var_args: str) -> dict[str, Any]:
    """``terraform show -json`` of a fresh plan of ``root``."""
    terraform(root, env, "plan", "-input=false", "-no-color", "-out=stand-in.tfplan", *var_args)
    document: dict[str, Any] = json.loads(
        terraform(root, env, "show", "-json", "-no-color", "stand-in.tfplan"))
    return document


def apply(root: Path, env: dict[str, str], *var_args: str) -> None:
    terraform(root, env, "apply", "-input=false", "-no-color", "-auto-approve", *var_args)


if __name__ == "__main__":
    from tf import runner

    runner.run_provider(_provider(), sys.argv)
