"""Change detection, table-driven: which roots a change set runs, and the reasons it gives."""

from __future__ import annotations

import pytest

from lmi_delivery.plan.changes import Change, RootFiles, glob_matches, select

ROOTS = (
    RootFiles("network", "platform/network"),
    RootFiles("provider", "platform/provider", var_files=("platform/env/dev.tfvars",),
              depends_on=("network",)),
    RootFiles("orders", "services/orders", modules=("modules/lambda",),
              watch=("src/orders/**", "schemas/*.json"), depends_on=("provider",)),
    RootFiles("search", "services/search", modules=("modules/lambda", "modules/index"),
              depends_on=("provider",)),
)
CONFIG = "lmi-delivery.yml"


def m(path: str) -> Change:
    return Change("modified", path)


CASES = [
    ("nothing changed", [], {}),
    ("a file of one service", [m("services/orders/main.tf")],
     {"orders": ["services/orders/main.tf changed"]}),
    ("a sibling directory with a common prefix is not inside",
     [m("services/orders-old/main.tf")], {}),
    ("deleting a file of a root runs it", [Change("deleted", "services/search/index.tf")],
     {"search": ["services/search/index.tf changed"]}),
    ("a rename counts on both sides",
     [Change("renamed", "services/search/a.tf", old_path="services/orders/a.tf")],
     {"orders": ["services/orders/a.tf changed"], "search": ["services/search/a.tf changed"]}),
    ("a rename out of the repository's roots still runs the root it left",
     [Change("renamed", "attic/old.tf", old_path="services/orders/old.tf")],
     {"orders": ["services/orders/old.tf changed"]}),
    ("a shared module runs every root that calls it", [m("modules/lambda/main.tf")],
     {"orders": ["modules/lambda/main.tf changed in module modules/lambda"],
      "search": ["modules/lambda/main.tf changed in module modules/lambda"]}),
    ("a module only one root calls", [Change("added", "modules/index/vars.tf")],
     {"search": ["modules/index/vars.tf changed in module modules/index"]}),
    ("a watch glob across directories", [m("src/orders/handlers/api/app.py")],
     {"orders": ["src/orders/handlers/api/app.py changed (watch src/orders/**)"]}),
    ("a watch glob's * stays in one segment", [m("schemas/v2/order.json")], {}),
    ("a watch glob's * matches in its segment", [m("schemas/order.json")],
     {"orders": ["schemas/order.json changed (watch schemas/*.json)"]}),
    ("a var file outside the root's directory", [m("platform/env/dev.tfvars")],
     {"provider": ["var file platform/env/dev.tfvars changed"],
      "orders": ["depends on provider, which runs"],
      "search": ["depends on provider, which runs"]}),
    ("the provider runs its dependents", [m("platform/provider/main.tf")],
     {"provider": ["platform/provider/main.tf changed"],
      "orders": ["depends on provider, which runs"],
      "search": ["depends on provider, which runs"]}),
    ("the closure is transitive", [m("platform/network/vpc.tf")],
     {"network": ["platform/network/vpc.tf changed"],
      "provider": ["depends on network, which runs"],
      "orders": ["depends on provider, which runs"],
      "search": ["depends on provider, which runs"]}),
    ("a root's own change and its dependency both count",
     [m("services/orders/main.tf"), m("platform/provider/main.tf")],
     {"provider": ["platform/provider/main.tf changed"],
      "orders": ["services/orders/main.tf changed", "depends on provider, which runs"],
      "search": ["depends on provider, which runs"]}),
    ("a dependent does not run its dependency", [m("services/search/main.tf")],
     {"search": ["services/search/main.tf changed"]}),
    ("files elsewhere run nothing", [m("README.md"), m("src/search/app.py")], {}),
]


@pytest.mark.parametrize(("changes", "expected"), [(c, e) for _, c, e in CASES],
                         ids=[name for name, _, _ in CASES])
def test_the_roots_a_change_set_runs(changes: list[Change],
                                     expected: dict[str, list[str]]) -> None:
    selection = select(ROOTS, changes, config_file=CONFIG)
    assert [s.key for s in selection] == [r.key for r in ROOTS]
    assert {s.key: list(s.reasons) for s in selection if s.runs} == expected
    assert all(s.reasons == ("no change to its files",) for s in selection if not s.runs)


@pytest.mark.parametrize(("changes", "all_roots", "reason"), [
    (None, False, "no change set to compare with: every root runs"),
    ([m("lmi-delivery.yml")], False, "lmi-delivery.yml changed: every root runs"),
    ([Change("renamed", "other.yml", old_path="lmi-delivery.yml")], False,
     "lmi-delivery.yml changed: every root runs"),
    ([], True, "--all-roots runs every root"),
])
def test_every_root_runs_when_the_change_set_cannot_be_trusted_to_say_less(
        changes: list[Change] | None, all_roots: bool, reason: str) -> None:
    selection = select(ROOTS, changes, config_file=CONFIG, all_roots=all_roots)
    assert [(s.key, s.runs, s.reasons) for s in selection] == [
        (r.key, True, (reason,)) for r in ROOTS]


def test_reasons_are_capped_with_a_count() -> None:
    changes = [m(f"services/orders/f{i}.tf") for i in range(8)]
    [_, _, orders, _] = select(ROOTS, changes, config_file=CONFIG)
    assert len(orders.reasons) == 6
    assert orders.reasons[-1] == "and 3 more"


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("src/**", "src/a/b/c.py", True),
    ("src/**/*.py", "src/c.py", True),
    ("src/**/*.py", "src/a/b/c.py", True),
    ("src/**/*.py", "src/a/b/c.txt", False),
    ("src/", "src/a/b", True),
    ("*.md", "docs/a.md", False),
    ("docs/?.md", "docs/a.md", True),
    ("a.b", "axb", False),
])
def test_glob_matching(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) is matches
