"""Waiting for LMI deletions to finish, and deleting a capacity provider once they have.

Deleting an LMI function version is asynchronous (AWS-FACTS.md): ``DeleteFunction`` answers 202
and the version stays listed, ``State: Deleting``, until it is gone. Whether it still counts
against the provider's quota of 100 versions meanwhile is not documented, so the code assumes it
does, which is right either way: :func:`await_room` re-lists the provider after a prune until a
publish fits with every listed version counted, and :func:`await_released` until nothing is
listed. ``DeleteCapacityProvider`` is refused while any version references the provider
("To delete this capacity provider, first remove its association", the message the Terraform AWS
provider retries on for 5 minutes): :func:`delete_capacity_provider` retries it the same way.

Every wait polls with growing pauses (``first_delay`` doubling up to ``max_delay``), reports
progress about every ``progress_every`` seconds, and gives up after ``timeout`` seconds with an
:class:`~lmi_delivery.errors.OperationFailed` naming what is still there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmi_delivery.errors import OperationFailed
from lmi_delivery.postdeploy.prune.state import provider_name
from lmi_delivery.postdeploy.prune.types import QUOTA_VERSIONS_PER_PROVIDER

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

#: The refusal of DeleteCapacityProvider while versions reference the provider (AWS's words).
IN_USE = "To delete this capacity provider, first remove its association"
DELETING = "Deleting"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReleaseWait:
    """How long and how often to look again while AWS finishes deleting."""

    timeout: float = 300.0
    """Terraform retries ``DeleteCapacityProvider`` for 5 minutes after deleting functions."""
    first_delay: float = 0.5
    max_delay: float = 5.0
    progress_every: float = 10.0


@dataclass(frozen=True)
class Listed:
    """The versions ``ListFunctionVersionsByCapacityProvider`` returns for one provider."""

    versions: tuple[tuple[str, str], ...]
    """(function version ARN, State) of each."""

    @property
    def deleting(self) -> int:
        return sum(1 for _, state in self.versions if state == DELETING)

    def __len__(self) -> int:
        return len(self.versions)

    def sample(self, limit: int = 5) -> str:
        shown = [f"{arn.split(':function:', 1)[-1]} ({state})"
                 for arn, state in self.versions[:limit]]
        more = f", … and {len(self.versions) - limit} more" if len(self.versions) > limit else ""
        return ", ".join(shown) + more


def list_bound(client: LambdaClient, provider_arn: str) -> Listed | None:
    """Every version bound to a provider, as AWS lists it (``Deleting`` ones included);
    ``None`` when the endpoint or the SDK does not know the capacity-provider API."""
    from botocore.exceptions import ClientError

    from lmi_delivery.postdeploy.prune.snapshot import lmi_api_unavailable

    listing = getattr(client, "list_function_versions_by_capacity_provider", None)
    if listing is None:
        return None
    found: list[tuple[str, str]] = []
    marker: str | None = None
    while True:
        try:
            page: Any = listing(CapacityProviderName=provider_name(provider_arn), MaxItems=50,
                                **({"Marker": marker} if marker else {}))
        except ClientError as exc:
            if lmi_api_unavailable(exc):
                return None
            raise
        found += [(str(v["FunctionArn"]), str(v.get("State") or "Active"))
                  for v in page.get("FunctionVersions") or ()]
        marker = page.get("NextMarker")
        if not marker:
            return Listed(tuple(found))


class _Poll:
    """Growing pauses, a deadline and a progress line now and then."""

    def __init__(self, wait: ReleaseWait, progress: Progress | None,
                 sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self.wait, self.progress, self.sleep, self.clock = wait, progress, sleep, clock
        self.started = self.last_report = clock()
        self.delay = wait.first_delay

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def again(self, status: Callable[[], str]) -> bool:
        """Pause before the next look; ``False`` once the time is up."""
        if self.elapsed >= self.wait.timeout:
            return False
        if self.progress is not None and self.clock() - self.last_report >= \
                self.wait.progress_every:
            self.last_report = self.clock()
            self.progress(f"{status()} ({self.elapsed:.0f} s)…")
        self.sleep(min(self.delay, max(0.0, self.wait.timeout - self.elapsed)))
        self.delay = min(self.delay * 2, self.wait.max_delay)
        return True


def await_room(client: LambdaClient, provider_arn: str, publishes: int, *,
               wait: ReleaseWait | None = None, progress: Progress | None = None,
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> Listed:
    """Wait until ``publishes`` more versions fit on the provider with every listed version,
    ``Deleting`` ones included, counted. Raises :class:`OperationFailed` when nothing is being
    deleted and they still do not fit, or when the deletions outlast ``wait.timeout``."""
    poll = _Poll(wait or ReleaseWait(), progress, sleep, clock)
    name = provider_name(provider_arn)
    while True:
        listed = list_bound(client, provider_arn)
        if listed is None:
            return Listed(())  # cannot list again: the snapshot's count has to do
        room = QUOTA_VERSIONS_PER_PROVIDER - len(listed)
        if publishes <= room:
            return listed
        if not listed.deleting:
            raise OperationFailed(
                f"capacity provider {name} holds {len(listed)} of {QUOTA_VERSIONS_PER_PROVIDER} "
                f"function versions after pruning: no room for {publishes} more",
                context={"capacity_provider": provider_arn})

        def status(listed: Listed = listed) -> str:
            return (f"capacity provider {name}: waiting for {listed.deleting} version(s) AWS "
                    f"is deleting to go before publishing {publishes}")

        if not poll.again(status):
            raise OperationFailed(
                f"capacity provider {name}: {listed.deleting} version(s) were still Deleting "
                f"after {poll.elapsed:.0f} s; publishing {publishes} more would meet the quota "
                f"of {QUOTA_VERSIONS_PER_PROVIDER}. Try again once AWS has finished deleting.",
                context={"capacity_provider": provider_arn})


def await_released(client: LambdaClient, provider_arn: str, *,
                   wait: ReleaseWait | None = None, progress: Progress | None = None,
                   sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic) -> None:
    """Wait until no version references the provider (what AWS is deleting is gone), so that
    it can be deleted. Raises :class:`OperationFailed` naming what is left."""
    poll = _Poll(wait or ReleaseWait(), progress, sleep, clock)
    name = provider_name(provider_arn)
    while True:
        listed = list_bound(client, provider_arn)
        if listed is None:
            raise OperationFailed(f"capacity provider {name}: its versions cannot be listed "
                                  "(ListFunctionVersionsByCapacityProvider is unavailable)",
                                  context={"capacity_provider": provider_arn})
        if not listed:
            return
        if len(listed) > listed.deleting:
            raise OperationFailed(
                f"capacity provider {name} is still referenced by {len(listed) - listed.deleting}"
                f" version(s) that are not being deleted: {listed.sample()}",
                context={"capacity_provider": provider_arn})

        def status(listed: Listed = listed) -> str:
            return (f"capacity provider {name}: waiting for {listed.deleting} version(s) AWS "
                    "is deleting to go")

        if not poll.again(status):
            raise OperationFailed(
                f"capacity provider {name}: {listed.deleting} version(s) were still Deleting "
                f"after {poll.elapsed:.0f} s: {listed.sample()}",
                context={"capacity_provider": provider_arn})


def delete_capacity_provider(client: LambdaClient, provider_arn: str, *,
                             wait: ReleaseWait | None = None, progress: Progress | None = None,
                             sleep: Callable[[float], None] = time.sleep,
                             clock: Callable[[], float] = time.monotonic) -> int:
    """``DeleteCapacityProvider``, retried while AWS refuses it because versions still reference
    the provider (they are being deleted), as the Terraform AWS provider retries it. Returns the
    number of refusals met; a provider already gone counts as deleted."""
    from botocore.exceptions import ClientError

    poll = _Poll(wait or ReleaseWait(), progress, sleep, clock)
    poll.delay = max(poll.delay, 1.0)  # capacity-provider writes: 1 request/s per account
    name = provider_name(provider_arn)
    refusals = 0
    while True:
        try:
            client.delete_capacity_provider(CapacityProviderName=name)
            return refusals
        except ClientError as exc:
            error: Any = exc.response.get("Error") or {}
            code, message = str(error.get("Code", "")), str(error.get("Message", ""))
            if code == "ResourceNotFoundException":
                return refusals
            if code != "ResourceConflictException" or IN_USE not in message:
                raise
            refusals += 1

        def status() -> str:
            return f"capacity provider {name}: still in use, retrying its deletion"

        if not poll.again(status):
            raise OperationFailed(
                f"capacity provider {name} could not be deleted after {poll.elapsed:.0f} s: "
                f"{message}", context={"capacity_provider": provider_arn})
