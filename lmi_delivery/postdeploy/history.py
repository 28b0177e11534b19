"""The record of what served: one append-only history per alias, written before every move.

Where: ``<artifacts>/<service>/<env>/history/<function>/<alias>.json`` in the artifacts bucket
(``codebuild.artifacts``), beside the deploy records. One JSON object per alias::

    {"schema": "lmi-delivery/alias-history@1", "function": "...", "alias": "live",
     "entries": [{"previous": "2", "version": "3", "weights": {}, "action": "deploy",
                  "at": "2026-01-01T12:00:00Z", "commit": "...", "plan_sha256": "...",
                  "approver": "..."}, ...]}

**Written before the move.** :func:`recorder` makes the hook the alias step calls before each
``CreateAlias``/``UpdateAlias`` (canary steps and restores included); the move is made only once
the entry is stored, so no move happens without its entry. An entry whose move then failed
claims a move that did not happen: that is why ``previous`` is the evidence, not ``version``.
``previous`` is where the alias pointed when the move was planned, read from Lambda; a move
that nothing changed (a second post-deploy of the same version) writes no entry.

**Appends cannot be lost.** Each append reads the object and its ETag and writes it back with a
conditional put (``If-Match`` on that ETag, ``If-None-Match: *`` for a new object); a writer
that lost the race reads again and retries, so two writers cannot drop each other's entry.

**What the history may decide, and what not.** S3 holds bytes, not truth (DESIGN.md): anyone
who can write the bucket can rewrite a history. So the history only ever *chooses among* what
Lambda itself vouches for:

- rollback reads where the alias points from Lambda, never from the history; it moves only to a
  numbered version of that same function that Lambda lists as ``Active``, and the move is still
  guarded by the alias's ``RevisionId``. A forged history can at most make rollback pick another
  of the function's own Active versions (or refuse, exit 3); it cannot name ``$LATEST``, another
  function, an ARN, nor a version that does not exist;
- the pruner uses it only to *keep* versions (``rollback-target``): a forged entry can make it
  keep more; an erased history can make it keep fewer of the old served versions, but never one
  an alias, a weighted alias, an event source mapping, ``$LATEST.PUBLISHED`` or the ``keep``
  newest protect;
- ``status`` shows its commit, plan sha and approver as claims, after validating their shape.

A history that is not a well-formed document (or is larger than :data:`MAX_BYTES`) is refused
(:class:`HistoryUnreadable`): rollback then refuses and the pruner deletes nothing, rather than
guessing.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.errors import error_code, translate
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import LmiError, OperationFailed

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from lmi_delivery.postdeploy.alias import AliasChange

SCHEMA = "lmi-delivery/alias-history@1"
#: A history larger than this is refused rather than parsed (about 5,000 entries).
MAX_BYTES = 2 * 1024 * 1024
#: Conditional puts lost to another writer before giving up; between two, a random pause of up
#: to BACKOFF_SECONDS x 2^attempt (at most 1 s), so that racing writers stop colliding.
ATTEMPTS = 10
BACKOFF_SECONDS = 0.02
NUMBERED = re.compile(r"[1-9][0-9]{0,9}")
_COMMIT = re.compile(r"[0-9a-f]{7,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_APPROVER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.,@ -]{0,199}")
ACTIONS = ("deploy", "rollback")


class HistoryUnreadable(OperationFailed):
    """The history object exists but cannot be read or trusted as a document."""


@dataclass(frozen=True)
class Provenance:
    """Who and what caused the moves of a run, as the edge (the CI environment) says."""

    commit: str | None = None
    plan_sha256: str | None = None
    approver: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Provenance:
        """CodeBuild's checked-out commit (else ``LMI_DELIVERY_COMMIT``), the applied plan's
        sha256 (``LMI_APPLIED_PLAN_SHA256``, else ``LMI_PLAN_SHA256``) and the approver
        (``LMI_DELIVERY_APPROVER``); a value of the wrong shape is left out."""
        commit = (environ.get("CODEBUILD_RESOLVED_SOURCE_VERSION")
                  or environ.get("LMI_DELIVERY_COMMIT") or "").strip().lower()
        sha = (environ.get("LMI_APPLIED_PLAN_SHA256") or environ.get("LMI_PLAN_SHA256")
               or "").strip().lower()
        return cls(_shaped(commit, _COMMIT), _shaped(sha, _SHA256),
                   _shaped((environ.get("LMI_DELIVERY_APPROVER") or "").strip(), _APPROVER))


def _shaped(value: object, pattern: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


@dataclass(frozen=True)
class Entry:
    """One alias move: from ``previous`` (read from Lambda) to ``version`` (+ ``weights``)."""

    previous: str | None
    """Where the alias pointed when the move was planned; ``None``: it was created."""
    version: str
    weights: Mapping[str, float] = field(default_factory=dict)
    """``AdditionalVersionWeights`` the move set (a canary step); empty for a full move."""
    action: str = "deploy"
    """``deploy`` (post-deploy, alias) or ``rollback``."""
    at: str = ""
    """ISO 8601, UTC."""
    commit: str | None = None
    plan_sha256: str | None = None
    approver: str | None = None

    @property
    def full_move(self) -> bool:
        """A move of all the traffic to ``version`` from another version."""
        return not self.weights and self.previous is not None and self.previous != self.version

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["weights"] = dict(self.weights)
        return out

    @classmethod
    def parse(cls, item: Any, where: str) -> Entry:
        if not isinstance(item, Mapping):
            raise HistoryUnreadable(f"{where}: an entry is not an object")
        previous, version = item.get("previous"), item.get("version")
        weights = item.get("weights") or {}
        if previous is not None and not _shaped(previous, NUMBERED):
            raise HistoryUnreadable(f"{where}: entry previous {previous!r} is not a version")
        if not _shaped(version, NUMBERED):
            raise HistoryUnreadable(f"{where}: entry version {version!r} is not a version")
        if not isinstance(weights, Mapping) or not all(
                _shaped(k, NUMBERED) and isinstance(w, int | float) and 0 <= w <= 1
                for k, w in weights.items()):
            raise HistoryUnreadable(f"{where}: entry weights {weights!r} are not weights")
        action = item.get("action", "deploy")
        if action not in ACTIONS:
            raise HistoryUnreadable(f"{where}: entry action {action!r} is not one of {ACTIONS}")
        return cls(previous, str(version), {str(k): float(w) for k, w in weights.items()},
                   str(action), str(item.get("at") or "")[:40],
                   _shaped(item.get("commit"), _COMMIT),
                   _shaped(item.get("plan_sha256"), _SHA256),
                   _shaped(item.get("approver"), _APPROVER))


@dataclass(frozen=True)
class History:
    function: str
    alias: str
    entries: tuple[Entry, ...] = ()
    """Oldest first."""
    etag: str | None = None
    """The object's ETag when read; ``None`` when there is no object yet."""

    def to_json(self) -> bytes:
        return (json.dumps({"schema": SCHEMA, "function": self.function, "alias": self.alias,
                            "entries": [e.to_dict() for e in self.entries]}, indent=1)
                + "\n").encode()

    @classmethod
    def parse(cls, function: str, alias: str, body: bytes, etag: str | None,
              where: str) -> History:
        if len(body) > MAX_BYTES:
            raise HistoryUnreadable(f"{where}: {len(body)} bytes, more than a history may hold "
                                    f"({MAX_BYTES}); refusing to read it")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise HistoryUnreadable(f"{where}: not JSON ({exc})") from None
        if not isinstance(data, Mapping) or data.get("schema") != SCHEMA or not isinstance(
                data.get("entries"), list):
            raise HistoryUnreadable(f"{where}: not an {SCHEMA} document")
        if data.get("function") != function or data.get("alias") != alias:
            raise HistoryUnreadable(f"{where}: the document is the history of "
                                    f"{data.get('function')!r}:{data.get('alias')!r}, not of "
                                    f"{function}:{alias}")
        return cls(function, alias, tuple(Entry.parse(e, where) for e in data["entries"]), etag)

    def way_back(self, current: str | None) -> tuple[str, ...]:
        """The versions rollback would go to, one rollback after another, from ``current``."""
        return way_back(self.entries, current)

    def rollback_target(self, current: str) -> str | None:
        """Where one rollback from ``current`` goes: the version the alias served before the
        full move that put it on ``current`` (rollbacks are passed over, so a second rollback
        goes further back, not forth); ``None`` when the history shows no such move."""
        chain = way_back(self.entries, current)
        return chain[1] if len(chain) > 1 else None

    def last_deploys(self, count: int) -> tuple[Entry, ...]:
        """The newest ``count`` full moves (deploys and rollbacks), newest first."""
        return tuple(e for e in reversed(self.entries) if e.full_move or e.previous is None
                     )[:count]


