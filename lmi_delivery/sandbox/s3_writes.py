"""S3 object writes one at a time, so that conditional writes are atomic as on S3.

moto 5.2 honours ``If-None-Match: *`` and ``If-Match`` on ``PutObject``, and ``If-Match`` on
``DeleteObject``, answering ``412 PreconditionFailed``. But it checks the condition and then
writes, as two steps, and the sandbox serves requests on many threads. So two conditional puts
that arrive together can both pass the check: with eight threads racing for one key, some
rounds had two winners. S3 itself decides a conditional write atomically, and lock objects
depend on that (lmi-delivery's apply lock, :mod:`lmi_delivery.terraform.lock`, and Terraform's
S3 backend with ``use_lockfile = true``).

:class:`S3Writes` takes every S3 request that writes (``PUT``, ``POST``, ``DELETE``) and hands
it to moto unchanged, one at a time. Checking a condition and writing then form one step. Reads
are not held up. Faults, latency and the rate limit still apply first, as for every request.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import Forward, call_of

if TYPE_CHECKING:
    from lmi_delivery.sandbox.server import Sandbox

WRITE_METHODS = frozenset({"PUT", "POST", "DELETE"})


class S3Writes:
    """An extension: serialises the sandbox's S3 writes (see the module's docstring)."""

    def __init__(self, forward: Forward, region: str) -> None:
        self.forward = forward
        self.region = region
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response | None:
        if request.method not in WRITE_METHODS or call_of(request, self.region).service != "s3":
            return None
        with self._lock:
            return self.forward(request, None)


def install(sandbox: Sandbox) -> S3Writes:
    """Add the extension to a running sandbox (for as long as it runs)."""
    app = sandbox._app  # the sandbox package's own extension point
    if app is None:
        raise RuntimeError("the sandbox is not running")
    for extension in sandbox.extensions:
        if isinstance(extension, S3Writes):
            return extension
    extension = S3Writes(app.forward, sandbox.region)
    sandbox.extensions.insert(0, extension)
    return extension
