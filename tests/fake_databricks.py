"""A Databricks workspace on 127.0.0.1 that answers with recorded API responses.

The day-2 commands talk to it through the real Databricks SDK and real HTTP: routes map a method
and a path (regular expression) to a queue of answers (status, JSON body, delay), the last of which
repeats; a route may also require its query string (decoded) to match a regular expression.
Every request is recorded, so tests can assert what was asked. Failures are answers too:
429 with Retry-After, 403, 500, a slow answer that times out.

Recorded bodies live in tests/fixtures/databricks/*.json (shapes of the public REST API:
/api/2.0/pipelines/{id}, /api/2.0/pipelines/{id}/updates, /api/2.0/sql/statements).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "databricks"


def recorded(fixture: str, /, **replace: Any) -> dict[str, Any]:
    """A recorded response body, with top-level keys replaced."""
    body = json.loads((FIXTURES / f"{fixture}.json").read_text())
    body.update(replace)
    return body


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=dict)
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: str
    body: Any


class FakeWorkspace:
    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], re.Pattern[str] | None, list[Answer]]] = []
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # Stopping (once per test) waits neither for a slow answer the client gave up on (`delay`: the
        # answer is abandoned) nor for the serving loop's poll: `stop` wakes it with a connection.
        self._server.block_on_close = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=lambda: self._server.serve_forever(poll_interval=0.5), daemon=True)

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def on(self, method: str, path: str, *answers: Answer | dict[str, Any], query: str | None = None) -> FakeWorkspace:
        """Answer `method path` (a regex, matched in full) with these, in order; the last repeats.
        `query`: only requests whose decoded query string it matches (a regex, searched). The route
        added last is tried first."""
        queue = [a if isinstance(a, Answer) else Answer(body=a) for a in answers]
        self.routes.insert(0, (method, re.compile(path), re.compile(query) if query is not None else None, queue))
        return self

    def calls(self, method: str, path: str) -> list[Request]:
        pattern = re.compile(path)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    def start(self) -> FakeWorkspace:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # slow answers still waiting give up
        shutdown = threading.Thread(target=self._server.shutdown)
        shutdown.start()
        while shutdown.is_alive():  # wake the serving loop, which then sees the request to shut down
            with contextlib.suppress(OSError), socket.create_connection(self._server.server_address[:2], timeout=1):
                pass
            shutdown.join(0.01)
        self._server.server_close()

    def _answer(self, method: str, path: str, query: str) -> Answer:
        decoded = urllib.parse.unquote_plus(query)
        for m, pattern, wanted, queue in self.routes:
            if m == method and pattern.fullmatch(path) and (wanted is None or wanted.search(decoded)):
                return queue.pop(0) if len(queue) > 1 else queue[0]
        if path.startswith("/.well-known/") or path.startswith("/oidc/"):
            return Answer(404, {"error_code": "NOT_FOUND", "message": "not here"})
        # Not ENDPOINT_NOT_FOUND: that is what a host without the API answers (lakeflow.ops.workspace stops there).
        return Answer(
            404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"no recorded answer for {method} {path}"}
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        workspace = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as the real API: the SDK's session reuses its connection (HTTP/1.0 costs a connection
            # and a server thread per call). Headers and body go out as separate writes: without TCP_NODELAY,
            # each answer on a kept connection would wait for the client's delayed ACK (40 ms).
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self, method: str) -> None:
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw.strip() else None
                workspace.requests.append(Request(method, path, query, body))
                answer = workspace._answer(method, path, query)
                if answer.delay and workspace._stopping.wait(answer.delay):
                    return  # the test is over: no answer
                data = json.dumps(answer.body).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler
