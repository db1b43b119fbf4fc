"""A loopback front for the simulator: a path prefix, https, a redirect.

It forwards ``GET {prefix}/...`` to the simulator's ``/v1/...``, as an Edge
install serves the API under the web console's prefix; it can serve https
with a test certificate, and answer the next request with a redirect.
"""

from __future__ import annotations

import ssl
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests
from typing_extensions import Self

if t.TYPE_CHECKING:
    from types import TracebackType

KEPT_HEADERS = {"content-type", "x-total-count", "ratelimit-limit"}
KEPT_HEADERS |= {"ratelimit-remaining", "ratelimit-reset", "retry-after"}


class ApiFront:
    """Loopback front of ``upstream`` (a simulator's base URL)."""

    def __init__(
        self,
        upstream: str,
        *,
        prefix: str = "/v1",
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.prefix = prefix
        self.tls = tls  # (certificate file, key file): serve https
        self.redirect_to: str | None = None  # Location of the next answer (302)
        self.paths: list[str] = []  # of every request received
        self.session = requests.Session()
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.front = self
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.session.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    front: ApiFront


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        front = self.server.front
        path = urlsplit(self.path)
        front.paths.append(path.path)
        if front.redirect_to is not None:
            location, front.redirect_to = front.redirect_to, None
            self.answer(302, b"", {"Location": location})
            return
        if not path.path.startswith(front.prefix + "/"):
            self.answer(404, b'{"message": "Not found"}', {})
            return
        rest = path.path[len(front.prefix) :]
        query = f"?{path.query}" if path.query else ""
        upstream = front.session.get(
            f"{front.upstream}{rest}{query}",
            headers={
                k: v
                for k, v in self.headers.items()
                if k.lower() in {"authorization", "accept"}
            },
            timeout=30,
        )
        kept = {k: v for k, v in upstream.headers.items() if k.lower() in KEPT_HEADERS}
        self.answer(upstream.status_code, upstream.content, kept)

    def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        headers.setdefault("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
