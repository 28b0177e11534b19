"""Publish what Terraform deployed as a numbered version, and wait until it is Active.

Planning reads each function (``GetFunction``, the functions at once): its ``CodeSha256`` and
``RevisionId``, whether it runs on a capacity provider, and whether its ``$LATEST.PUBLISHED`` is
missing or older than ``$LATEST``. Executing makes room under the 100-versions-per-provider quota
(``ensure_headroom``, the providers at once), then publishes every function at once with those
``CodeSha256``/``RevisionId`` preconditions, so exactly the deployed code and configuration are
published or nothing is.

Aliases, per-version scaling, rollback and pruning need an immutable version number, so the
alias target is always a numbered version. For an LMI function whose ``$LATEST.PUBLISHED`` is
stale, the same code is also published with ``PublishTo=LATEST_PUBLISHED`` so that unqualified
invocations run it too. Each LMI version stays ``Pending`` while its execution environments
start; botocore's ``PublishedVersionActive`` waiter polls it (every 5 s in production) and a
progress line is printed about every 10 s. A version that ends ``Failed`` stops the deploy with
its ``StateReasonCode``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from lmi_delivery.aws.errors import translated
from lmi_delivery.aws.fanout import WORKERS, fan_out
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import AwsError, OperationFailed
from lmi_delivery.plan.release_steps import publish_steps
from lmi_delivery.plan.steps import RUNNER, Publish
from lmi_delivery.postdeploy.report import ProgressLog

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from lmi_delivery.postdeploy.history import HistoryStore

LATEST_PUBLISHED = "$LATEST.PUBLISHED"
#: Functions published and waited for at once: each thread mostly sleeps between the polls of
#: its version's state (GetFunctionConfiguration, a budget of its own), so a deploy of many
#: functions waits about as long as a deploy of one.
WAITING_THREADS = 64
#: ensure_headroom(client, config, env, provider_name, publishes) from the pruner.
Headroom = Callable[[Any, Config, Environment, str, int], object]


@dataclass(frozen=True)
class WaitSettings:
    """How to wait for a version to turn Active (botocore's defaults: 5 s, 312 attempts)."""

    delay: float = 5.0
    max_attempts: int = 312
    progress_every: float = 10.0


@dataclass(frozen=True)
class PublishTarget:
    step: Publish
    code_sha256: str
    revision_id: str
    refresh_latest_published: bool = False
    """Also publish ``$LATEST.PUBLISHED`` (LMI only: it is missing or older than ``$LATEST``)."""
    creates_latest_published: bool = False

    @property
    def function(self) -> str:
        return self.step.function

    def publishes(self) -> int:
        """New versions this target adds on its provider (a replaced one adds none)."""
        return 1 + int(self.creates_latest_published)


@dataclass(frozen=True)
class PublishPlan:
    targets: tuple[PublishTarget, ...]

    @property
    def steps(self) -> tuple[Publish, ...]:
        return tuple(t.step for t in self.targets)

    def publishes_per_provider(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for t in self.targets:
            if t.step.capacity_provider:
                counts[t.step.capacity_provider] += t.publishes()
        return dict(sorted(counts.items()))


@dataclass(frozen=True)
class PublishedVersion:
    function: str
    version: str
    state: str
    latest_published: bool = False


def plan_publish(client: LambdaClient, config: Config, env: Environment, *,
                 functions: Iterable[str] | None = None, where: str = RUNNER) -> PublishPlan:
    """Read-only: what to publish for each selected function (the planner's publish steps)."""
    return resolve_publish(client, publish_steps(config, env, where, functions=functions))


def resolve_publish(client: LambdaClient, steps: Iterable[Publish]) -> PublishPlan:
    """Read-only: each publish step with the code and revision it publishes."""
    return PublishPlan(tuple(fan_out(partial(_target, client), steps, name="publish-read")))


def _target(client: LambdaClient, step: Publish) -> PublishTarget:
    latest = aws_call("GetFunction", partial(client.get_function, FunctionName=step.function))
    conf: Any = latest["Configuration"]
    is_lmi = bool(conf.get("CapacityProviderConfig"))
    stale, missing = (_latest_published_state(client, step.function, conf) if is_lmi
                      else (False, False))
    return PublishTarget(
        step=step, code_sha256=str(conf["CodeSha256"]), revision_id=str(conf["RevisionId"]),
        refresh_latest_published=stale, creates_latest_published=missing)


def _latest_published_state(client: LambdaClient, name: str, latest: Any) -> tuple[bool, bool]:
    """(stale, missing) of the function's ``$LATEST.PUBLISHED``."""
    try:
        published: Any = client.get_function_configuration(FunctionName=name,
                                                           Qualifier=LATEST_PUBLISHED)
    except client.exceptions.ResourceNotFoundException:
        return True, True
    stale = (published.get("CodeSha256") != latest.get("CodeSha256")
             or str(published.get("LastModified", "")) < str(latest.get("LastModified", "")))
    return stale, False


def execute_publish(client: LambdaClient, plan: PublishPlan, config: Config, env: Environment,
                    *, reporter: ProgressLog, wait: WaitSettings | None = None,
                    headroom: Headroom | None = None, workers: int = WORKERS,
                    sleep: Callable[[float], None] = time.sleep,
                    meanwhile: Callable[[], object] | None = None,
                    history: HistoryStore | None = None,
                    ) -> tuple[PublishedVersion, ...]:
    """Make room (the providers at once), publish every target in parallel, wait until each is
    Active. ``workers`` threads make the room; every target has a thread of its own (up to
    :data:`WAITING_THREADS`). ``meanwhile`` is called once every publish was answered, while
    the versions start. The room is made by the pruner with every protection, the aliases'
    rollback targets in ``history`` included."""
    settings = wait or WaitSettings()
    if headroom is None:
        from lmi_delivery.postdeploy.prune.api import ensure_headroom

        headroom = partial(ensure_headroom, progress=reporter.say, history=history)

    def room(item: tuple[str, int]) -> None:
        provider, count = item
        reporter.record("headroom", provider, str(count),
                        message=f"checking room for {count} version(s) on {provider}")
        headroom(client, config, env, provider, count)

    fan_out(room, plan.publishes_per_provider().items(), workers=workers, name="headroom")
    threads = max(1, workers, min(len(plan.targets), WAITING_THREADS))
    sent = _Countdown(len(plan.targets), meanwhile)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="publish") as pool:
        futures = [pool.submit(_publish_one, client, t, settings, reporter, sleep, sent)
                   for t in plan.targets]
        errors: list[str] = []
        results: list[PublishedVersion] = []
        first: BaseException | None = None
        for future in futures:
            try:
                results.append(future.result())
            except OperationFailed as exc:
                errors.append(str(exc))
                first = first or exc
    if first is not None:
        context: dict[str, object] = {"functions_failed": len(errors)}
        if isinstance(first, OperationFailed):
            context.update({k: v for k, v in first.context.items() if isinstance(v, str | int)})
        raise OperationFailed("publish failed; no alias was moved:\n  " + "\n  ".join(errors),
                              context=context)
    return tuple(results)


class _Countdown:
    """Calls ``then`` once ``count`` publishes were answered (or failed)."""

    def __init__(self, count: int, then: Callable[[], object] | None) -> None:
        self._left, self._then = count, then
        self._lock = threading.Lock()

    def done(self) -> None:
        with self._lock:
            self._left -= 1
            fire = self._left == 0 and self._then is not None
        if fire and self._then is not None:
            self._then()


def _publish_one(client: LambdaClient, target: PublishTarget, wait: WaitSettings,
                 reporter: ProgressLog, sleep: Callable[[float], None],
                 sent: _Countdown) -> PublishedVersion:
    name = target.function
    reporter.record("publish", name, message=f"publishing {name} "
                    f"(code {target.code_sha256[:12]}, revision {target.revision_id[:8]})")
    try:
        answer: Any = aws_call("PublishVersion", lambda: client.publish_version(
            FunctionName=name, CodeSha256=target.code_sha256, RevisionId=target.revision_id),
            function=name)
        version = str(answer["Version"])
        reporter.record("published", name, version,
                        message=f"published {name}:{version} ({answer.get('State', 'Active')})")
        if target.refresh_latest_published:
            aws_call("PublishVersion", lambda: client.publish_version(
                FunctionName=name, CodeSha256=target.code_sha256, RevisionId=target.revision_id,
                PublishTo="LATEST_PUBLISHED"), function=name)
            reporter.record("published", name, LATEST_PUBLISHED,
                            message=f"published {name}:{LATEST_PUBLISHED}")
    finally:
        sent.done()
    wait_active(client, name, version, wait, reporter, sleep)
    if target.refresh_latest_published:
        wait_active(client, name, LATEST_PUBLISHED, wait, reporter, sleep)
    return PublishedVersion(name, version, "Active", target.refresh_latest_published)


def wait_active(client: LambdaClient, function: str, version: str, wait: WaitSettings,
                reporter: ProgressLog, sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait with botocore's ``PublishedVersionActive`` waiter, a progress line every
    ``wait.progress_every`` seconds; raise :class:`OperationFailed` on ``Failed`` or timeout."""
    from botocore.exceptions import WaiterError

    waiter = client.get_waiter("published_version_active")
    chunk = max(1, round(wait.progress_every / wait.delay))
    started, attempts = time.monotonic(), 0
    while True:
        size = min(chunk, wait.max_attempts - attempts)
        # botocore sleeps for Delay seconds; a float is fine although the stubs say int.
        config: Any = {"Delay": wait.delay, "MaxAttempts": size}
        try:
            waiter.wait(FunctionName=function, Qualifier=version, WaiterConfig=config)
        except WaiterError as error:
            last: Any = error.last_response or {}
            state = str(last.get("State", "unknown"))
            if state == "Failed":
                code = str(last.get("StateReasonCode", "unknown"))
                reporter.record("failed", function, f"{version}:{code}")
                raise OperationFailed(
                    f"{function}:{version} ended Failed: {code}: {last.get('StateReason', '')}",
                    context={"function": function, "version": version,
                             "state_reason_code": code}) from None
            if "Error" in last:
                err = last["Error"]
                raise AwsError("GetFunctionConfiguration", str(err.get("Code")),
                               str(err.get("Message")), context={"function": function}) from None
            attempts += size
            elapsed = time.monotonic() - started
            if attempts >= wait.max_attempts:
                raise OperationFailed(f"{function}:{version} is still {state} after "
                                      f"{elapsed:.0f} s", context={"function": function}) from None
            reporter.record("waiting", function, f"{version}:{state}",
                            message=f"waiting for {function}:{version} to become Active "
                                    f"({state}, {elapsed:.0f} s)…")
            sleep(wait.delay)
            continue
        reporter.record("active", function, version, message=f"{function}:{version} is Active")
        return


def aws_call(operation: str, call: Callable[[], Any], **context: str) -> Any:
    """Run one AWS call; any botocore error becomes :class:`AwsError` naming the operation and
    the function (the steps decide on it: one function's failure, a retry, a refusal)."""
    name = f" on {context['function']}" if "function" in context else ""
    with translated(operation + name, **context):
        return call()
