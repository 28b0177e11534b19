"""The side-by-side benchmark at a small size (``side_by_side.SMALL``), so its harness cannot rot.

Every contestant really runs against one sandbox (15 requests/s, 70 ms a call): lmi-delivery's
pruner, the seed platform's, serverless-prune-plugin's own code under Node; then post-deploy of
1 and 3 functions. The test asserts that each one's figures are there and measured (calls and
throttles from the sandbox's journal), that lmi-delivery deletes nothing it must keep and keeps
nothing it must delete, and what the oracle says of the peers. It asserts no timing: the
benchmark prints those, against the budget's bound.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import side_by_side  # noqa: E402

CONTESTANTS = ("lmi_delivery", "seed", "serverless_prune_plugin")
FIGURES = ("seconds", "calls", "throttles_seen", "throttles_surfaced", "wrong_deletes",
           "wrong_keeps", "lower_bound_seconds", "ratio_to_lower_bound")


def test_every_contestant_runs_and_lmi_delivery_prunes_exactly(node_tools: Path) -> None:
    results = side_by_side.run(side_by_side.SMALL, say=lambda _: None)

    prune = results["prune"]
    assert tuple(prune) == CONTESTANTS
    for figures in prune.values():
        assert all(figures[key] is not None for key in FIGURES)
        assert figures["seconds"] > 0
        assert figures["calls"] == sum(figures["calls_by_operation"].values()) > 0
        assert figures["calls_by_operation"].get("DeleteFunction", 0) > 0
        assert figures["published_during_run"] == 2, "the concurrent deploy ran"

    ours = prune["lmi_delivery"]
    assert ours["wrong_deletes"] == 0, ours["wrong_deletes_by_reason"]
    assert ours["wrong_keeps"] == 0
    assert ours["throttles_surfaced"] == 0
    assert ours["errors_surfaced"] == []
    assert ours["calls_by_operation"]["DeleteFunction"] == ours["versions_to_delete"]

    seed = prune["seed"]  # it knows neither event source mappings nor weighted routing
    assert seed["wrong_deletes_by_reason"].get("event source mapping") == 1
    assert any("ResourceConflictException" in e for e in seed["errors_surfaced"])
    plugin = prune["serverless_prune_plugin"]  # a refused deletion stops its whole run
    assert len(plugin["errors_surfaced"]) == 1
    assert "ResourceConflictException" in plugin["errors_surfaced"][0]
    assert plugin["wrong_keeps"] > 0

    post = results["post_deploy"]
    assert tuple(post) == ("1", "3")
    for size, run in post.items():
        assert run["status"] == "succeeded", run["error"]
        assert run["aliases_on_new_version"] == run["functions"] == int(size)
        assert (run["wrong_deletes"], run["wrong_keeps"], run["throttles_surfaced"]) == (0, 0, 0)
        assert run["calls_by_operation"]["PublishVersion"] == 2 * int(size)
        assert run["goal_seconds"] > 0

    printed = side_by_side.table(results)
    for label in ("lmi-delivery", "seed platform's pruner", "serverless-prune-plugin"):
        assert label in printed
