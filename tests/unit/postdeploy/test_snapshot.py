"""The snapshot reader against an injected fake Lambda client: pages, scope, call budget,
scaling reads only where they matter, and the fallback when the LMI API is missing."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lmi_delivery.postdeploy.prune.decision import Action, PrunePolicy, Reason, decide
from lmi_delivery.postdeploy.prune.snapshot import SnapshotStats, take_snapshot

REGION, ACCOUNT = "eu-west-1", "123456789012"
CP = f"arn:aws:lambda:{REGION}:{ACCOUNT}:capacity-provider:shared"
OTHER_CP = f"arn:aws:lambda:{REGION}:{ACCOUNT}:capacity-provider:other"
STARTED = datetime(2026, 1, 2, tzinfo=UTC)


def fn_arn(name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def error(code: str, status: int, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


class FakeLambda:
    """Just enough of a Lambda client: the listing calls, paged as AWS pages them. The reader
    calls it from several threads, as it calls boto3's (thread-safe) clients."""

    def __init__(self, *, lmi_api: bool = True) -> None:
        self.lmi_api = lmi_api
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.versions: dict[str, list[dict[str, Any]]] = {}
        self.aliases: dict[str, list[dict[str, Any]]] = {}
        self.mappings: list[dict[str, Any]] = []
        self.scaling: dict[tuple[str, str], int] = {}
        self.vanished: set[str] = set()

    def add(self, name: str, count: int, provider: str | None = CP,
            moved_from: dict[int, str] | None = None) -> None:
        def config(arn: str | None) -> dict[str, Any]:
            return ({"CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig": {
                "CapacityProviderArn": arn}}} if arn else {})

        self.versions[name] = [{"Version": "$LATEST", **config(provider)}] + [
            {"Version": str(n), "State": "Active", "LastModified": "2026-01-01T00:00:00.000+0000",
             **config((moved_from or {}).get(n, provider))} for n in range(1, count + 1)]

    def count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    @staticmethod
    def page(items: list[Any], key: str, marker: str | None, size: int) -> dict[str, Any]:
        start = int(marker or 0)
        out: dict[str, Any] = {key: items[start:start + size]}
        if start + size < len(items):
            out["NextMarker"] = str(start + size)
        return out

    def list_function_versions_by_capacity_provider(self, CapacityProviderName: str,
                                                    MaxItems: int = 50,
                                                    Marker: str | None = None) -> Any:
        self.count("ListFunctionVersionsByCapacityProvider")
        if not self.lmi_api:
            raise error("UnknownOperationException", 404,
                        "ListFunctionVersionsByCapacityProvider")
        items = [{"FunctionArn": fn_arn(name, v["Version"]), "State": "Active"}
                 for name, versions in sorted(self.versions.items()) for v in versions
                 if v["Version"] != "$LATEST" and CapacityProviderName == _provider_name(v)]
        return self.page(items, "FunctionVersions", Marker, min(MaxItems, 50))

    def list_functions(self, MaxItems: int = 50, Marker: str | None = None) -> Any:
        self.count("ListFunctions")
        items = [{"FunctionName": name, **{k: v for k, v in versions[0].items()
                                           if k != "Version"}}
                 for name, versions in sorted(self.versions.items())]
        return self.page(items, "Functions", Marker, min(MaxItems, 50))

    def list_versions_by_function(self, FunctionName: str, MaxItems: int = 50,
                                  Marker: str | None = None) -> Any:
        self.count("ListVersionsByFunction")
        if FunctionName in self.vanished:
            raise error("ResourceNotFoundException", 404, "ListVersionsByFunction")
        return self.page(self.versions[FunctionName], "Versions", Marker, min(MaxItems, 50))

    def list_aliases(self, FunctionName: str, MaxItems: int = 50,
                     Marker: str | None = None) -> Any:
        self.count("ListAliases")
        return self.page(self.aliases.get(FunctionName, []), "Aliases", Marker,
                         min(MaxItems, 50))

    def list_event_source_mappings(self, MaxItems: int = 100,
                                   Marker: str | None = None) -> Any:
        self.count("ListEventSourceMappings")
        return self.page(self.mappings, "EventSourceMappings", Marker, min(MaxItems, 100))

    def get_function_scaling_config(self, FunctionName: str, Qualifier: str) -> Any:
        self.count("GetFunctionScalingConfig")
        low = self.scaling.get((FunctionName, Qualifier))
        if low is None:
            return {"FunctionArn": fn_arn(FunctionName, Qualifier)}
        config = {"MinExecutionEnvironments": low, "MaxExecutionEnvironments": max(low, 4)}
        return {"RequestedFunctionScalingConfig": config, "AppliedFunctionScalingConfig": config}


def _provider_name(version: dict[str, Any]) -> str:
    inner = (version.get("CapacityProviderConfig") or {}).get(
        "LambdaManagedInstancesCapacityProviderConfig") or {}
    return str(inner.get("CapacityProviderArn", "")).rsplit(":", 1)[-1]


def snap(fake: FakeLambda, **kwargs: Any) -> tuple[Any, SnapshotStats]:
    stats = SnapshotStats()
    kwargs.setdefault("capacity_provider_arns", [CP])
    snapshot = take_snapshot(fake, started_at=STARTED, stats=stats, **kwargs)  # type: ignore[arg-type]  # a fake client
    assert stats.calls == fake.calls, "the stats count every call made"
    return snapshot, stats


