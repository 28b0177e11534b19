"""External scanners (checkov, trivy): run them through :mod:`lmi_delivery.process`, read their
JSON, and turn their failed checks into :class:`Finding` values.

A scanner listed in ``gates.security.scanners`` but not on ``PATH`` becomes a medium finding
(GATE001), not a crash. A scanner that runs but fails (an exit code it does not use for "found
something", or output that is not its JSON) raises :class:`OperationFailed`: the gate cannot say
the code is clean.

Formats read: checkov ``-o json`` (one report object, or a list of them, one per framework,
with ``results.failed_checks[]``); trivy ``config --format json`` (``Results[].Misconfigurations[]``
with ``Status`` FAIL and ``CauseMetadata``).

Severities: trivy reports its own. checkov reports one only with a Prisma Cloud key, so its
checks are mapped through :mod:`~lmi_delivery.gates.checkov_severities` (the configuration's
overrides first, then checkov's own, then lmi-delivery's table, then medium); every checkov
finding says which mapping applied (``severity_from``).

checkov's CKV_AWS_117 ("Lambda function configured inside a VPC") fails on every function on a
capacity provider: the provider owns its networking, and a ``vpc_config`` on it is what AWS
refuses (LMI009). On the functions the plan runs on managed instances it is suppressed
automatically, kept in the report with the reason (:data:`LMI_VPC_REASON`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lmi_delivery import process
from lmi_delivery.config.model import Severity
from lmi_delivery.errors import Location, OperationFailed
from lmi_delivery.findings import SEVERITIES, Finding, Rule, Source
from lmi_delivery.gates import checkov_severities
from lmi_delivery.gates.rules import SECURITY, finding

Runner = Callable[..., process.Result]
LAMBDA_IN_VPC = "CKV_AWS_117"
LMI_VPC_REASON = ("suppressed for a function on a capacity provider: its execution environments "
                  "run in the provider's VPC, and a vpc_config on it is what AWS refuses (LMI009)")
_INDEX = re.compile(r'\[(?:"[^"]*"|[^\]"])*\]')


@dataclass(frozen=True)
class Scanner:
    name: Source
    argv: tuple[str, ...]
    ok_codes: tuple[int, ...]
    parse: Callable[[str, Path, Path], list[Finding]]


def _reported(value: Any) -> Severity | None:
    """A scanner's severity word as ours (``info`` is low); ``None`` when it gave none."""
    text = str(value or "").lower()
    if text == "info":
        return "low"
    for severity in SEVERITIES:
        if text == severity:
            return severity
    return None


def _severity(value: Any) -> Severity:
    return _reported(value) or "medium"


def _finding(source: Source, rule_id: str, severity: Severity, title: str, message: str, *,
             address: str, location: Location | None, help_uri: str, key: str = "",
             severity_from: str = "") -> Finding:
    """A scanner's finding, of a rule made from what the scanner says of its check."""
    rule = Rule(rule_id, severity, title or rule_id, title or message or rule_id,
                source=source, tags=SECURITY, help_uri=help_uri)
    return Finding(rule, severity, message, location, address=address, key=key,
                   severity_from=severity_from)


def _with_severity(item: Finding, severity: Severity, severity_from: str) -> Finding:
    """``item`` at another severity (its scanner rule's too), saying where it came from."""
    return replace(item, rule=replace(item.rule, severity=severity), severity=severity,
                   severity_from=severity_from)


def _relative(file: str, scan_dir: Path, repo_root: Path) -> str:
    path = (scan_dir / file.lstrip("/")).resolve()
    try:
        return Path(os.path.relpath(path, repo_root.resolve())).as_posix()
    except ValueError:
        return file


def parse_checkov(output: str, scan_dir: Path, repo_root: Path) -> list[Finding]:
    """Failed checks of checkov's JSON report (an object, or a list of one per framework),
    each with its severity and the mapping it came from."""
    data = _json(output, "checkov")
    reports = data if isinstance(data, list) else [data]
    found: list[Finding] = []
    for report in reports:
        results = report.get("results") if isinstance(report, Mapping) else None
        for check in (results or {}).get("failed_checks") or []:
            lines = check.get("file_line_range") or [0]
            file = str(check.get("repo_file_path") or check.get("file_path") or "")
            rule = str(check.get("check_id", "CKV_UNKNOWN"))
            severity, source = checkov_severities.severity(rule, _reported(check.get("severity")))
            name = str(check.get("check_name", ""))
            found.append(_finding(
                "checkov", rule, severity, name, name,
                severity_from=source,
                address=str(check.get("resource", "")),
                location=Location(_relative(file, scan_dir, repo_root), int(lines[0] or 0), 1)
                if file else None,
                help_uri=str(check.get("guideline") or ""),
            ))
    return found


