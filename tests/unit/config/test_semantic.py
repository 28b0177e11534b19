"""Semantic checks: references, scaling, branches, templates, derived names, files."""

from __future__ import annotations

import os
from pathlib import Path

import botocore.loaders
import pytest
from config_helpers import BASE, WriteConfig

from lmi_delivery.config import load
from lmi_delivery.config.semantic import (
    CAPACITY_PROVIDER_NAME,
    FUNCTION_NAME,
    PROJECT_NAME,
    template_problem,
)
from lmi_delivery.errors import ConfigError


def problems(write_config: WriteConfig, text: str) -> list[str]:
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load(path)
    prefix = f"{path}:"
    assert all(str(d).startswith(prefix) for d in info.value.diagnostics)
    return [str(d).removeprefix(prefix) for d in info.value.diagnostics]


def test_the_base_config_is_sound(write_config: WriteConfig) -> None:
    assert load(write_config(BASE)).functions["router"].capacity_provider == "shared"


def test_all_semantic_problems_are_reported_at_once(write_config: WriteConfig) -> None:
    text = (BASE.replace("capacity_provider: shared", "capacity_provider: other")
            .replace("{min: 1, max: 4}", "{min: 9, max: 4}")
            .replace("prod: {branch: main}", "prod: {branch: dev}"))
    assert problems(write_config, text) == [
        "11:18: branch 'dev' is already used by environment 'dev' (at environments.prod.branch)",
        "16:24: unknown capacity provider 'other' (defined: shared)"
        " (at functions.router.capacity_provider)",
        "17:20: scaling min 9 is greater than max 4 (at functions.router.scaling.min)",
    ]


def test_no_capacity_providers_defined(write_config: WriteConfig) -> None:
    text = BASE.replace("capacity_providers:\n  shared: {}\n", "")
    assert problems(write_config, text) == [
        "14:24: unknown capacity provider 'shared' (none is defined)"
        " (at functions.router.capacity_provider)",
    ]


@pytest.mark.parametrize(("scaling", "ok"), [
    ("{min: 0, max: 0}", True), ("{min: 4, max: 4}", True), ("{min: 0, max: 1}", False),
    ("{min: 5, max: 4}", False),
])
def test_scaling_bounds(write_config: WriteConfig, scaling: str, ok: bool) -> None:
    path = write_config(BASE.replace("{min: 1, max: 4}", scaling))
    if ok:
        load(path)
    else:
        with pytest.raises(ConfigError, match="scaling min"):
            load(path)


@pytest.mark.parametrize(("template", "problem"), [
    ("{service}-{env}-{name}", None),
    ("{service}-{region}-{account}", None),
    ("literal-{{braces}}-{env}", None),
    ("{service}-{stage}", "unknown placeholder {stage}"),
    ("{service}-{Env}", "did you mean 'env'?"),
    ("{}-x", "unknown placeholder {}"),
    ("{0}", "unknown placeholder {0}"),
    ("{env.upper}", "unknown placeholder {env.upper}"),
    ("{env!r}", "must not have a format or conversion"),
    ("{env:>9}", "must not have a format or conversion"),
    ("{service", "malformed braces"),
    ("service}", "malformed braces"),
])
def test_template_problems(template: str, problem: str | None) -> None:
    found = template_problem(template)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_every_template_is_checked(write_config: WriteConfig) -> None:
    text = (BASE.replace('["env/{env}.tfvars"]',
                         '["env/{env}.tfvars"]\n  backend_config: ["bucket={bucket}"]')
            .replace("  shared: {}", "  shared: {name: '{team}-pool'}")
            .replace("    capacity_provider: shared",
                     "    name: '{owner}-router'\n    capacity_provider: shared")
            .replace("  artifacts:", "  projects: {post_deploy: '{stage}-post'}\n  artifacts:"))
    found = problems(write_config, text)
    assert [f.split(" (at ")[-1] for f in found] == [
        "terraform.backend_config[0])", "codebuild.projects.post_deploy)",
        "capacity_providers.shared.name)", "functions.router.name)",
    ]


