"""The embedded AWS endpoint: a threaded werkzeug server on 127.0.0.1 in front of moto.

``Sandbox`` starts the server on a free port (or ``options.port``), owns a temporary work
directory, and offers the test hooks (``reset``, ``invocations``, ``fail_next_publish``,
seeding). moto's state is process-global, so only one in-process sandbox runs at a time:
starting a second one while another is running raises ``RuntimeError``. ``reset()`` clears
moto and the sandbox's own records, which isolates tests that share one server.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lmi_delivery.sandbox.app import SandboxApp
from lmi_delivery.sandbox.cloudformation.failures import StackFailures
from lmi_delivery.sandbox.control import Control
from lmi_delivery.sandbox.extension import Extension, Sweeper
from lmi_delivery.sandbox.journal import JournalEntry
from lmi_delivery.sandbox.lambda_.aliases import AliasOperations
from lmi_delivery.sandbox.lambda_.capacity_providers import CapacityProviderOperations
from lmi_delivery.sandbox.lambda_.functions import FunctionOperations
from lmi_delivery.sandbox.lambda_.invoke import InvokeOperations
from lmi_delivery.sandbox.lambda_.permissions import PermissionOperations
from lmi_delivery.sandbox.lambda_.scaling import ScalingOperations
from lmi_delivery.sandbox.lambda_.versions import VersionOperations
from lmi_delivery.sandbox.options import SandboxOptions
from lmi_delivery.sandbox.s3_writes import S3Writes
from lmi_delivery.sandbox.state import (
    ACCOUNT_ID,
    Invocation,
    RoutingChange,
    SandboxState,
    moto_function,
)

if TYPE_CHECKING:
    from lmi_delivery.config.model import Config

CODEBUILD_MODULE = "lmi_delivery.sandbox.codebuild.service"
_running_lock = threading.Lock()
_running: list[Sandbox] = []


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr; a sandbox serves thousands of calls in a test run."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log_error(self, format: str, *args: Any) -> None:
        return None


def _moto_app() -> Any:
    """moto's dispatcher, remembering which backend serves which host.

    moto looks the host up by listing its package directory on every request (~9 ms);
    the answer never changes while the process runs.
    """
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )

    class CachedDispatcher(DomainDispatcherApplication):
        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self.known_hosts: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self.known_hosts:
                self.known_hosts[host] = super().get_backend_for_host(host)
            return self.known_hosts[host]

    return CachedDispatcher()


def reset_moto() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


class Sandbox:
    """One local AWS endpoint. Use as a context manager or call ``start()`` / ``stop()``."""

    account_id = ACCOUNT_ID

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.state = SandboxState(self.options.seed, self.options.clock)
        self.extensions: list[Extension] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._app: SandboxApp | None = None
        self._workdir: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def region(self) -> str:
        return self.options.region

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the sandbox is not running")
        return self._workdir

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        with _running_lock:
            if _running:
                raise RuntimeError("another in-process sandbox is running; moto's state is "
                                   "process-global, so stop it first")
            _running.append(self)
        try:
            self._start()
        except BaseException:
            self._release()
            raise
        return self

    def _start(self) -> None:
        from lmi_delivery.sandbox.cloudformation import register
        from lmi_delivery.sandbox.iam.bucket_policies import defer_to_authorizer

        register()
        defer_to_authorizer()
        reset_moto()
        self.state.clear()
        self._workdir = Path(tempfile.mkdtemp(prefix="lmi-sandbox-"))
        moto_app = _moto_app()
        self.extensions = []
        app = SandboxApp(self.options, moto_app, self.extensions, Control(self), ACCOUNT_ID)
        self._app = app
        if importlib.util.find_spec(CODEBUILD_MODULE) is not None:
            module = importlib.import_module(CODEBUILD_MODULE)
            self.extensions.append(module.CodeBuildExtension(self))
        self.extensions.append(Sweeper(self.state, self.options))
        for kind in (CapacityProviderOperations, ScalingOperations, VersionOperations,
                     AliasOperations, InvokeOperations, FunctionOperations, PermissionOperations):
            self.extensions.append(kind(self.state, self.options, app.forward))
        self.extensions.append(S3Writes(app.forward, self.options.region))
        self.extensions.append(StackFailures(app.forward, ACCOUNT_ID, self.options.region))
        server = make_server("127.0.0.1", self.options.port, app, threaded=True,
                             request_handler=_QuietHandler)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={
            "poll_interval": 0.02}, name="lmi-sandbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        try:
            server.shutdown()
            server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            for extension in self.extensions:
                close = getattr(extension, "close", None)
                if callable(close):
                    close()
        finally:
            self.extensions.clear()
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None
            self._release()

    def _release(self) -> None:
        with _running_lock:
            if self in _running:
                _running.remove(self)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- test hooks ------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every resource: moto's backends, the sandbox's records, fault streams."""
        with self.state.lock:
            reset_moto()
            self.state.clear()
        if self._app is not None:
            self._app.faults.reset()
            self._app.latency.reset()
            self._app.limiter.clear()
            self._app.journal.clear()
        for extension in self.extensions:
            reset = getattr(extension, "reset", None)
            if callable(reset):
                reset()

    def rate_limit_admissions(self) -> list[float]:
        """When the rate limit admitted each Lambda control-plane call (monotonic seconds)."""
        return self._app.limiter.admissions() if self._app else []

    def requests(self, service: str | None = None) -> list[JournalEntry]:
        """Every AWS call the sandbox answered since the last reset, oldest first
        (optionally of one service), throttles and injected errors included; a dropped
        connection has no answer and no entry."""
        return self._app.journal.snapshot(service) if self._app else []

    def clear_requests(self) -> None:
        """Forget the journal so far (what a test's setup did), keeping every resource."""
        if self._app is not None:
            self._app.journal.clear()

    def invocations(self, function: str | None = None) -> list[Invocation]:
        """Every Invoke the sandbox answered, oldest first (optionally of one function)."""
        with self.state.lock:
            return [i for i in self.state.invocations if function in (None, i.function)]

    def routing_changes(self, function: str | None = None) -> list[RoutingChange]:
        """Every alias routing change (CreateAlias, UpdateAlias) the sandbox made, oldest first,
        each with the applied scaling of the function's versions at that moment."""
        with self.state.lock:
            return [c for c in self.state.routing_changes if function in (None, c.function)]

    def fail_invocations(self, function: str, error: str | None = "Unhandled", *,
                         region: str | None = None) -> None:
        """Make every invocation of ``function`` answer ``FunctionError: error`` as a handler
        that raised (``None``: succeed again)."""
        region = region or self.region
        with self.state.lock:
            moto_function(region, function)
            self.state.function(region, function).failing_invocations = error

    def fail_next_publish(self, function: str, reason_code: str, *, reason: str | None = None,
                          region: str | None = None) -> None:
        """Make the next PublishVersion of ``function`` end ``Failed`` with ``reason_code``."""
        region = region or self.region
        with self.state.lock:
            moto_function(region, function)
            self.state.function(region, function).fail_next_publish = (
                reason_code, reason or f"Publishing failed: {reason_code}")

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for this endpoint with fake credentials."""
        from lmi_delivery.sandbox.clients import client

        return client(self, service, **kwargs)

    def seed_from_config(self, config: Config, env_names: list[str] | None = None) -> None:
        """Create what Terraform would have for ``config`` (see ``seeding``)."""
        from lmi_delivery.sandbox.seeding import seed_from_config

        seed_from_config(self, config, env_names)

    def seed(self, path: str | Path) -> None:
        """Create the resources a seed file (YAML or JSON) lists (see ``seeding``)."""
        from lmi_delivery.sandbox.seeding import seed_file

        seed_file(self, Path(path))