def way_back(entries: Sequence[Entry], current: str | None) -> tuple[str, ...]:
    """``current``, then the version the alias served before the deploy that put it there,
    then the one before that, …: the served versions, newest first, as successive rollbacks
    would visit them. Each step uses a deploy entry (a full move, not a rollback nor a canary
    step) older than the one before; ``previous`` is the evidence that a version served.
    Empty when ``current`` is ``None``."""
    if current is None:
        return ()
    chain = [current]
    limit = len(entries)
    while True:
        found = next((i for i in range(limit - 1, -1, -1)
                      if entries[i].action == "deploy" and entries[i].full_move
                      and entries[i].version == chain[-1]), None)
        if found is None:
            return tuple(chain)
        previous = entries[found].previous
        assert previous is not None  # a full move has one
        if previous not in chain:
            chain.append(previous)
        limit = found


def history_key(config: Config, env: Environment, function: str, alias: str) -> tuple[str, str]:
    """(bucket, key) of one alias's history."""
    where = naming.artifact_location(config)
    return where.bucket, where.key(config.service, env.name, "history", function,
                                   f"{alias}.json")


class HistoryStore:
    """Reads and appends the alias histories of one environment (the S3 client handed in)."""

    def __init__(self, s3: S3Client, config: Config, env: Environment) -> None:
        self.s3, self.config, self.env = s3, config, env

    def url(self, function: str, alias: str) -> str:
        return "s3://{}/{}".format(*history_key(self.config, self.env, function, alias))

    def read(self, function: str, alias: str) -> History:
        """The history of ``function:alias`` (empty when there is none yet). Raises
        :class:`~lmi_delivery.errors.AwsError` when S3 cannot be read, and
        :class:`HistoryUnreadable` when the object is not a history."""
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key = history_key(self.config, self.env, function, alias)
        try:
            answer = self.s3.get_object(Bucket=bucket, Key=key)
            body = answer["Body"].read(MAX_BYTES + 1)
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return History(function, alias)
            raise translate(exc, "GetObject", where=self.url(function, alias)) from None
        return History.parse(function, alias, body, str(answer.get("ETag") or ""),
                             self.url(function, alias))

    def append(self, function: str, alias: str, entry: Entry) -> History:
        """Append ``entry`` with a conditional put, retrying when another writer won."""
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key = history_key(self.config, self.env, function, alias)
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, min(1.0, BACKOFF_SECONDS * 2 ** attempt)))
            found = self.read(function, alias)
            updated = History(function, alias, (*found.entries, entry))
            try:
                if found.etag:
                    self.s3.put_object(Bucket=bucket, Key=key, Body=updated.to_json(),
                                       ContentType="application/json", IfMatch=found.etag)
                else:
                    self.s3.put_object(Bucket=bucket, Key=key, Body=updated.to_json(),
                                       ContentType="application/json", IfNoneMatch="*")
            except (BotoCoreError, ClientError) as exc:
                if error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                    continue  # another writer appended meanwhile: read it and append again
                raise translate(exc, "PutObject", where=self.url(function, alias)) from None
            return updated
        raise OperationFailed(f"could not append to {self.url(function, alias)}: other writers "
                              f"changed it {ATTEMPTS} times in a row")

    def existing(self) -> set[tuple[str, str]]:
        """(function, alias) of every history of the environment (one listing)."""
        from botocore.exceptions import BotoCoreError, ClientError

        where = naming.artifact_location(self.config)
        prefix = where.key(self.config.service, self.env.name, "history") + "/"
        found: set[tuple[str, str]] = set()
        try:
            for page in self.s3.get_paginator("list_objects_v2").paginate(
                    Bucket=where.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    function, _, name = item["Key"][len(prefix):].partition("/")
                    if name.endswith(".json") and "/" not in name:
                        found.add((function, name.removesuffix(".json")))
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) == "NoSuchBucket":
                return found
            raise translate(exc, "ListObjectsV2", where=f"s3://{where.bucket}/{prefix}"
                            ) from None
        return found

    def read_many(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], History]:
        """The histories of the (function, alias) pairs that have one, read at once."""
        from lmi_delivery.aws.fanout import fan_out

        present = sorted(set(wanted) & self.existing())
        found = fan_out(lambda pair: self.read(*pair), present, name="history-read")
        return dict(zip(present, found, strict=True))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def recorder(store: HistoryStore, provenance: Provenance, *, action: str = "deploy",
             clock: Callable[[], str] = now) -> Callable[[AliasChange], None]:
    """The alias step's hook: append the entry of ``change`` before the move is made. Raising
    (S3 unreachable, the history unreadable) stops the move: no alias moves unrecorded."""

    def before_move(change: AliasChange) -> None:
        entry = Entry(change.previous, change.version, dict(change.weights), action, clock(),
                      provenance.commit, provenance.plan_sha256, provenance.approver)
        try:
            store.append(change.function, change.alias, entry)
        except LmiError as exc:
            raise OperationFailed(
                f"could not record the move of {change.function}:{change.alias} "
                f"{change.previous or '(new)'} -> {change.version} in its history "
                f"({store.url(change.function, change.alias)}): {exc.message}; the alias was not "
                "moved (no move without its record)", context=exc.context) from None

    return before_move
