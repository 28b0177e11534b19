"""Scanner output parsing (recorded samples of checkov and trivy JSON) and running them.

Running uses a fake ``checkov`` script on a PATH the test builds, through the real
:func:`lmi_delivery.process.run`; a recording runner stands in where only the command matters.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from lmi_delivery import process
from lmi_delivery.errors import Location, OperationFailed
from lmi_delivery.gates.scanners import parse_checkov, parse_trivy, run_scanners

SAMPLES = Path(__file__).parent / "samples"
REPO = Path("/repo")
SCAN = REPO / "terraform"


def test_checkov_failed_checks_become_findings() -> None:
    found = parse_checkov((SAMPLES / "checkov.json").read_text(), SCAN, REPO)
    table = "lmi-delivery's checkov table (checkov 3.3.30)"
    assert [(f.rule_id, f.severity, f.address, str(f.location), f.source, f.severity_from)
            for f in found] == [
        ("CKV_AWS_117", "low", "aws_lambda_function.router", "terraform/function.tf:12:1",
         "checkov", table),
        ("CKV_AWS_338", "low", "aws_cloudwatch_log_group.router", "terraform/function.tf:7:1",
         "checkov", "checkov"),
        ("CKV_AWS_24", "high", "aws_security_group.capacity_provider",
         "terraform/network.tf:28:1", "checkov", "checkov"),
    ]
    assert found[0].rule.help_uri.startswith("https://")
    assert found[0].rule.title == "Ensure that AWS Lambda function is configured inside a VPC"


def test_checkov_list_of_reports_one_per_framework() -> None:
    single = (SAMPLES / "checkov.json").read_text()
    both = f'[{single}, {{"check_type": "secrets", "results": {{"failed_checks": []}}}}]'
    assert len(parse_checkov(both, SCAN, REPO)) == 3


def test_trivy_failed_misconfigurations_become_findings() -> None:
    found = parse_trivy((SAMPLES / "trivy.json").read_text(), SCAN, REPO)
    assert [(f.rule_id, f.severity, f.address, str(f.location)) for f in found] == [
        ("AVD-AWS-0107", "critical", "aws_vpc_security_group_ingress_rule.https",
         "terraform/network.tf:34:1"),
        ("AVD-AWS-0178", "medium", "aws_vpc.main", "terraform/modules/net/main.tf:1:1"),
    ]
    assert {f.source for f in found} == {"trivy"}


def test_output_that_is_not_json_is_an_operation_failure() -> None:
    with pytest.raises(OperationFailed, match="checkov printed no JSON report"):
        parse_checkov("Traceback (most recent call last):", SCAN, REPO)


def test_configured_but_not_installed_is_a_medium_finding(tmp_path: Path) -> None:
    where = Location("lmi-delivery.yml", 35, 15)
    found = run_scanners(["checkov", "trivy"], scan_dir=tmp_path, repo_root=tmp_path,
                         env={"PATH": str(tmp_path / "empty")}, where=where)
    assert [(f.rule_id, f.severity, f.address, f.location) for f in found] == [
        ("GATE001", "medium", "scanner.checkov", where),
        ("GATE001", "medium", "scanner.trivy", where),
    ]
    assert found[0].message == "scanner checkov configured but not installed (not found on PATH)"


def _fake(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_a_fake_checkov_on_path_runs_in_the_working_directory(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    work = repo / "terraform"
    work.mkdir(parents=True)
    sample = SAMPLES / "checkov.json"
    _fake(tmp_path / "bin", "checkov", (
        "import os, sys\n"
        "open(os.path.join(os.environ['ARGS_OUT']), 'w').write(' '.join(sys.argv[1:]) + '\\n'"
        " + os.getcwd())\n"
        f"sys.stdout.write(open({str(sample)!r}).read())\n"
        "sys.exit(1)\n"))
    args_out = tmp_path / "args.txt"
    env = {"PATH": str(tmp_path / "bin"), "ARGS_OUT": str(args_out)}
    found = run_scanners(["checkov"], scan_dir=work, repo_root=repo, env=env)
    assert [f.rule_id for f in found] == ["CKV_AWS_117", "CKV_AWS_338", "CKV_AWS_24"]
    assert str(found[0].location) == "terraform/function.tf:12:1"
    argv, cwd = args_out.read_text().splitlines()
    assert argv == "-d . --framework terraform -o json --quiet --compact"
    assert os.path.realpath(cwd) == os.path.realpath(work)


def test_a_scanner_crash_fails_the_gate_instead_of_passing_it(tmp_path: Path) -> None:
    _fake(tmp_path / "bin", "trivy", "import sys\nsys.stderr.write('fatal: no cache\\n')\n"
          "sys.exit(2)\n")
    with pytest.raises(OperationFailed, match="trivy failed with exit code 2"):
        run_scanners(["trivy"], scan_dir=tmp_path, repo_root=tmp_path,
                     env={"PATH": str(tmp_path / "bin")})


def test_scanners_go_through_the_injected_runner(tmp_path: Path) -> None:
    _fake(tmp_path / "bin", "trivy", "")
    calls: list[dict[str, Any]] = []

    def runner(argv: list[str], **kwargs: Any) -> process.Result:
        calls.append({"argv": argv, **kwargs})
        return process.Result(0, (SAMPLES / "trivy.json").read_text(), "")

    env = {"PATH": str(tmp_path / "bin")}
    found = run_scanners(["trivy"], scan_dir=tmp_path, repo_root=tmp_path, env=env,
                         runner=runner)
    assert len(found) == 2
    assert calls[0]["argv"][1:] == ["config", "--format", "json", "--quiet", "."]
    assert calls[0]["env"] == env
    assert calls[0]["check"] is False


def test_a_configured_severity_is_the_findings_and_its_rules(tmp_path: Path) -> None:
    """``gates.security.severities``: the SARIF rule of the check says the same severity."""
    _fake(tmp_path / "bin", "trivy", "")

    def runner(argv: list[str], **kwargs: Any) -> process.Result:
        return process.Result(0, (SAMPLES / "trivy.json").read_text(), "")

    plain = run_scanners(["trivy"], scan_dir=tmp_path, repo_root=tmp_path,
                         env={"PATH": str(tmp_path / "bin")}, runner=runner)
    rule_id = plain[0].rule_id
    found = run_scanners(["trivy"], scan_dir=tmp_path, repo_root=tmp_path,
                         env={"PATH": str(tmp_path / "bin")}, runner=runner,
                         severities={rule_id: "low"})
    assert plain[0].severity == "critical"
    changed = [f for f in found if f.rule_id == rule_id]
    assert changed
    assert {(f.severity, f.rule.severity, f.severity_from) for f in changed} == {
        ("low", "low", "gates.security.severities")}
    assert {(f.rule.source, f.rule.tags) for f in found} == {("trivy", ("security",))}
