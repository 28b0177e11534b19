"""The one module that sends notifications: resolve each webhook's URL, post each event once.

A webhook's URL is a secret (whoever holds it can post to the channel), so the config holds only
a reference to it (``ssm:/name`` or ``secretsmanager:id[:json-key[:stage[:version-id]]]``).
The reference is resolved the first time an event is sent, through the injected SSM and Secrets
Manager clients; the value is handed to ``mask`` (the runner's ``::add-mask::`` and the run's
redaction) before anything else happens with it, and never appears in a message, a log line or
an error. Posting uses urllib3 (botocore's HTTP library), with a short timeout and no retries: a
webhook that cannot be resolved or answers an error is a warning through ``warn``, never a failed
delivery. Each event is sent once to each webhook that listens for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment, Notification
from lmi_delivery.notify.event import Event

if TYPE_CHECKING:
    import urllib3

TIMEOUT_SECONDS = 10.0
SSM_PREFIX = "ssm:"
SECRETS_PREFIX = "secretsmanager:"


class Notify(Protocol):
    def __call__(self, event: Event) -> None: ...


def no_notify(event: Event) -> None:
    """Send nothing (no ``notifications`` in the config, or a dry run)."""


class Clients(Protocol):
    def client(self, service_name: str) -> Any: ...


class Unresolved(Exception):
    """A reference that gave no URL; the message names the reference, never a value."""


def resolve(clients: Clients, reference: str) -> str:
    """The URL ``reference`` (already rendered) points at."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if reference.startswith(SSM_PREFIX):
            name = reference.removeprefix(SSM_PREFIX)
            found = clients.client("ssm").get_parameter(Name=name, WithDecryption=True)
            return str(found["Parameter"]["Value"]).strip()
        parts = reference.removeprefix(SECRETS_PREFIX).split(":")
        cut = 7 if parts[0] == "arn" else 1
        secret_id = ":".join(parts[:cut])
        key, stage, version = [*parts[cut:], "", "", ""][:3]
        extra = {"VersionStage": stage} if stage else {}
        if version:
            extra = {"VersionId": version}
        text = str(clients.client("secretsmanager").get_secret_value(
            SecretId=secret_id, **extra).get("SecretString") or "")
        if not key:
            return text.strip()
        value = json.loads(text).get(key)
        if not isinstance(value, str):
            raise Unresolved(f"{reference}: the secret has no string under {key!r}")
        return value.strip()
    except (BotoCoreError, ClientError) as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        raise Unresolved(f"{reference}: {code}") from None
    except (ValueError, AttributeError):
        raise Unresolved(f"{reference}: the secret is not a JSON object") from None


def _pool() -> urllib3.PoolManager:
    import urllib3

    return urllib3.PoolManager(timeout=urllib3.Timeout(total=TIMEOUT_SECONDS), retries=False)


@dataclass
class Notifier:
    """Sends events to the webhooks of ``config.notifications`` (callable as a :class:`Notify`)."""

    config: Config
    env: Environment
    clients: Clients
    mask: Callable[[str], object]
    """Registers a secret value (a resolved URL) before it is used."""
    warn: Callable[[str], None]
    http: Any = field(default_factory=_pool, repr=False)
    """A urllib3 ``PoolManager`` (or anything with its ``request``)."""
    _urls: dict[int, str | None] = field(default_factory=dict, repr=False)
    sent: list[tuple[str, int]] = field(default_factory=list)
    """``(event kind, webhook index)`` of every message a webhook accepted."""

    @property
    def targets(self) -> Sequence[Notification]:
        return self.config.notifications

    def _url(self, index: int, target: Notification) -> str | None:
        if index not in self._urls:
            reference = naming.render(target.url, **naming.values(self.config, self.env))
            try:
                url = resolve(self.clients, reference)
            except Unresolved as exc:
                self.warn(f"notifications[{index}]: the webhook URL could not be read "
                          f"({exc}); nothing is sent to it")
                url = None
            if url is not None:
                self.mask(url)
                if not url.startswith(("https://", "http://")):
                    self.warn(f"notifications[{index}]: {reference} holds no http(s) URL; "
                              "nothing is sent to it")
                    url = None
            self._urls[index] = url
        return self._urls[index]

    def __call__(self, event: Event) -> None:
        for index, target in enumerate(self.targets):
            if event.kind not in target.events:
                continue
            url = self._url(index, target)
            if url is None:
                continue
            body = event.slack() if target.kind == "slack" else event.to_json()
            self._post(index, url, body, event.kind)

    def _post(self, index: int, url: str, body: dict[str, Any], kind: str) -> None:
        import urllib3

        try:
            answer = self.http.request(
                "POST", url, body=json.dumps(body).encode("utf-8"),
                headers={"Content-Type": "application/json", "User-Agent": "lmi-delivery"})
        except urllib3.exceptions.HTTPError as exc:
            self.warn(f"notifications[{index}]: {kind} was not delivered "
                      f"({type(exc).__name__})")
            return
        if not 200 <= answer.status < 300:
            self.warn(f"notifications[{index}]: {kind} was not delivered (HTTP {answer.status})")
            return
        self.sent.append((kind, index))
