"""Run both gates, in every format, over the real plans of ``../shared/corpus/plans``.

For each file of ``real/``, ``derived/`` and ``cases/``: ``gates security`` and ``gates
validate`` in text, json and sarif (in-process, through the click command, as a user runs
them). Recorded per file: the exit code of each run, the reason of a refusal (exit 2), the rules
found, whether any run raised something else than lmi-delivery's own errors (a traceback) or
exited with an undocumented code, and whether every SARIF document validates against the
vendored SARIF 2.1.0 schema.

With ``--checkov DIR`` (one ``<folder>__<stem>.json`` per plan: the output of ``checkov -f FILE
--framework terraform_plan -o json``), the findings are compared with checkov's, family by
family (:data:`FAMILIES`): for each file, the addresses each side flags.

    python benchmarks/gates_corpus.py [--corpus ../shared/corpus/plans] [--checkov DIR]
                                      [--json OUT]

The corpus is data for checking, not for copying: nothing here writes into the repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from lmi_delivery.cli.commands.gates import gates_group
from lmi_delivery.errors import LmiError
from lmi_delivery.findings import schema_errors

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "plans"
FOLDERS = ("real", "derived", "cases")
FORMATS = ("text", "json", "sarif")
GATES = ("security", "validate")
DOCUMENTED_EXITS = {0, 2, 3}

CONFIG = """\
version: 1
service: corpus
region: us-east-1
terraform:
  working_directory: terraform
codebuild:
  artifacts: s3://corpus-artifacts/plans
environments:
  dev: {branch: dev, apply: auto}
gates:
  security: {fail_on: high}
  validation: {fmt: false}
