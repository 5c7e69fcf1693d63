"""A real package index over HTTP for the tests: PEP 691 JSON and PEP 503 HTML pages,
the files themselves, ETag revalidation, a request log, switchable failures, and a slow
mode that trickles files out (to catch an install in the middle of its download)."""

from __future__ import annotations

import html
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class Published:
    path: Path
    requires_python: str | None = None
    yanked: bool = False


@dataclass
class IndexState:
    files: dict[str, list[Published]] = field(default_factory=dict)
    #: "json" answers JSON when asked for it; "html" always answers HTML.
    mode: str = "json"
    fail_with: int | None = None
    cache_control: str | None = None
    requests: Counter[str] = field(default_factory=Counter)
    not_modified: int = 0
    #: Seconds between the 64-byte pieces of a file; 0 sends files at once.
    trickle: float = 0.0

    def publish(
        self, path: Path, *, requires_python: str | None = None, yanked: bool = False
    ) -> None:
        if path.name.endswith(".whl"):
            name = parse_wheel_filename(path.name)[0]
        else:
            name = parse_sdist_filename(path.name)[0]
        self.files.setdefault(canonicalize_name(name), []).append(
            Published(path, requires_python, yanked)
        )


def _page(state: IndexState, project: str, as_json: bool) -> tuple[bytes, str]:
    entries = state.files.get(project, [])
    if as_json:
        data = {
            "meta": {"api-version": "1.0"},
            "name": project,
            "files": [
                {
                    "filename": item.path.name,
                    "url": f"../../files/{item.path.name}",
                    "hashes": {},
                    **({"requires-python": item.requires_python} if item.requires_python else {}),
                    **({"yanked": True} if item.yanked else {}),
                }
                for item in entries
            ],
        }
        return json.dumps(data).encode(), JSON_TYPE
    links = []
    for item in entries:
        attributes = f' href="../../files/{item.path.name}"'
        if item.requires_python:
            attributes += f' data-requires-python="{html.escape(item.requires_python)}"'
        if item.yanked:
            attributes += ' data-yanked=""'
        links.append(f"<a{attributes}>{item.path.name}</a><br>")
    body = "<!DOCTYPE html><html><body>" + "\n".join(links) + "</body></html>"
    return body.encode(), "text/html; charset=utf-8"


def _handler(state: IndexState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        head = False

        def do_HEAD(self) -> None:
            """uv asks for a wheel's size (to read its metadata by range) before the file."""
            self.head = True
            self.do_GET()

        def do_GET(self) -> None:
            if not self.head:
                state.requests[self.path] += 1
            if state.fail_with is not None:
                self.send_error(state.fail_with)
                return
            parts = [part for part in self.path.split("/") if part]
            if len(parts) == 2 and parts[0] == "files":
                for entries in state.files.values():
                    for item in entries:
                        if item.path.name == parts[1]:
                            self._send(
                                item.path.read_bytes(),
                                "application/octet-stream",
                                "",
                                slowly=state.trickle > 0,
                            )
                            return
                self.send_error(404)
                return
            if len(parts) == 2 and parts[0] == "simple":
                as_json = state.mode == "json" and JSON_TYPE in self.headers.get("Accept", "")
                body, content_type = _page(state, canonicalize_name(parts[1]), as_json)
                etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
                if self.headers.get("If-None-Match") == etag:
                    state.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self._send(body, content_type, etag)
                return
            self.send_error(404)

        def _send(self, body: bytes, content_type: str, etag: str, slowly: bool = False) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            if state.cache_control:
                self.send_header("Cache-Control", state.cache_control)
            self.end_headers()
            if self.head:
                return
            if not slowly:
                self.wfile.write(body)
                return
            for start in range(0, len(body), 64):
                try:
                    self.wfile.write(body[start : start + 64])
                    self.wfile.flush()
                except OSError:  # the client went away (killed)
                    return
                time.sleep(state.trickle)

    return Handler


@contextmanager
def serve_index(state: IndexState) -> Iterator[str]:
    """Serve `state` on 127.0.0.1; yields the simple API root URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()