def parse_trivy(output: str, scan_dir: Path, repo_root: Path) -> list[Finding]:
    """Failed misconfigurations of ``trivy config --format json``."""
    data = _json(output, "trivy")
    found: list[Finding] = []
    for result in (data.get("Results") or []) if isinstance(data, Mapping) else []:
        target = str(result.get("Target", ""))
        for item in result.get("Misconfigurations") or []:
            if str(item.get("Status", "FAIL")) != "FAIL":
                continue
            cause = item.get("CauseMetadata") or {}
            line = int(cause.get("StartLine") or 0)
            found.append(_finding(
                "trivy", str(item.get("AVDID") or item.get("ID") or "TRIVY_UNKNOWN"),
                _severity(item.get("Severity")), str(item.get("Title") or ""),
                str(item.get("Message") or item.get("Title") or ""),
                address=str(cause.get("Resource") or target),
                location=Location(_relative(target, scan_dir, repo_root), line, 1)
                if target else None,
                key=f"{target}:{line}",
                help_uri=str(item.get("PrimaryURL") or ""),
            ))
    return found


def _json(output: str, name: str) -> Any:
    try:
        return json.loads(output)
    except json.JSONDecodeError as exc:
        raise OperationFailed(f"{name} printed no JSON report ({exc.msg} at line "
                              f"{exc.lineno} column {exc.colno})") from None


SCANNERS: dict[str, Scanner] = {
    "checkov": Scanner("checkov", ("-d", ".", "--framework", "terraform", "-o", "json",
                                   "--quiet", "--compact"), (0, 1), parse_checkov),
    "trivy": Scanner("trivy", ("config", "--format", "json", "--quiet", "."), (0,), parse_trivy),
}


def suppress_lmi_vpc(findings: Iterable[Finding], lmi_functions: Collection[str]) -> list[Finding]:
    """CKV_AWS_117 on a function that runs on a capacity provider, suppressed with the reason.

    ``lmi_functions`` are the configuration addresses of those functions (instance keys
    removed); a scanner's address is compared without its instance keys too."""
    wanted = {_INDEX.sub("", a) for a in lmi_functions}
    return [replace(f, waived=LMI_VPC_REASON, suppression="automatic")
            if f.rule_id == LAMBDA_IN_VPC and f.waived is None
            and _INDEX.sub("", f.address) in wanted else f
            for f in findings]


def run_scanners(names: Sequence[str], *, scan_dir: Path, repo_root: Path,
                 env: Mapping[str, str], runner: Runner = process.run,
                 where: Location | None = None,
                 severities: Mapping[str, Severity] | None = None,
                 lmi_functions: Collection[str] = ()) -> list[Finding]:
    """Run each configured scanner found on ``env["PATH"]``; report the missing ones.

    ``severities`` overrides the severity of scanner rule ids; ``lmi_functions`` are the
    addresses of the functions on capacity providers (CKV_AWS_117 is suppressed on them)."""
    found: list[Finding] = []
    for name in names:
        found += list(_run_one(name, scan_dir, repo_root, env, runner, where, severities or {}))
    return suppress_lmi_vpc(found, lmi_functions)


def _run_one(name: str, scan_dir: Path, repo_root: Path, env: Mapping[str, str],
             runner: Runner, where: Location | None,
             severities: Mapping[str, Severity]) -> Iterator[Finding]:
    scanner = SCANNERS.get(name)
    binary = shutil.which(name, path=env.get("PATH", "")) if scanner else None
    if scanner is None or binary is None:
        missing = finding("GATE001", f"scanner.{name}",
                          f"scanner {name} configured but not installed (not found on PATH)")
        yield replace(missing, location=where)
        return
    result = runner([binary, *scanner.argv], cwd=scan_dir, env=env, check=False)
    if result.returncode not in scanner.ok_codes:
        tail = "\n".join(result.stderr.strip().splitlines()[-10:])
        raise OperationFailed(f"{name} failed with exit code {result.returncode}"
                              + (f":\n{tail}" if tail else ""),
                              context={"scanner": name, "returncode": result.returncode})
    for item in scanner.parse(result.stdout, scan_dir, repo_root):
        if item.rule_id in severities:
            item = _with_severity(item, severities[item.rule_id], "gates.security.severities")
        yield item