"""

#: Rule families both sides claim: ours, and the checkov checks that test the same thing.
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "IAM: every action (Action \"*\")": (
        ("SEC001",), ("CKV_AWS_1", "CKV_AWS_49", "CKV_AWS_62", "CKV_AWS_63")),
    "Security group open to the internet (SSH, RDP, 80, all ports)": (
        ("SEC010",), ("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277")),
    "Secrets in Lambda environment": (("SEC030", "SEC031"), ("CKV_AWS_45",)),
}


@dataclass
class FileResult:
    name: str
    exits: dict[str, int] = field(default_factory=dict)
    """``gate/format`` → exit code."""
    refusal: str = ""
    rules: Counter[str] = field(default_factory=Counter)
    addresses: dict[str, set[str]] = field(default_factory=dict)
    """rule → addresses it flagged."""
    compared: dict[str, set[str]] = field(default_factory=dict)
    """rule → what to compare with checkov: the policy document a finding was read from
    (checkov reports documents, not the policies made from them), else the address."""
    tracebacks: list[str] = field(default_factory=list)
    sarif_errors: list[str] = field(default_factory=list)

    @property
    def read(self) -> bool:
        return 2 not in self.exits.values()

    @property
    def undocumented(self) -> list[str]:
        return [f"{run}={code}" for run, code in self.exits.items()
                if code not in DOCUMENTED_EXITS]


def plans(corpus: Path) -> Iterator[Path]:
    for folder in FOLDERS:
        yield from sorted((corpus / folder).glob("*.json"))


def _invoke(args: Sequence[str]) -> tuple[int, str, str, str | None]:
    """(exit code, stdout, message, traceback text or None) of ``gates ARGS``."""
    result = CliRunner().invoke(gates_group, list(args), standalone_mode=False)
    error = result.exception
    if isinstance(error, LmiError):
        return error.exit_code, result.stdout, str(error), None
    if error is not None and not isinstance(error, SystemExit):
        import traceback

        text = "".join(traceback.format_exception(error))
        return 1, result.stdout, str(error), text
    return result.exit_code, result.stdout, "", None


def run_file(path: Path, config: Path) -> FileResult:
    result = FileResult(f"{path.parent.name}/{path.name}")
    for gate in GATES:
        for fmt in FORMATS:
            code, out, message, trace = _invoke(
                [gate, "--plan-json", str(path), "--config", str(config), "--format", fmt])
            result.exits[f"{gate}/{fmt}"] = code
            if trace is not None:
                result.tracebacks.append(f"{gate}/{fmt}: {trace}")
            if code == 2 and not result.refusal:
                result.refusal = message.replace(str(path.parent) + "/", "")
            if fmt == "json" and code in (0, 3) and out:
                for item in json.loads(out)["findings"]:
                    result.rules[item["rule"]] += 1
                    result.addresses.setdefault(item["rule"], set()).add(item["address"])
                    documents = _DOCUMENT.findall(item["message"])
                    result.compared.setdefault(item["rule"], set()).update(
                        documents or [item["address"]])
            if fmt == "sarif" and code in (0, 3) and out:
                errors = schema_errors(json.loads(out))
                result.sarif_errors += [f"{gate}: {e}" for e in errors[:3]]
    return result


def run_corpus(corpus: Path) -> list[FileResult]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "terraform").mkdir()
        (root / "terraform" / "main.tf").write_text("# the corpus plans' code is not here\n")
        config = root / "lmi-delivery.yml"
        config.write_text(CONFIG, encoding="utf-8")
        return [run_file(path, config) for path in plans(corpus)]


# -- checkov comparison -------------------------------------------------------------------

_INDEX = re.compile(r"\[[^\]]*\]")
_DOCUMENT = re.compile(r"\(from (data\.aws_iam_policy_document\.[^)\s]+)\)")


def _norm(address: str) -> str:
    """Addresses compared without instance keys and without a ``data.`` prefix."""
    return _INDEX.sub("", address).replace("data.", "")


def checkov_addresses(output: Path) -> dict[str, set[str]]:
    """check id → addresses checkov failed, from its JSON report (empty if it had none)."""
    try:
        data = json.loads(output.read_text(encoding="utf-8") or "[]")
    except (OSError, json.JSONDecodeError):
        return {}
    reports = data if isinstance(data, list) else [data]
    found: dict[str, set[str]] = {}
    for report in reports:
        if not isinstance(report, Mapping):
            continue
        for check in (report.get("results") or {}).get("failed_checks") or []:
            address = str(check.get("resource_address") or check.get("resource") or "")
            found.setdefault(str(check["check_id"]), set()).add(address)
    return found


@dataclass
class FamilyRow:
    family: str
    both: int = 0
    only_ours: int = 0
    only_checkov: int = 0
    files: int = 0
    examples: list[str] = field(default_factory=list)


def compare(results: Sequence[FileResult], checkov_dir: Path) -> list[FamilyRow]:
    rows = []
    for family, (ours, theirs) in FAMILIES.items():
        row = FamilyRow(family)
        for result in results:
            if not result.read:
                continue
            stem = result.name.replace("/", "__").removesuffix(".json")
            checkov = checkov_addresses(checkov_dir / f"{stem}.json")
            mine = {_norm(a) for r in ours for a in result.compared.get(r, ())}
            other = {_norm(a) for c in theirs for a in checkov.get(c, ())}
            if mine or other:
                row.files += 1
            row.both += len(mine & other)
            row.only_ours += len(mine - other)
            row.only_checkov += len(other - mine)
            row.examples += [f"checkov only: {result.name} {a}" for a in sorted(other - mine)]
        rows.append(row)
    return rows


def report(results: Sequence[FileResult], rows: Sequence[FamilyRow], seconds: float) -> str:
    read = [r for r in results if r.read]
    refused = [r for r in results if not r.read]
    lines = [f"{len(results)} files, {len(results) * len(GATES) * len(FORMATS)} runs in "
             f"{seconds:.1f} s: {len(read)} read, {len(refused)} refused (exit 2)"]
    lines.append(f"tracebacks: {sum(len(r.tracebacks) for r in results)}; undocumented exit "
                 f"codes: {sum(len(r.undocumented) for r in results)}; SARIF schema errors: "
                 f"{sum(len(r.sarif_errors) for r in results)}")
    lines.append("refused:")
    lines += [f"  {r.name}: {r.refusal}" for r in refused]
    totals: Counter[str] = Counter()
    for r in results:
        totals.update(r.rules)
    lines.append("findings by rule: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())))
    if rows:
        lines.append("family | files | both | ours only | checkov only")
        lines += [f"{r.family} | {r.files} | {r.both} | {r.only_ours} | {r.only_checkov}"
                  for r in rows]
        lines += [f"  {e}" for r in rows for e in r.examples]
    for r in results:
        lines += [f"TRACEBACK {r.name}: {t}" for t in r.tracebacks]
        lines += [f"UNDOCUMENTED {r.name}: {u}" for u in r.undocumented]
        lines += [f"SARIF {r.name}: {e}" for e in r.sarif_errors]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--checkov", type=Path, help="directory of recorded checkov reports")
    parser.add_argument("--json", type=Path, help="write the per-file results here")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    started = time.monotonic()
    results = run_corpus(args.corpus)
    seconds = time.monotonic() - started
    rows = compare(results, args.checkov) if args.checkov else []
    sys.stdout.write(report(results, rows, seconds))
    if args.json:
        args.json.write_text(json.dumps([{
            "file": r.name, "exits": r.exits, "refusal": r.refusal, "rules": dict(r.rules),
            "addresses": {k: sorted(v) for k, v in r.addresses.items()},
            "compared": {k: sorted(v) for k, v in r.compared.items()},
        } for r in results], indent=1), encoding="utf-8")
    bad = any(r.tracebacks or r.undocumented or r.sarif_errors for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
