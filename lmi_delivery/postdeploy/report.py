"""What a post-deploy did: progress as it happens, the report at the end, the record rollback reads.

:class:`ProgressLog` prints progress lines and keeps an ordered event log (``publish``, ``active``,
``alias``, …) that reports and tests read. :class:`PostDeployReport` holds, per function, the
published version, the alias move, the scaling applied and the warm-up results, plus the prune
summary; it renders as text, Markdown or JSON. :func:`store_last` / :func:`load_last` keep the
report of the last deploy at ``<artifacts>/<service>/<env>/post-deploy/last.json``, where a later
``lmi-delivery rollback`` finds it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SCHEMA = "lmi-delivery/post-deploy@1"


@dataclass(frozen=True)
class Event:
    kind: str
    function: str
    detail: str
    at: float


class ProgressLog:
    """Progress for humans (``echo``) and an event log for machines; safe across threads."""

    def __init__(self, echo: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._echo = echo
        self._clock = clock
        self._lock = threading.Lock()
        self.events: list[Event] = []

    def say(self, message: str) -> None:
        if self._echo is not None:
            with self._lock:
                self._echo(message)

    def record(self, kind: str, function: str, detail: str = "", *,
               message: str | None = None) -> None:
        with self._lock:
            self.events.append(Event(kind, function, detail, self._clock()))
        if message:
            self.say(message)

    def kinds(self, function: str | None = None) -> list[str]:
        return [e.kind for e in self.events if function in (None, e.function)]


@dataclass
class WarmInvocation:
    id: str
    executed_version: str
    latency_ms: float
    status: int
    error: str | None = None


@dataclass
class FunctionReport:
    function: str
    alias: str | None = None
    published_version: str | None = None
    alias_from: str | None = None
    alias_to: str | None = None
    alias_action: str | None = None
    """``created``, ``moved``, ``unchanged`` or ``planned``."""
    scaling: dict[str, int] | None = None
    warm: list[WarmInvocation] = field(default_factory=list)
    schedule: str | None = None

    def warm_summary(self) -> str:
        if not self.warm:
            return "-"
        versions = sorted({w.executed_version for w in self.warm})
        latencies = sorted(w.latency_ms for w in self.warm)
        return (f"{len(self.warm)} invocation(s) ran {', '.join(versions)}; latency "
                f"p50 {latencies[len(latencies) // 2]:.0f} ms, max {latencies[-1]:.0f} ms")


@dataclass
class PostDeployReport:
    service: str
    environment: str
    dry_run: bool = False
    steps: list[str] = field(default_factory=list)
    functions: dict[str, FunctionReport] = field(default_factory=dict)
    prune: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    status: str = "running"
    error: str | None = None
    events: list[Event] = field(default_factory=list)

    def function(self, name: str) -> FunctionReport:
        if name not in self.functions:
            self.functions[name] = FunctionReport(name)
        return self.functions[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "kind": "post-deploy",
            "service": self.service,
            "environment": self.environment,
            "dry_run": self.dry_run,
            "status": self.status,
            "error": self.error,
            "steps": list(self.steps),
            "functions": [asdict(f) for f in self.functions.values()],
            "prune": self.prune,
            "notes": list(self.notes),
            "events": [asdict(e) for e in self.events],
        }

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2) + "\n"
        if fmt == "markdown":
            return to_markdown(self)
        return to_text(self)


def _alias_text(f: FunctionReport) -> str:
    if f.alias_action is None:
        return "-"
    return f"{f.alias}: {f.alias_from or '(none)'} -> {f.alias_to} ({f.alias_action})"


def _scaling_text(f: FunctionReport) -> str:
    if f.scaling is None:
        return "-"
    return f"min {f.scaling['min']}, max {f.scaling['max']}"


def to_text(report: PostDeployReport) -> str:
    mode = " (dry run: nothing changed)" if report.dry_run else ""
    lines = [f"post-deploy {report.service} / {report.environment}: {report.status}{mode}",
             f"steps: {', '.join(report.steps) or 'none'}"]
    for f in report.functions.values():
        lines += [f"  {f.function}",
                  f"    published: {f.published_version or '-'}",
                  f"    alias:     {_alias_text(f)}",
                  f"    scaling:   {_scaling_text(f)}",
                  f"    warm:      {f.warm_summary()}"]
        if f.schedule:
            lines.append(f"    schedule:  {f.schedule}")
    if report.prune is not None:
        lines.append(f"  prune: {report.prune.get('summary', '')}")
    lines += [f"note: {n}" for n in report.notes]
    if report.error:
        lines.append(f"error: {report.error}")
    return "\n".join(lines) + "\n"


def to_markdown(report: PostDeployReport) -> str:
    mode = " _(dry run: nothing changed)_" if report.dry_run else ""
    lines = [f"### post-deploy `{report.service}` / `{report.environment}`: "
             f"{report.status}{mode}", "",
             "| Function | Published | Alias | Scaling | Warm-up |", "|---|---|---|---|---|"]
    lines += [f"| `{f.function}` | {f.published_version or '-'} | {_alias_text(f)} | "
              f"{_scaling_text(f)} | {f.warm_summary()} |" for f in report.functions.values()]
    if report.prune is not None:
        lines += ["", f"**Prune:** {report.prune.get('summary', '')}"]
    lines += [f"\n> {n}" for n in report.notes]
    if report.error:
        lines += ["", f"**Error:** {report.error}"]
    return "\n".join(lines) + "\n"


# -- the record of the last deploy ---------------------------------------------------------------


def last_key(config: Config, env: Environment) -> tuple[str, str]:
    """(bucket, key) of the last deploy's record."""
    where = naming.artifact_location(config)
    return where.bucket, where.key(config.service, env.name, "post-deploy", "last.json")


def store_last(s3: S3Client, config: Config, env: Environment, report: PostDeployReport) -> str:
    bucket, key = last_key(config, env)
    body = json.dumps(report.to_dict(), indent=2).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return f"s3://{bucket}/{key}"


def load_last(s3: S3Client, config: Config, env: Environment) -> dict[str, Any] | None:
    """The last deploy's record, or ``None`` when there is none."""
    bucket, key = last_key(config, env)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    data = json.loads(body)
    return data if isinstance(data, dict) else None


def previous_versions(record: dict[str, Any]) -> dict[str, str]:
    """Function name → the version its alias pointed to before the recorded deploy."""
    found: dict[str, str] = {}
    for item in record.get("functions") or []:
        if isinstance(item, dict) and item.get("alias_from") and item.get("function"):
            found[str(item["function"])] = str(item["alias_from"])
    return found
