"""The sandbox's request journal: every AWS call it answered, in order, with its outcome.

Tests read it to prove what a run *did* (which operations, on which functions and qualifiers,
in which order), not what it printed. Calls the sandbox makes for itself (seeding, the
internal header) are not journaled. The journal is bounded and cleared by a reset.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

#: The oldest entries are dropped beyond this many (a benchmark makes tens of thousands).
LIMIT = 200_000


@dataclass(frozen=True)
class JournalEntry:
    service: str | None
    operation: str | None
    params: dict[str, str]
    """Path parameters (``FunctionName``, ``Name``, ...) and the ``Qualifier`` query; for S3,
    the request's ``Method`` and ``Path`` (``/bucket/key``)."""
    status: int
    at: float
    """``time.time()`` when the answer left."""

    def to_json(self) -> dict[str, Any]:
        return {"Service": self.service, "Operation": self.operation, "Params": self.params,
                "Status": self.status, "At": self.at}


@dataclass
class Journal:
    entries: deque[JournalEntry] = field(default_factory=lambda: deque(maxlen=LIMIT))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, service: str | None, operation: str | None, params: dict[str, str],
               status: int) -> None:
        with self.lock:
            self.entries.append(JournalEntry(service, operation, params, status, time.time()))

    def snapshot(self, service: str | None = None) -> list[JournalEntry]:
        with self.lock:
            return [e for e in self.entries if service in (None, e.service)]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
