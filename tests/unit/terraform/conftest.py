"""Fixtures for the Terraform tests: throwaway signing keys and a local release server."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tf_release import Keyring, ReleaseServer


@pytest.fixture(scope="session")
def keyring() -> Iterator[Keyring]:
    # A short path: gpg-agent's socket path must stay under the UNIX socket limit.
    home = Path(tempfile.mkdtemp(prefix="lmi-gpg-"))
    home.chmod(0o700)
    ring = Keyring(home)
    try:
        yield ring
    finally:
        ring.close()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def _http() -> Iterator[tuple[ThreadingHTTPServer, ReleaseServer]]:
    state = ReleaseServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def release_server(
    _http: tuple[ThreadingHTTPServer, ReleaseServer], keyring: Keyring
) -> ReleaseServer:
    """The local server, freshly publishing a good release; request log emptied."""
    _, state = _http
    state.requests.clear()
    state.publish(keyring)
    return state