def test_pages_through_every_listing() -> None:
    fake = FakeLambda()
    fake.add("big", 120)
    fake.aliases["big"] = [{"Name": f"a{n}", "FunctionVersion": str(n)} for n in range(1, 61)]
    snapshot, stats = snap(fake)
    big = snapshot.function("big")
    assert len(big.versions) == 121
    assert len(big.aliases) == 60
    assert stats.calls["ListFunctionVersionsByCapacityProvider"] == 3  # 120 in pages of 50
    assert stats.calls["ListVersionsByFunction"] == 3  # 121
    assert stats.calls["ListAliases"] == 2
    assert stats.listed == {CP: 120}
    assert big.versions[1].last_modified == datetime(2026, 1, 1, tzinfo=UTC)
    assert big.versions[1].capacity_provider_arn == CP


def test_functions_out_of_scope_cost_only_the_provider_listing() -> None:
    fake = FakeLambda()
    fake.add("mine", 5)
    fake.add("theirs", 40)
    snapshot, stats = snap(fake, function_names={"mine"})
    assert stats.calls["ListVersionsByFunction"] == 1
    assert stats.calls["ListAliases"] == 1
    theirs = snapshot.function("theirs")
    assert [v.version for v in theirs.versions][:3] == ["1", "2", "3"]
    assert all(v.capacity_provider_arn == CP for v in theirs.versions)
    decision = decide(snapshot, PrunePolicy(keep=1, capacity_providers={CP},
                                            functions={"mine"}))
    assert {v.function for v in decision.deletions} == {"mine"}
    assert decision.versions_bound(CP) == 1 + 1 + 40  # mine's newest and $LATEST, theirs all


def test_event_source_mappings_in_one_account_wide_listing() -> None:
    fake = FakeLambda()
    for name in ("a", "b", "c"):
        fake.add(name, 3)
    fake.mappings = [{"UUID": "u1", "FunctionArn": fn_arn("a", "1")},
                     {"UUID": "u2", "FunctionArn": fn_arn("b")},
                     {"UUID": "u3", "FunctionArn": fn_arn("elsewhere", "2")}]
    snapshot, stats = snap(fake)
    assert stats.calls["ListEventSourceMappings"] == 1
    assert [(m.uuid, m.function_name, m.qualifier) for m in snapshot.event_source_mappings] == [
        ("u1", "a", "1"), ("u2", "b", None)]


def test_scaling_is_read_only_for_deletion_candidates_of_unmanaged_functions() -> None:
    fake = FakeLambda()
    fake.add("managed", 6)
    fake.add("unmanaged", 6)
    fake.aliases["unmanaged"] = [{"Name": "live", "FunctionVersion": "2"}]
    fake.scaling = {("unmanaged", "1"): 2, ("managed", "1"): 2}
    policy = PrunePolicy(keep=3, capacity_providers={CP}, owned_functions={"managed"})
    snapshot, stats = snap(fake, policy=policy)
    # unmanaged: 1 and 3 are candidates (2 is aliased, 4-6 newest); managed: none read
    assert stats.calls["GetFunctionScalingConfig"] == 2
    decision = decide(snapshot, policy)
    assert decision.verdict("unmanaged", "1").reason is Reason.SCALING_MIN  # type: ignore[union-attr]  # exists
    assert decision.verdict("unmanaged", "3").action is Action.DELETE  # type: ignore[union-attr]  # exists
    assert decision.verdict("managed", "1").action is Action.DELETE  # type: ignore[union-attr]  # exists


def test_without_a_policy_every_published_version_gets_its_scaling_read() -> None:
    fake = FakeLambda()
    fake.add("f", 4)
    _, stats = snap(fake)
    assert stats.calls["GetFunctionScalingConfig"] == 4


def test_weighted_alias_and_moved_versions() -> None:
    fake = FakeLambda()
    fake.add("f", 6, moved_from={1: OTHER_CP, 2: OTHER_CP})
    fake.aliases["f"] = [{"Name": "live", "FunctionVersion": "5",
                          "RoutingConfig": {"AdditionalVersionWeights": {"6": 0.2}}}]
    snapshot, _ = snap(fake)
    f = snapshot.function("f")
    assert f.aliases[0].additional_weights == (("6", 0.2),)
    assert [v.capacity_provider_arn for v in f.versions[1:3]] == [OTHER_CP, OTHER_CP]
    decision = decide(snapshot, PrunePolicy(keep=1, capacity_providers={CP}))
    # 5 and 6 are the alias's; keep 1 besides them keeps 4
    assert [v.version for v in decision.deletions] == ["3"]
    assert decision.verdict("f", "1").reason is Reason.OUT_OF_SCOPE  # type: ignore[union-attr]  # exists


def test_a_function_deleted_meanwhile_is_left_out() -> None:
    fake = FakeLambda()
    fake.add("gone", 3)
    fake.add("here", 3)
    fake.vanished = {"gone"}
    snapshot, _ = snap(fake)
    assert [f.name for f in snapshot.functions] == ["here"]


def test_falls_back_to_listing_functions_without_the_lmi_api() -> None:
    fake = FakeLambda(lmi_api=False)
    fake.add("on-provider", 3)
    fake.add("standard", 2, provider=None)
    fake.add("named", 2, provider=OTHER_CP)
    snapshot, stats = snap(fake, function_names=None)
    assert stats.fallback == "ListFunctionVersionsByCapacityProvider is unavailable " \
                             "(UnknownOperationException)"
    assert stats.calls["ListFunctions"] == 1
    assert [f.name for f in snapshot.functions] == ["on-provider"]
    assert stats.listed == {CP: 3}


def test_other_errors_are_not_mistaken_for_a_missing_api() -> None:
    class Denied(FakeLambda):
        def list_function_versions_by_capacity_provider(self, **_: Any) -> Any:
            self.count("ListFunctionVersionsByCapacityProvider")
            raise error("AccessDeniedException", 403, "ListFunctionVersionsByCapacityProvider")

    with pytest.raises(ClientError):
        snap(Denied())
