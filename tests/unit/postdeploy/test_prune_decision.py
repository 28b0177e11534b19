"""The prune decision on hand-written states: reasons, report text, scope, retire mode, quota."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lmi_delivery.errors import UsageError
from lmi_delivery.postdeploy.prune.decision import (
    Action,
    PrunePolicy,
    Reason,
    decide,
)
from lmi_delivery.postdeploy.prune.state import snapshot_from_dicts

CP = "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:shared"
OLD = "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:old"


def router(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "router", "capacity_provider": CP,
        "versions": ["$LATEST", 1, 2, 3, 4, 5, 6, {"version": 7, "state": "Pending"}],
        "aliases": {"live": 5, "canary": {"version": 5, "weights": {"6": 0.1}}},
        "scaling": {"2": [2, 4]},
        "latest_published": 6,
    }
    base.update(extra)
    return base


def test_report_reasons_text() -> None:
    snapshot = snapshot_from_dicts({
        "functions": [router()],
        "event_source_mappings": [{"UUID": "esm-1",
                                   "FunctionArn": "arn:aws:lambda:eu-west-1:1:function:router:3"}],
    })
    decision = decide(snapshot, PrunePolicy(keep=1))
    lines = [f"{v.function}:{v.version} {v.describe()}" for v in decision.verdicts]
    assert lines == [
        "router:$LATEST kept: $LATEST is never deleted",
        "router:1 delete: older than the newest version nothing else keeps, and nothing refers "
        "to it",
        "router:2 kept: its scaling config keeps 2 execution environment(s) warm and this config "
        "does not own the function",
        "router:3 kept: event source mapping esm-1 invokes it",
        # keep counts besides the protected versions (5 has aliases, 6 $LATEST.PUBLISHED)
        "router:4 kept: the newest version nothing else keeps",
        "router:5 kept: alias canary points to it; alias live points to it",
        "router:6 kept: $LATEST.PUBLISHED resolves to it; alias canary routes 10% of its traffic "
        "to it",
        "router:7 kept: still Pending: being published right now",
    ]
    assert [v.reason.value for v in decision.verdicts] == [
        "latest", "delete", "scaling-min", "event-source-mapping", "newest", "alias", "latest",
        "concurrent-publish"]


def test_owned_functions_scaling_min_does_not_protect() -> None:
    snapshot = snapshot_from_dicts({"functions": [router()]})
    decision = decide(snapshot, PrunePolicy(keep=1, owned_functions={"router"}))
    assert [v.version for v in decision.deletions] == ["1", "2", "3"]
    assert decision.verdict("router", 4).reason is Reason.NEWEST  # type: ignore[union-attr]  # exists
    assert decision.verdicts[-3].reasons == (Reason.ALIAS, Reason.ALIAS)


def test_keep_counts_newest_published_versions() -> None:
    snapshot = snapshot_from_dicts({"functions": [{"name": "f", "versions": list(range(1, 11))}]})
    decision = decide(snapshot, PrunePolicy(keep=3))
    assert [v.version for v in decision.deletions] == [str(n) for n in range(1, 8)]
    assert decision.verdict("f", 9) is not None
    assert decision.verdict("f", 9).describe() == (  # type: ignore[union-attr]
        "kept: one of the 3 newest versions nothing else keeps")  # checked above


def test_concurrent_publish_by_watermark_and_by_time() -> None:
    started = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    snapshot = snapshot_from_dicts({
        "functions": [
            {"name": "a", "versions": [1, 2, 3, 4, 5]},
            {"name": "b", "versions": [
                {"Version": "1", "LastModified": "2026-03-01T11:00:00.000+0000"},
                {"Version": "2", "LastModified": "2026-03-01T11:30:00.000+0000"},
                {"Version": "3", "LastModified": "2026-03-01T12:00:01.000+0000"}]},
            {"name": "new", "versions": [1]},
        ],
        "known_versions": {"a": [1, 2, 3], "b": [1, 2, 3]},
        "started_at": started,
    })
    decision = decide(snapshot, PrunePolicy(keep=1))
    reasons = {(v.function, v.version): v.reason for v in decision.verdicts}
    assert reasons[("a", "4")] is reasons[("a", "5")] is Reason.CONCURRENT_PUBLISH
    assert reasons[("a", "3")] is Reason.NEWEST  # newest of the versions known at the start
    assert reasons[("b", "3")] is Reason.CONCURRENT_PUBLISH
    assert reasons[("b", "2")] is Reason.NEWEST
    assert reasons[("new", "1")] is Reason.CONCURRENT_PUBLISH
    assert [(v.function, v.version) for v in decision.deletions] == [
        ("a", "1"), ("a", "2"), ("b", "1")]
    assert snapshot.watermark()["a"] == frozenset({1, 2, 3, 4, 5})


def test_scope_by_provider_name_or_arn_and_by_function() -> None:
    snapshot = snapshot_from_dicts({"functions": [
        {"name": "f", "capacity_provider": CP,
         "versions": [{"version": 1, "capacity_provider": OLD}, 2, 3, 4]},
        {"name": "g", "versions": [1, 2, 3]},
    ]})
    by_name = decide(snapshot, PrunePolicy(keep=1, capacity_providers={"shared"}))
    by_arn = decide(snapshot, PrunePolicy(keep=1, capacity_providers={CP}))
    assert by_name.verdicts == by_arn.verdicts
    assert [(v.function, v.version) for v in by_name.deletions] == [("f", "2"), ("f", "3")]
    v1 = by_name.verdict("f", 1)
    assert v1 is not None
    assert v1.describe() == "kept: out of scope: capacity provider old is not selected"
    g1 = by_name.verdict("g", 1)
    assert g1 is not None
    assert g1.describe() == "kept: out of scope: no capacity provider is not selected"
    only_g = decide(snapshot, PrunePolicy(keep=1, functions={"g"}))
    assert [(v.function, v.version) for v in only_g.deletions] == [("g", "1"), ("g", "2")]
    assert only_g.verdict("f", 2).reason is Reason.OUT_OF_SCOPE  # type: ignore[union-attr]  # exists


def test_retire_mode_deletes_everything_on_the_provider_and_reports_alias_blockers() -> None:
    snapshot = snapshot_from_dicts({"functions": [
        {"name": "f", "capacity_provider": CP,
         "versions": [{"version": n, "capacity_provider": OLD} for n in (1, 2, 3)] + [4, 5],
         "aliases": {"legacy": {"version": 2, "weights": {"3": 0.25}}, "live": 5}},
    ]})
    decision = decide(snapshot, PrunePolicy(keep=3, retire_capacity_providers={"old"}))
    assert [v.version for v in decision.deletions] == ["1"]
    assert decision.deletions[0].describe() == "delete: bound to retiring capacity provider old"
    assert [(v.version, v.reason) for v in decision.blockers()] == [
        ("2", Reason.ALIAS), ("3", Reason.WEIGHTED_ALIAS)]
    assert decision.refusal() == (
        "cannot retire capacity provider(s) old: 2 version(s) must stay\n"
        "  f:2 kept: alias legacy points to it\n"
        "  f:3 kept: alias legacy routes 25% of its traffic to it")
    assert decision.verdict("f", 4).reason is Reason.OUT_OF_SCOPE  # type: ignore[union-attr]  # exists
    assert decide(snapshot, PrunePolicy(keep=3)).refusal() is None


def test_headroom_and_needed_for_publish() -> None:
    versions = list(range(1, 99))  # 98 numbered versions + $LATEST on one provider
    snapshot = snapshot_from_dicts({"functions": [
        {"name": "f", "capacity_provider": CP, "versions": ["$LATEST", *versions]}]})
    nothing = decide(snapshot, PrunePolicy(keep=98))
    assert nothing.versions_bound("shared") == 99
    assert nothing.headroom(CP) == 1
    assert nothing.needed_for_publish(CP, 1) == 0
    assert nothing.needed_for_publish(CP, 4) == 3
    pruned = decide(snapshot, PrunePolicy(keep=10))
    assert pruned.headroom("shared") == 100 - 11
    assert pruned.needed_for_publish("shared", 5) == 0
    failed = pruned.with_failure("f", 1, "ResourceConflictException: in use")
    assert failed.headroom("shared") == 100 - 12
    assert failed.verdict("f", "1").describe() == "failed: ResourceConflictException: in use"  # type: ignore[union-attr]  # exists
    assert failed.verdict("f", "1").reason is Reason.FAILED  # type: ignore[union-attr]  # exists
    assert failed.failures[0].action is Action.FAILED


def test_to_dict_is_json_and_complete() -> None:
    snapshot = snapshot_from_dicts({"functions": [router()]})
    report = decide(snapshot, PrunePolicy(keep=2, owned_functions={"router"})).to_dict()
    assert json.loads(json.dumps(report)) == report
    # keep 2 besides the protected: 3 and 4 (5 has aliases, 6 $LATEST.PUBLISHED, 7 is Pending)
    assert report["summary"] == {"keep": 6, "delete": 2, "failed": 0, "deleting": 0}
    assert report["capacity_providers"][CP] == {"versions_after": 6, "headroom": 94,
                                               "quota": 100}
    weighted = next(v for v in report["verdicts"] if v["version"] == "6")
    canary = {"reason": "weighted-alias", "detail": "canary", "weight": 0.1}
    assert canary in weighted["protections"]
    assert report["policy"]["owned_functions"] == ["router"]


def test_aws_shaped_items_are_understood() -> None:
    snapshot = snapshot_from_dicts({"functions": [{
        "FunctionName": "f",
        "versions": [{"Version": "$LATEST"}, {"Version": "1", "State": "Failed",
                      "CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig":
                                                 {"CapacityProviderArn": CP}}}],
        "aliases": [{"Name": "live", "FunctionVersion": "1",
                     "RoutingConfig": {"AdditionalVersionWeights": {}}}],
        "scaling": [{"Qualifier": "1", "MinExecutionEnvironments": 0,
                     "MaxExecutionEnvironments": 0}],
    }], "event_source_mappings": [{"UUID": "u", "FunctionArn": "arn:aws:lambda:r:1:function:f"}]})
    function = snapshot.function("f")
    assert function is not None
    assert function.versions[1].capacity_provider_arn == CP
    assert function.versions[1].state == "Failed"
    assert snapshot.event_source_mappings[0].qualifier is None
    assert function.aliases[0].version == "1"
    assert snapshot.function("missing") is None


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_keep_must_be_at_least_one(bad: object) -> None:
    with pytest.raises(UsageError, match="keep"):
        PrunePolicy(keep=bad)  # type: ignore[arg-type]  # wrong on purpose


def test_a_name_set_given_as_a_string_is_refused() -> None:
    with pytest.raises(UsageError, match="collection of names"):
        PrunePolicy(capacity_providers="shared")  # type: ignore[arg-type]  # wrong on purpose


def test_versions_aws_is_deleting_count_as_going_not_as_newest() -> None:
    # LMI deletions are asynchronous (AWS-FACTS.md): a version stays listed, State Deleting.
    snapshot = snapshot_from_dicts({"functions": [{
        "name": "f", "capacity_provider": CP,
        "versions": ["$LATEST", 1, 2, 3, 4, {"version": 5, "state": "Deleting"}, 6],
    }]})
    decision = decide(snapshot, PrunePolicy(keep=2))
    by_version = {v.version: v for v in decision.verdicts}
    assert by_version["5"].action is Action.DELETING
    assert by_version["5"].describe() == "deleting: AWS is deleting it already (State Deleting)"
    assert by_version["5"] not in decision.deletions, "never deleted a second time"
    assert [v.version for v in decision.kept] == ["$LATEST", "4", "6"], "keep 2: 6 and 4, not 5"
    assert [v.version for v in decision.deletions] == ["1", "2", "3"]
    assert decision.versions_bound(CP) == 3
    assert decision.to_dict()["summary"]["deleting"] == 1


def test_a_deleting_version_never_blocks_a_retirement() -> None:
    snapshot = snapshot_from_dicts({"functions": [{
        "name": "f", "capacity_provider": OLD,
        "versions": [1, {"version": 2, "state": "Deleting"}]}]})
    decision = decide(snapshot, PrunePolicy(retire_capacity_providers={OLD}))
    assert decision.refusal() is None
    assert [v.action for v in decision.verdicts] == [Action.DELETE, Action.DELETING]
