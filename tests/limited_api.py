"""A loopback front for the simulator: rate limits, a path prefix, odd answers.

It forwards ``GET {prefix}/...`` to the simulator's ``/v1/...`` and, like the
real API, counts every request in fixed windows (they start with the first
request), sends ``RateLimit-*`` headers, and refuses a request over a window
with 429 and ``Retry-After``. Tests can also make it drop or garble those
headers, refuse with a concurrency-limit 429, echo the Authorization header
in an error body, trickle a body, or redirect.
"""

from __future__ import annotations

import dataclasses
import math
import ssl
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests
from typing_extensions import Self

if t.TYPE_CHECKING:
    from types import TracebackType


@dataclasses.dataclass
class Window:
    limit: int
    seconds: float
    number: int = 0
    used: int = 0


class LimitedApi:
    """Rate-limited loopback front of ``upstream`` (a simulator's base URL)."""

    def __init__(
        self,
        upstream: str,
        *,
        rate_limits: t.Sequence[tuple[int, float]] = (),
        prefix: str = "/v1",
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.prefix = prefix
        self.tls = tls  # (certificate file, key file): serve https
        self.windows = [Window(n, s) for n, s in rate_limits]
        self.headers_style = "standard"  # or "missing", "malformed"
        self.concurrency_refusals = 0  # the next N requests get a concurrency 429
        self.concurrency_retry_after = "1"
        self.echo_auth: int | None = None  # status of an answer echoing the token
        self.trickle: float | None = None  # seconds between bytes of the next body
        self.redirect_to: str | None = None  # Location of the next answer (302)
        self.requests = 0
        self.refused = 0  # 429s of the rate windows
        self.paths: list[str] = []
        self._origin: float | None = None
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._upstream = requests.Session()

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    # --- the limits ---

    def _roll(self, now: float) -> None:
        if self._origin is None:
            self._origin = now
        for window in self.windows:
            number = int((now - self._origin) // window.seconds)
            if number != window.number:
                window.number, window.used = number, 0

    def _reset_in(self, window: Window, now: float) -> int:
        assert self._origin is not None
        left = self._origin + (window.number + 1) * window.seconds - now
        return max(1, math.ceil(left - 1e-9))

    def _headers(self, now: float) -> dict[str, str]:
        if not self.windows or self.headers_style == "missing":
            return {}
        if self.headers_style == "malformed":
            return {
                "RateLimit-Limit": "seventy-five;w=1m",
                "RateLimit-Remaining": "-3.5",
                "RateLimit-Reset": "soon",
            }
        binding = min(
            self.windows, key=lambda w: (w.limit - w.used, -self._reset_in(w, now))
        )
        policies = ", ".join(f"{w.limit};window={w.seconds:g}" for w in self.windows)
        return {
            "RateLimit-Limit": f"{binding.limit}, {policies}",
            "RateLimit-Remaining": str(max(0, binding.limit - binding.used)),
            "RateLimit-Reset": str(self._reset_in(binding, now)),
        }

    def admit(self) -> tuple[int | None, dict[str, str]]:
        """(429 status or None, headers) for one request; counts it."""
        with self._lock:
            self.requests += 1
            now = time.monotonic()
            self._roll(now)
            if self.concurrency_refusals:
                self.concurrency_refusals -= 1
                return 429, {
                    "Retry-After": self.concurrency_retry_after,
                    "X-ResourceLimit-Type": "concurrency",
                    "X-ResourceLimit-Limit": "1",
                }
            full = [w for w in self.windows if w.used >= w.limit]
            if full:
                self.refused += 1
                headers = self._headers(now)
                wait = max(self._reset_in(w, now) for w in full)
                if self.headers_style == "standard":
                    headers["Retry-After"] = str(wait)
                return 429, headers
            for window in self.windows:
                window.used += 1
            return None, self._headers(now)

    # --- the server ---

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.api = self
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
        self._upstream.close()

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
    api: LimitedApi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        api = self.server.api
        api.paths.append(urlsplit(self.path).path)
        refused, headers = api.admit()
        if refused is not None:
            self.answer(refused, b'{"message": "Too Many Requests"}', headers)
        elif api.redirect_to is not None:
            location, api.redirect_to = api.redirect_to, None
            self.answer(302, b"", {**headers, "Location": location})
        elif api.echo_auth is not None:
            status, api.echo_auth = api.echo_auth, None
            auth = self.headers.get("Authorization", "")
            body = (
                '{"status": "error", "detail": "upstream said no", '
                f'"request": {{"headers": {{"Authorization": "{auth}"}}}}, '
                f'"message": "denied for {auth}"}}'
            )
            self.answer(status, body.encode(), headers)
        else:
            self.forward(headers)

    def forward(self, headers: dict[str, str]) -> None:
        api = self.server.api
        path = urlsplit(self.path)
        if not path.path.startswith(api.prefix + "/"):
            self.answer(404, b'{"message": "Not found"}', headers)
            return
        rest = path.path[len(api.prefix) :]
        query = f"?{path.query}" if path.query else ""
        upstream = api._upstream.get(
            f"{api.upstream}{rest}{query}",
            headers={
                k: v
                for k, v in self.headers.items()
                if k.lower() in {"authorization", "accept"}
            },
            timeout=30,
        )
        kept = {
            k: v
            for k, v in upstream.headers.items()
            if k.lower() in {"content-type", "x-total-count"}
        }
        self.answer(upstream.status_code, upstream.content, {**kept, **headers})

    def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        api = self.server.api
        self.send_response(status)
        headers.setdefault("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        pause, api.trickle = api.trickle, None
        if pause is None:
            self.wfile.write(body)
            return
        try:
            for index in range(len(body)):
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            self.close_connection = True  # the client gave up
