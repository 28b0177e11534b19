"""The validation gate's LMI constraint rules over plan fixtures (tests/data/plans/lmi).

Besides ``//expect`` and ``//covers``, a fixture may give ``//gate`` (validation settings),
``//aliased`` (the function names the config aliases, LMI015) and ``//bound`` (capacity
provider name → the ``function:version`` entries AWS lists as bound to it, LMI013) or
``//offline`` (no AWS access: LMI013 is advisory).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gates_helpers import change, fixture_id, fixtures, keys, load_fixture, plan_document

from lmi_delivery.config.model import ValidationGate
from lmi_delivery.findings import Finding
from lmi_delivery.gates import lmi_checks
from lmi_delivery.gates.lmi_providers import BoundVersion, BoundVersions
from lmi_delivery.gates.plan_json import Plan
from lmi_delivery.gates.rules import RULES

LMI_FIXTURES = fixtures("lmi")
LMI_RULES = sorted(r for r in RULES if r.startswith("LMI"))


def lister(bound: dict[str, list[str]]) -> BoundVersions:
    """What ``ListFunctionVersionsByCapacityProvider`` answers, from a fixture's ``//bound``."""

    def listed(name: str) -> list[BoundVersion]:
        return [BoundVersion(*entry.split(":")) for entry in bound.get(name, [])]

    return listed


def check_fixture(path: Path) -> tuple[list[Finding], dict[str, object]]:
    plan, data = load_fixture(path)
    gate = ValidationGate(**{k: tuple(v) if isinstance(v, list) else v
                             for k, v in data.get("//gate", {}).items()})
    bound = None if data.get("//offline") else lister(data.get("//bound", {}))
    return lmi_checks.check(plan, gate, aliased=data.get("//aliased", ()), bound=bound,
                            retire_command="lmi-delivery prune --env dev "
                            "--retire-capacity-provider {name}"), data


@pytest.mark.parametrize("path", LMI_FIXTURES, ids=fixture_id)
def test_fixture_yields_exactly_its_expected_findings(path: Path) -> None:
    found, data = check_fixture(path)
    assert keys(found) == sorted(data["//expect"])
    if path.parent.name == "negative":
        assert data["//expect"] == []
        assert data["//covers"]


def test_every_lmi_rule_has_a_positive_and_a_negative_fixture() -> None:
    positive: set[str] = set()
    negative: set[str] = set()
    for path in LMI_FIXTURES:
        _, data = load_fixture(path)
        if path.parent.name == "positive":
            positive |= {e.split()[0] for e in data["//expect"]}
        else:
            negative |= set(data["//covers"])
    assert positive == set(LMI_RULES)
    assert negative == set(LMI_RULES)


def test_unsupported_azs_come_from_the_gate_settings() -> None:
    plan = Plan(plan_document([change("aws_subnet.e", {"availability_zone": "us-east-1e"})]))
    assert lmi_checks.check(plan, ValidationGate()) == []
    found = lmi_checks.check(plan, ValidationGate(unsupported_azs=("us-east-1e",)))
    assert keys(found) == ["LMI007 aws_subnet.e"]


@pytest.mark.parametrize(("instance_type", "arch"), [
    ("m7g.large", "arm64"), ("c6gn.xlarge", "arm64"), ("r8g.2xlarge", "arm64"),
    ("m6gd.large", "arm64"), ("m7i.large", "x86_64"), ("c5a.large", "x86_64"),
    ("r7iz.metal", "x86_64"), ("m7i-flex.large", "x86_64"), ("m5.large", "x86_64"),
])
def test_graviton_types_need_arm64_and_the_others_x86_64(instance_type: str, arch: str) -> None:
    other = "x86_64" if arch == "arm64" else "arm64"
    for architectures, expected in ((arch, []), (other, ["LMI006"])):
        plan = Plan(plan_document([change("aws_lambda_capacity_provider.p", {
            "instance_requirements": [{"architectures": [architectures],
                                       "allowed_instance_types": [instance_type]}]})]))
        assert [f.rule_id for f in lmi_checks.check(plan, ValidationGate())] == expected


def test_module_resources_are_checked_with_their_full_address() -> None:
    plan = Plan(plan_document([change(
        "module.fn.aws_lambda_function.this[0]", {
            "runtime": "nodejs18.x", "memory_size": 2048,
            "capacity_provider_config": [{"lambda_managed_instances_capacity_provider_config": [
                {"execution_environment_memory_gib_per_vcpu": 2}]}]},
        module="module.fn")]))
    assert keys(lmi_checks.check(plan, ValidationGate())) == [
        "LMI011 module.fn.aws_lambda_function.this[0]"]
