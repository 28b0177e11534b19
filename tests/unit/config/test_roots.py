"""``terraform.roots``: the projection onto one root, the dependency order, the dependents."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmi_delivery.config import load
from lmi_delivery.config.model import TerraformRoot
from lmi_delivery.config.roots import SINGLE, dependents, for_root, levels, root_keys
from lmi_delivery.errors import UsageError

DATA = Path(__file__).resolve().parents[2] / "data" / "config" / "valid"


def test_a_root_is_projected_as_a_one_root_config() -> None:
    config = load(DATA / "roots.yml")
    svc = for_root(config, "svc-a")
    assert svc.terraform.working_directory == "roots/svc-a"
    assert svc.terraform.root == "svc-a"
    assert list(svc.functions) == ["router"]
    assert list(svc.environments) == ["dev"]
    assert svc.digest == config.digest
    where = svc.location("terraform", "working_directory")
    assert (where.line, where.column) == (config.location(
        "terraform", "roots", "svc-a", "working_directory").line, 26)
    provider = for_root(config, "provider")
    assert provider.functions == {}
    assert list(provider.environments) == ["dev", "prod"]


def test_the_one_root_form_is_its_own_single_root() -> None:
    config = load(DATA / "minimal.yml")
    assert root_keys(config) == (SINGLE,)
    assert for_root(config, SINGLE) is config
    with pytest.raises(UsageError, match="unknown Terraform root 'svc'"):
        for_root(config, "svc")


def _roots(**deps: tuple[str, ...]) -> dict[str, TerraformRoot]:
    return {k: TerraformRoot(k, k, depends_on=d) for k, d in deps.items()}


def test_levels_put_each_root_after_what_it_depends_on() -> None:
    roots = _roots(svc_b=("net", "provider"), provider=("net",), net=(), svc_a=("provider",))
    assert levels(roots) == (("net",), ("provider",), ("svc_b", "svc_a"))
    assert dependents(roots, "net") == ("svc_b", "provider", "svc_a")
    assert dependents(roots, "svc_a") == ()


def test_a_cycle_lands_in_one_last_wave_rather_than_looping() -> None:
    assert levels(_roots(a=("b",), b=("a",), c=())) == (("c",), ("a", "b"))
