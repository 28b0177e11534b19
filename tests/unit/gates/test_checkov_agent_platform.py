"""The security gate with checkov configured, on examples/agent-platform.

The documented verdict: the gate **passes** at the example's ``fail_on: high``. Without a Prisma
Cloud key checkov 3.3.30 fails 10 checks on the example, none with a severity of its own;
lmi-delivery's table gives each one (none is high: KMS on the log group is medium, the rest
low), CKV_AWS_117 ("Lambda in a VPC") is suppressed on the router because it runs on a capacity
provider, and the built-in rules report the default VPC (SEC020, medium). A checkov finding of
a high check (an open SSH port) would refuse it.

Two runs: one with a stand-in ``checkov`` that prints the recorded output of the real checkov
3.3.30 on the example (always), one with the real checkov installed in its own virtualenv
(:mod:`checkov_tool`; checkov cannot share lmi-delivery's).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from checkov_tool import MissingCheckov, checkov_bin
from gates_helpers import AGENT_PLATFORM, PLANS, invoke

from lmi_delivery.gates.scanners import LMI_VPC_REASON

PLAN = PLANS / "security" / "positive" / "agent-platform.json"
CONFIG = AGENT_PLATFORM / "lmi-delivery.yml"
RECORDED = Path(__file__).parent / "samples" / "checkov-agent-platform.json"
TABLE = "lmi-delivery's checkov table (checkov 3.3.30"
EXPECTED = {
    "CKV_AWS_115": "low", "CKV_AWS_116": "low", "CKV_AWS_117": "low", "CKV_AWS_158": "medium",
    "CKV_AWS_173": "medium", "CKV_AWS_272": "low", "CKV_AWS_338": "low", "CKV_AWS_394": "low",
    "CKV_AWS_50": "low", "CKV2_AWS_5": "low",
}


def _gate(path: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = invoke(["security", "--plan-json", str(PLAN), "--config", str(CONFIG),
                             "--env", "dev", "--format", "json"], env={"PATH": path})
    return code, json.loads(out), err


def _assert_documented_verdict(code: int, report: dict[str, Any]) -> None:
    assert code == 0, report
    assert report["passed"] is True
    checkov = {f["rule"]: f for f in report["findings"] if f["source"] == "checkov"}
    assert {rule: f["severity"] for rule, f in checkov.items()} == EXPECTED
    assert all(f["severity_from"].startswith(TABLE) for f in checkov.values())
    vpc = checkov["CKV_AWS_117"]
    assert (vpc["address"], vpc["waived"], vpc["suppression"], vpc["blocking"]) == \
        ("aws_lambda_function.router", LMI_VPC_REASON, "automatic", False)
    assert report["counts"]["suppressed"] == 1
    own = sorted((f["rule"], f["address"]) for f in report["findings"]
                 if f["source"] == "lmi-delivery")
    assert own == [("SEC020", "aws_lambda_capacity_provider.shared"),
                   ("SEC020", "aws_security_group.capacity_provider")]
    assert report["counts"]["blocking"] == 0


def test_recorded_checkov_output_gives_the_documented_verdict(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "checkov"
    fake.write_text(f"#!{sys.executable}\nimport sys\n"
                    f"sys.stdout.write(open({str(RECORDED)!r}).read())\nsys.exit(1)\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    code, report, _ = _gate(str(bin_dir))
    _assert_documented_verdict(code, report)
    code, out, _ = invoke(["security", "--plan-json", str(PLAN), "--config", str(CONFIG),
                           "--env", "dev"], env={"PATH": str(bin_dir)})
    assert f"[suppressed: {LMI_VPC_REASON}]" in out
    assert "(severity from lmi-delivery's checkov table (checkov 3.3.30" in out


@pytest.mark.slow
def test_real_checkov_gives_the_documented_verdict() -> None:
    try:
        bin_dir = checkov_bin()
    except MissingCheckov as exc:
        pytest.fail(f"checkov could not be installed for the integration test: {exc}")
    path = os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])
    code, report, _ = _gate(path)
    _assert_documented_verdict(code, report)
