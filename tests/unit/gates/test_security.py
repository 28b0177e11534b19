"""The security gate's rules over hand-written plan fixtures (tests/data/plans/security).

Every fixture names the findings it expects in ``//expect`` ("RULE address"), the rules it
shows clean in ``//covers`` (negatives), the gate settings in ``//gate`` and the names of the
config's ``codebuild.secrets`` in ``//secrets``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gates_helpers import fixture_id, fixtures, keys, load_fixture

from lmi_delivery.config.model import SecurityGate
from lmi_delivery.gates import security
from lmi_delivery.gates.rules import RULES

SECURITY_FIXTURES = fixtures("security")
SECURITY_RULES = sorted(r for r in RULES if r.startswith("SEC"))


@pytest.mark.parametrize("path", SECURITY_FIXTURES, ids=fixture_id)
def test_fixture_yields_exactly_its_expected_findings(path: Path) -> None:
    plan, data = load_fixture(path)
    gate = SecurityGate(**data.get("//gate", {}))
    found = security.check(plan, gate, secrets=data.get("//secrets", ()))
    assert keys(found) == sorted(data["//expect"])
    if path.parent.name == "positive":
        assert data["//expect"], "a positive fixture expects findings"
    else:
        assert data["//expect"] == []
        assert data["//covers"]


def test_every_security_rule_has_a_positive_and_a_negative_fixture() -> None:
    positive: set[str] = set()
    negative: set[str] = set()
    for path in SECURITY_FIXTURES:
        _, data = load_fixture(path)
        if path.parent.name == "positive":
            positive |= {e.split()[0] for e in data["//expect"]}
        else:
            negative |= set(data["//covers"])
    assert positive == set(SECURITY_RULES)
    assert negative == set(SECURITY_RULES)


def test_findings_carry_the_rule_severity_and_never_a_value() -> None:
    plan, _ = load_fixture(
        next(p for p in SECURITY_FIXTURES if p.stem == "lambda-secret-name"))
    found = security.check(plan, SecurityGate())
    assert {f.severity for f in found} == {"high"}
    assert sorted(f.message for f in found) == [
        "environment variable DB_PASSWORD looks like a secret stored in plain text",
        "environment variable STRIPE_API_KEY looks like a secret stored in plain text",
    ]


def test_severity_of_each_rule_family() -> None:
    assert RULES["SEC001"].severity == "critical"
    assert RULES["SEC031"].severity == "critical"
    assert RULES["SEC020"].severity == "medium"
