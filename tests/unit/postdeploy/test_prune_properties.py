"""The prune decision against an independent oracle: exhaustively over small states, and over
thousands of random account states (hypothesis; derandomized under CI, so CI runs are
reproducible: the ``ci`` profile of tests/conftest.py).

The oracle restates the rules as plainly as possible from the plain-data state; the decision must
match it exactly, and the safety properties are also checked one by one so that a failure names
the property that broke.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lmi_delivery.postdeploy.history import Entry
from lmi_delivery.postdeploy.prune.decision import Action, PruneDecision, PrunePolicy, decide
from lmi_delivery.postdeploy.prune.state import AccountSnapshot, snapshot_from_dicts

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PROVIDERS = [f"arn:aws:lambda:eu-west-1:123456789012:capacity-provider:p{i}" for i in range(3)]


@dataclass
class Fn:
    name: str
    versions: dict[int, tuple[str | None, str, int]]  # number -> (provider, state, minute)
    aliases: dict[str, tuple[str, dict[str, float]]] = field(default_factory=dict)
    scaling: dict[str, tuple[int, int]] = field(default_factory=dict)
    latest_published: int | None = None
    unnumbered: tuple[str, ...] = ()
    history: dict[str, list[tuple[int | None, int, str, bool]]] = field(default_factory=dict)
    """Alias → its moves, oldest first: (previous, version, action, a canary step)."""


@dataclass
class State:
    functions: list[Fn]
    esms: list[tuple[str, str, str | None]] = field(default_factory=list)
    known: dict[str, set[int]] | None = None
    started_minute: int | None = None

    def to_dicts(self, shuffle: random.Random | None = None) -> dict[str, Any]:
        def order(items: list[Any]) -> list[Any]:
            if shuffle is not None:
                shuffle.shuffle(items)
            return items

        functions = []
        for f in order(list(self.functions)):
            versions: list[Any] = [{"version": u, "capacity_provider": None} for u in f.unnumbered]
            versions += [{"version": n, "capacity_provider": p, "state": s,
                          "last_modified": (T0 + timedelta(minutes=m)).isoformat()}
                         for n, (p, s, m) in f.versions.items()]
            functions.append({
                "name": f.name, "versions": order(versions),
                "aliases": order([{"name": a, "version": v, "weights": w}
                                  for a, (v, w) in f.aliases.items()]),
                "scaling": order([{"qualifier": q, "min": lo, "max": hi}
                                  for q, (lo, hi) in f.scaling.items()]),
                "latest_published": f.latest_published,
                "history": {a: [Entry(None if p is None else str(p), str(v),
                                      {str(v + 1): 0.1} if weighted else {}, action)
                                for p, v, action, weighted in moves]
                            for a, moves in f.history.items()},
            })
        return {
            "functions": functions,
            "event_source_mappings": order([{"uuid": u, "function": f, "qualifier": q}
                                            for u, f, q in self.esms]),
            "known_versions": None if self.known is None else {
                k: sorted(v) for k, v in self.known.items()},
            "started_at": None if self.started_minute is None
            else T0 + timedelta(minutes=self.started_minute),
        }

    def snapshot(self, shuffle: random.Random | None = None) -> AccountSnapshot:
        return snapshot_from_dicts(self.to_dicts(shuffle))


def _selected(provider: str | None, selectors: AbstractSet[str]) -> bool:
    return provider is not None and (provider in selectors
                                     or provider.split(":")[-1] in selectors)


def concurrent(state: State, f: Fn, n: int) -> bool:
    _, status, minute = f.versions[n]
    if status == "Pending":
        return True
    if state.known is not None:
        known = state.known.get(f.name)
        if known is None or n not in known or n > max(known):
            return True
    return state.started_minute is not None and minute > state.started_minute


def served(moves: list[tuple[int | None, int, str, bool]], current: str) -> list[str]:
    """What successive rollbacks from ``current`` visit, restated: step back through the
    newest earlier deploy (a full move from another version) that landed where we stand."""
    chain, upto = [current], len(moves)
    while True:
        step = next((i for i in reversed(range(upto))
                     if moves[i][2] == "deploy" and not moves[i][3] and moves[i][0] is not None
                     and moves[i][0] != moves[i][1] and str(moves[i][1]) == chain[-1]), None)
        if step is None:
            return chain
        if str(moves[step][0]) not in chain:
            chain.append(str(moves[step][0]))
        upto = step


def rollback_target(f: Fn, n: int, policy: PrunePolicy) -> bool:
    if policy.retire_capacity_providers:
        return False
    return any(str(n) in served(f.history.get(a, []), v)[1:policy.history_keep]
               for a, (v, _) in f.aliases.items())


def protected(state: State, f: Fn, n: int, policy: PrunePolicy) -> bool:
    q = str(n)
    return (
        any(v == q or q in w for v, w in f.aliases.values())
        or f.latest_published == n
        or any(fn == f.name and qual == q for _, fn, qual in state.esms)
        or (f.name not in policy.owned_functions and f.scaling.get(q, (0, 0))[0] > 0)
        or concurrent(state, f, n)
        or rollback_target(f, n, policy)
    )


def newest(state: State, f: Fn, policy: PrunePolicy) -> set[int]:
    """The ``keep`` newest versions besides the protected ones (the schema's words)."""
    return set(sorted((n for n in f.versions if not protected(state, f, n, policy)),
                      reverse=True)[:policy.keep])


def in_scope(f: Fn, n: int, policy: PrunePolicy) -> bool:
    if policy.functions is not None and f.name not in policy.functions:
        return False
    selectors = policy.retire_capacity_providers or policy.capacity_providers
    return not selectors or _selected(f.versions[n][0], selectors)


def oracle(state: State, policy: PrunePolicy) -> set[tuple[str, str]]:
    doomed = set()
    for f in state.functions:
        kept = newest(state, f, policy)
        for n in f.versions:
            if not in_scope(f, n, policy) or protected(state, f, n, policy):
                continue
            if policy.retire_capacity_providers or n not in kept:
                doomed.add((f.name, str(n)))
    return doomed


def check(state: State, policy: PrunePolicy) -> PruneDecision:
    decision = decide(state.snapshot(), policy)
    deleted = {(v.function, v.version) for v in decision.deletions}
    by_name = {f.name: f for f in state.functions}
    for name, version in deleted:
        f = by_name[name]
        assert not version.startswith("$"), f"{name}:{version}: $LATEST* deleted"
        n = int(version)
        assert in_scope(f, n, policy), f"{name}:{version}: out of scope but deleted"
        assert not protected(state, f, n, policy), f"{name}:{version}: protected but deleted"
        if not policy.retire_capacity_providers:
            assert n not in newest(state, f, policy), \
                f"{name}:{version}: among the {policy.keep} newest besides the protected"
    if not policy.retire_capacity_providers:
        for f in state.functions:  # keep counts besides the protected: keep more, never fewer
            unprotected = [n for n in f.versions if not protected(state, f, n, policy)]
            stays = [n for n in unprotected if (f.name, str(n)) not in deleted]
            assert len(stays) >= min(policy.keep, len(unprotected)), f.name
            for a, (v, _) in f.aliases.items():  # the way back stays
                for back in served(f.history.get(a, []), v)[1:policy.history_keep]:
                    assert (f.name, back) not in deleted, f"{f.name}:{back}: rollback target"
    assert deleted == oracle(state, policy)
    # one verdict per version, nothing invented, nothing lost
    expected = {(f.name, str(n)) for f in state.functions for n in f.versions}
    expected |= {(f.name, u) for f in state.functions for u in f.unnumbered}
    assert [(v.function, v.version) for v in decision.verdicts] == sorted(
        expected, key=lambda k: (k[0], (0, k[1]) if k[1].startswith("$") else (1, int(k[1]))))
    assert all(v.action is Action.DELETE or v.protections for v in decision.verdicts)
    for p in PROVIDERS:
        bound = sum(1 for f in state.functions for n, (prov, _, _) in f.versions.items()
                    if prov == p and (f.name, str(n)) not in deleted)
        assert decision.headroom(p) == 100 - bound
    return decision


# -- exhaustive over one function ------------------------------------------------------------------


def test_exhaustive_one_function_up_to_five_versions() -> None:
    checked = 0
    for count in range(1, 6):
        numbers = list(range(1, count + 1))
        alias_options: list[tuple[int, int | None] | None] = [None]
        alias_options += [(p, w) for p in numbers for w in [None, *numbers] if w != p]
        for alias, esm, scaled, owned, keep in itertools.product(
                alias_options, [None, *numbers], [None, *numbers], (False, True), (1, 2, 3)):
            versions: dict[int, tuple[str | None, str, int]] = {
                n: (PROVIDERS[0], "Active", n) for n in numbers}
            f = Fn("f", versions,
                   unnumbered=("$LATEST", "$LATEST.PUBLISHED"), latest_published=None)
            if alias is not None:
                primary, weighted = alias
                f.aliases["live"] = (str(primary), {} if weighted is None else
                                     {str(weighted): 0.2})
            if scaled is not None:
                f.scaling[str(scaled)] = (2, 5)
            state = State([f], esms=[] if esm is None else [("u-1", "f", str(esm))])
            check(state, PrunePolicy(keep=keep, owned_functions={"f"} if owned else set()))
            checked += 1
    assert checked > 5000


def test_exhaustive_histories_keep_the_way_back() -> None:
    """Every history of up to three moves among two versions (two moves among up to four),
    deploys, rollbacks and canary steps, the alias on each version, three (keep,
    history_keep) pairs: the rollback targets stay, and keep counts the rest."""
    checked = 0
    for count in range(1, 5):
        numbers = list(range(1, count + 1))
        moves = [(p, v, a, False) for p in [None, *numbers] for v in numbers if p != v
                 for a in ("deploy", "rollback")]
        moves += [(p, p, "deploy", True) for p in numbers]  # a canary step
        for length in range(0, 4 if count < 3 else 3):
            for history in itertools.product(moves, repeat=length):
                for primary in numbers:
                    f = Fn("f", {n: (PROVIDERS[0], "Active", n) for n in numbers},
                           aliases={"live": (str(primary), {})},
                           history={"live": list(history)})
                    for keep, history_keep in ((1, 1), (1, 2), (2, 3)):
                        check(State([f]), PrunePolicy(keep=keep, history_keep=history_keep))
                        checked += 1
    assert checked > 15000


def test_keep_one_keeps_the_version_the_alias_left() -> None:
    """The issue's case: a deploy moved live 4 -> 5; keep 1 keeps 5 (alias), 4 (the way
    back) and the newest other version; before, 4 was deleted."""
    f = Fn("f", {n: (PROVIDERS[0], "Active", n) for n in range(1, 7)},
           aliases={"live": ("5", {})}, history={"live": [(3, 4, "deploy", False),
                                                          (4, 5, "deploy", False)]})
    decision = check(State([f]), PrunePolicy(keep=1))
    assert {v.version for v in decision.kept} == {"4", "5", "6"}
    assert decision.verdict("f", 4).reason.value == "rollback-target"  # type: ignore[union-attr]


def test_exhaustive_concurrent_publishes() -> None:
    for count, seen, pending in itertools.product(range(1, 6), range(0, 6), range(0, 6)):
        versions: dict[int, tuple[str | None, str, int]] = {
            n: (PROVIDERS[0], "Pending" if n == pending else "Active", n)
                    for n in range(1, count + 1)}
        state = State([Fn("f", versions)], known={"f": set(range(1, min(seen, count) + 1))})
        for keep in (1, 2):
            check(state, PrunePolicy(keep=keep))


# -- random account states -------------------------------------------------------------------------

# Generation is written once against ``rint(high) -> 0..high`` and driven two ways: by hypothesis
# draws (which shrink to a small failing account) and, for volume, by a seeded ``random.Random``
# whose seed hypothesis draws (thousands of accounts in a few seconds).
RInt = Callable[[int], int]
_INTS = {n: st.integers(0, n) for n in range(0, 16)}  # built once: strategies are costly to build
NAMES = ["f0", "f1", "f2", "f3"]
PROVIDER_REFS = [*PROVIDERS, "p0", "p1", "p2"]
VERSION_STATES = ["Active"] * 6 + ["Pending", "Failed", "Inactive"]


def _pick(rint: RInt, items: list[Any]) -> Any:
    return items[rint(len(items) - 1)]


def _subset(rint: RInt, items: list[Any], most: int) -> list[Any]:
    return sorted({_pick(rint, items) for _ in range(rint(most))}, key=str)


def build_function(rint: RInt, name: str) -> Fn:
    numbers = sorted({1 + rint(13) for _ in range(rint(9))})
    versions: dict[int, tuple[str | None, str, int]] = {
        n: (_pick(rint, [*PROVIDERS, None]), _pick(rint, VERSION_STATES), n * 10)
        for n in numbers}
    f = Fn(name, versions, unnumbered=_pick(rint, [(), ("$LATEST",),
                                                    ("$LATEST", "$LATEST.PUBLISHED")]))
    targets = [str(n) for n in numbers] + ["$LATEST", "99"]
    for alias in _subset(rint, ["live", "canary", "blue"], 2):
        weights = {_pick(rint, targets): (1 + rint(15)) / 20} if rint(1) else {}
        f.aliases[alias] = (_pick(rint, targets), weights)
    for q in _subset(rint, targets, 3):
        lo = rint(3)
        f.scaling[q] = (lo, lo + rint(3))
    if numbers and rint(1):
        f.latest_published = numbers[-1]
    for alias in f.aliases:
        if rint(1):
            f.history[alias] = [(_pick(rint, [None, *range(1, 15)]), 1 + rint(13),
                                 _pick(rint, ["deploy", "deploy", "rollback"]), rint(4) == 0)
                                for _ in range(rint(6))]
    return f


def build_state(rint: RInt) -> State:
    fns = [build_function(rint, n) for n in _subset(rint, NAMES, 4) or ["f0"]]
    quals = [None, "1", "2", "3", "5", "8", "live", "canary"]
    esms = [(f"u{i}", _pick(rint, NAMES), _pick(rint, quals)) for i in range(rint(4))]
    known = None
    if rint(1):
        known = {f.name: {n for n in f.versions if n <= rint(14)} for f in fns if rint(5)}
    started = None if rint(1) else 10 * rint(15)
    return State(fns, esms, known, started)


def build_policy(rint: RInt) -> PrunePolicy:
    retire = set(_subset(rint, PROVIDER_REFS, 1)) if rint(3) == 0 else set()
    return PrunePolicy(
        keep=1 + rint(3), history_keep=1 + rint(3),
        capacity_providers=set(_subset(rint, PROVIDER_REFS, 2)),
        functions=None if rint(1) else set(_subset(rint, NAMES, 4)),
        owned_functions=set(_subset(rint, NAMES, 4)),
        retire_capacity_providers=retire,
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[State, PrunePolicy]:
    def rint(high: int) -> int:
        return draw(_INTS[high])

    return build_state(rint), build_policy(rint)


def verify(state: State, policy: PrunePolicy, rnd: random.Random) -> None:
    decision = check(state, policy)
    # deterministic: the same account listed in another order gives the same decision
    again = decide(state.snapshot(shuffle=rnd), policy)
    assert again.to_dict() == decision.to_dict()
    if policy.retire_capacity_providers:
        blockers = {(v.function, v.version) for v in decision.blockers()}
        for f in state.functions:
            for n in f.versions:
                bound = _selected(f.versions[n][0], policy.retire_capacity_providers)
                stays = in_scope(f, n, policy) and protected(state, f, n, policy)
                assert ((f.name, str(n)) in blockers) == (bound and stays)
        assert (decision.refusal() is None) == (not blockers)


# More examples than the profile's (tests/conftest.py): the decision is what deletes versions.
@settings(max_examples=300)
@given(cases(), st.randoms(use_true_random=False))
def test_random_accounts_shrinkable(case: tuple[State, PrunePolicy], rnd: random.Random) -> None:
    verify(*case, rnd)


@settings(max_examples=2000)  # volume: each example is one cheap random account
@given(st.integers(0, 2**32 - 1))
def test_random_accounts_in_volume(seed: int) -> None:
    rnd = random.Random(seed)

    def rint(high: int) -> int:
        return rnd.randint(0, high)

    verify(build_state(rint), build_policy(rint), rnd)
