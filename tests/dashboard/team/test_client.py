"""The push client against real local HTTP servers: a redirect is a failure, never followed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from dashboard.team.client import PushError, push_snapshot_document


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with 200 {} and remembers its headers (the redirect's target)."""

    seen: ClassVar[list[dict[str, str]]] = []

    def _answer(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = json.dumps({"stored": "x"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[ThreadingHTTPServer]:
    _Recorder.seen = []
    yield from _serve(_Recorder)


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failure_and_the_token_goes_nowhere_else(
    elsewhere: ThreadingHTTPServer, code: int
) -> None:
    # Another host name for the same machine: urllib resent Authorization there.
    target = f"http://localhost:{elsewhere.server_address[1]}/api/snapshots"

    class Redirector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(code)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    for server in _serve(Redirector):
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(PushError) as caught:
            push_snapshot_document(url, "member-secret", {"snapshot_id": "1"}, timeout=10)
    message = str(caught.value)
    assert f"{code} redirect to {target}" in message
    assert "follows no redirects" in message
    assert "\n" not in message
    assert _Recorder.seen == []
