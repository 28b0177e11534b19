"""The drift issue's body: counts, every drifted resource or "N more", the run, always bounded
and inert whatever the plan holds."""

from __future__ import annotations

import re

from md_checks import HOSTILE, code_span_body

from lmi_delivery.github.drift_report import MAX_BODY, DriftReport, marker, render_body
from lmi_delivery.postdeploy.drift import DriftFinding

RUN = "https://github.com/acme/platform/actions/runs/7"


def report(resources: list[tuple[str, str]], findings: tuple[DriftFinding, ...] = ()
           ) -> DriftReport:
    return DriftReport("shop", "prod", True, bool(resources), "Plan: 1 to add.",
                       {"add": len(resources)}, resources, findings, "", RUN)


def test_the_body_holds_counts_resources_findings_and_the_run() -> None:
    finding = DriftFinding("leftover-weights", "shop-prod-router:live", "alias live still ...")
    body = render_body(report([("create", "aws_s3_bucket.logs"), ("delete", "aws_sqs_queue.q")],
                              (finding,)))
    assert body.startswith(marker("prod") + "\n")
    assert "`Plan: 1 to add.`" in body
    assert "| 2 | 0 | 0 | 0 | 0 | 0 |" in body
    assert "- `create` `aws_s3_bucket.logs`\n- `delete` `aws_sqs_queue.q`" in body
    assert "- `leftover-weights` `shop-prod-router:live`: alias live still" in body
    assert f"[the drift run]({RUN})" in body


def test_twenty_thousand_resources_stay_under_the_limit_with_the_exact_rest_counted() -> None:
    resources = [("update", f"module.m{i}.aws_lambda_function.f{i}") for i in range(20_000)]
    findings = tuple(DriftFinding("scaling-unsettled", f"f:{i}", "x" * 50) for i in range(50))
    body = render_body(report(resources, findings))
    assert len(body) < MAX_BODY < 65_536
    shown = body.count("- `update` `module.")
    more = re.search(r"- … and (\d+) more \(see the run\)", body)
    assert more is not None
    assert shown + int(more.group(1)) == 20_000
    assert body.rstrip().endswith("closed once drift is gone.")
    assert f"[the drift run]({RUN})" in body


def test_outside_strings_stay_inert() -> None:
    for hostile in HOSTILE:
        body = render_body(report([("create", hostile)]))
        line = next(x for x in body.splitlines() if x.startswith("- `create` "))
        assert code_span_body(line.removeprefix("- `create` ")) == \
            " ".join(hostile.splitlines())