def test_derived_names_are_checked_for_every_environment(write_config: WriteConfig) -> None:
    text = BASE.replace("  prod: {branch: main}", "  prod: {branch: main}\n  qa-" + "q" * 60
                        + ": {branch: qa}")
    (Path(write_config(text)).parent / "terraform" / "env"
     / ("qa-" + "q" * 60 + ".tfvars")).write_text("")
    found = problems(write_config, text)
    assert len(found) == 1
    assert found[0].startswith("17:5: environment 'qa-qqq")
    assert "function name 'shop-qa-qqq" in found[0]
    assert "is 75 characters long; Lambda allows 1 to 64 (at functions.router)" in found[0]


def test_explicit_names_are_checked_at_their_template(write_config: WriteConfig) -> None:
    text = BASE.replace("  shared: {}", "  shared: {name: '{service} {env}'}")
    assert problems(write_config, text) == [
        "13:18: environment 'dev': capacity provider name 'shop dev' is not a valid Lambda name"
        " (letters, digits, '-' and '_') (at capacity_providers.shared.name)",
        "13:18: environment 'prod': capacity provider name 'shop prod' is not a valid Lambda name"
        " (letters, digits, '-' and '_') (at capacity_providers.shared.name)",
    ]


def test_name_rules_follow_botocore_and_codebuild() -> None:
    model = botocore.loaders.Loader().load_service_model("lambda", "service-2")
    shape = model["shapes"]["CapacityProviderName"]
    assert (CAPACITY_PROVIDER_NAME.min_length, CAPACITY_PROVIDER_NAME.max_length) == (
        shape["min"], shape["max"])
    assert shape["pattern"].endswith("|[a-zA-Z0-9-_]+")
    assert CAPACITY_PROVIDER_NAME.pattern.fullmatch("a-Z_9")
    assert FUNCTION_NAME.max_length == 64
    assert FUNCTION_NAME.pattern.fullmatch("x" * 64)
    assert not FUNCTION_NAME.pattern.fullmatch("a.b")
    assert PROJECT_NAME.pattern.fullmatch("a" + "b" * 254)
    assert not PROJECT_NAME.pattern.fullmatch("a" + "b" * 255)
    assert not PROJECT_NAME.pattern.fullmatch("-ab")
    assert not PROJECT_NAME.pattern.fullmatch("a")


def test_working_directory_symlink_out_of_the_repo(write_config: WriteConfig,
                                                   tmp_path_factory: pytest.TempPathFactory
                                                   ) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "main.tf").write_text("")
    path = write_config(BASE.replace("working_directory: terraform", "working_directory: link"))
    os.symlink(outside, path.parent / "link")
    assert problems(write_config, path.read_text()) == [
        "5:22: terraform working directory 'link' is outside the repository root"
        " (at terraform.working_directory)",
    ]


@pytest.mark.parametrize("directory", ["terraform/../terraform", "./terraform", "terraform/"])
def test_working_directory_spelt_differently_inside_the_repo(write_config: WriteConfig,
                                                              directory: str) -> None:
    load(write_config(BASE.replace("working_directory: terraform",
                                   f"working_directory: {directory}")))


def test_working_directory_that_is_a_file(write_config: WriteConfig) -> None:
    text = BASE.replace("working_directory: terraform", "working_directory: terraform/main.tf")
    assert problems(write_config, text) == [
        "5:22: terraform working directory 'terraform/main.tf' is not a directory"
        " (at terraform.working_directory)",
    ]


def test_working_directory_with_only_json_terraform(write_config: WriteConfig) -> None:
    path = write_config(BASE)
    (path.parent / "terraform" / "main.tf").rename(path.parent / "terraform" / "main.tf.json")
    load(path)


def test_var_files_missing_for_several_environments(write_config: WriteConfig) -> None:
    text = BASE.replace("env/{env}.tfvars", "{region}/{env}.tfvars")
    assert problems(write_config, text) == [
        "6:15: var file '{region}/{env}.tfvars' not found in 'terraform' for environments"
        " dev (us-east-1/dev.tfvars), prod (us-east-1/prod.tfvars) (at terraform.var_files[0])",
    ]


def test_var_files_must_stay_inside_the_repo(write_config: WriteConfig) -> None:
    text = BASE.replace("env/{env}.tfvars", "../../{env}.tfvars")
    (found,) = problems(write_config, text)
    assert "resolves outside the repository root for environment dev" in found
