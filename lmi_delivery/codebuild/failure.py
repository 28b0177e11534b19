"""What a finished build amounts to, and the error that reports every failed build at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lmi_delivery.codebuild.model import SUCCEEDED, BuildResult, StartedBuild
from lmi_delivery.errors import OperationFailed

_GOOD_PHASE = frozenset({"SUCCEEDED", ""})


def result_of(build: StartedBuild, answer: Mapping[str, Any], *, tail: Sequence[str],
              noticed_at: float | None = None) -> BuildResult:
    """A :class:`BuildResult` from a ``BatchGetBuilds`` entry of a finished build."""
    status = str(answer.get("buildStatus") or "")
    phase, message = (None, "") if status == SUCCEEDED else failing_phase(answer)
    end = answer.get("endTime")
    exported = {str(v["name"]): str(v.get("value", ""))
                for v in answer.get("exportedEnvironmentVariables") or [] if v.get("name")}
    return BuildResult(build=build, status=status, phase=phase, message=message,
                       tail=tuple(tail), end_time=_epoch(end), noticed_at=noticed_at,
                       exported=exported)


def failing_phase(answer: Mapping[str, Any]) -> tuple[str | None, str]:
    """The first phase that did not succeed, and its ``contexts`` as ``CODE: message``."""
    phases = list(answer.get("phases") or [])
    bad = [p for p in phases if str(p.get("phaseStatus") or "") not in _GOOD_PHASE]
    if not bad:
        return (str(answer.get("currentPhase")) if answer.get("currentPhase") else None), ""
    phase = bad[0]
    contexts = [c for c in phase.get("contexts") or [] if c.get("message") or c.get("statusCode")]
    message = "; ".join(
        f"{c.get('statusCode')}: {c.get('message', '')}" if c.get("statusCode")
        else str(c.get("message", "")) for c in contexts)
    return str(phase.get("phaseType")), message


def failure_text(result: BuildResult) -> str:
    text = result.summary()
    if result.build.log_url:
        text += f"\n  log: {result.build.log_url}"
    if result.tail:
        text += f"\n  last {len(result.tail)} log line(s):"
        text += "".join(f"\n    {line}" for line in result.tail)
    return text


def raise_for_failures(results: Iterable[BuildResult]) -> None:
    """Raise :class:`OperationFailed` (exit 1) naming each failed build, its failing phase,
    the phase's message and the build's last log lines; return when all succeeded."""
    failed = [r for r in results if not r.succeeded]
    if not failed:
        return
    head = f"{len(failed)} CodeBuild build(s) did not succeed"
    raise OperationFailed("\n".join([head, *(failure_text(r) for r in failed)]),
                          context={"builds": [r.build.id for r in failed],
                                   "statuses": [r.status for r in failed]})


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    timestamp = getattr(value, "timestamp", None)
    return float(timestamp()) if callable(timestamp) else None
