"""Both gates, in every format, over the real plans of ``../shared/corpus/plans`` (other
projects' ``terraform show -json`` files, beside the repository in CI; never copied into it).

Through ``benchmarks/gates_corpus.py``, the script that also compares the findings with
checkov's. Here: no traceback, only documented exit codes, valid SARIF, every file read but
those that are not plans (each refused with its precise reason), and the corpus's own cases.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import shared_corpus

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "benchmarks"))

from gates_corpus import FileResult, run_corpus  # noqa: E402

# One worker runs the module (pytest-xdist's loadgroup): the corpus is gated once.
pytestmark = pytest.mark.xdist_group("gates-corpus")

#: The only reasons a real file may be refused: it is not a plan's JSON.
NOT_A_PLAN = ("is a Terraform state", "is a binary plan file", "malformed plan JSON: Extra data")


@pytest.fixture(scope="module")
def results() -> dict[str, FileResult]:
    return {r.name: r for r in run_corpus(shared_corpus.corpus("plans"))}


def test_no_traceback_documented_exit_codes_valid_sarif(results: dict[str, FileResult]) -> None:
    assert [t for r in results.values() for t in r.tracebacks] == []
    assert [u for r in results.values() for u in r.undocumented] == []
    assert [e for r in results.values() for e in r.sarif_errors] == []


def test_only_what_is_not_a_plan_is_refused(results: dict[str, FileResult]) -> None:
    refused = {name: r.refusal for name, r in results.items() if not r.read}
    assert all(any(reason in text for reason in NOT_A_PLAN) for text in refused.values()), \
        refused
    assert len(results) - len(refused) >= 86
    for name in ("real/hashicorp__terraform-json__testdata__basic__plan.json",       # fv 0.1
                 "real/infracost__infracost__cmd__infracost__testdata__example_plan.json",  # 0.2
                 "real/bridgecrewio__checkov__tests__terraform__parser__resources__"
                 "plan_encodings__tfplan_win_utf16.json",
                 "real/infracost__infracost__cmd__infracost__testdata__"
                 "plan_with_terraform_wrapper.json"):
        if name in results:
            assert results[name].read, results[name].refusal


def test_the_corpus_cases(results: dict[str, FileResult]) -> None:
    deferred = results["cases/deferred-policy-document-action-star.json"]
    assert deferred.addresses.get("SEC001") == {"aws_iam_role_policy.bucket_admin"}
    adopted = results["cases/default-subnet-adopted.json"]
    assert adopted.addresses.get("SEC020") == {"aws_instance.ec2"}
    state = results["cases/state-json-passed-as-plan.json"]
    assert set(state.exits.values()) == {2}
    assert "is a Terraform state" in state.refusal
