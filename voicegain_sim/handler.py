"""HTTP layer: a quiet keep-alive server and its request handler."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys
import threading
import typing as t
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from voicegain_sim.faults import faulty_response
from voicegain_sim.responses import Response, dump_json, error_response

if t.TYPE_CHECKING:
    from voicegain_sim.answers import SimAPI
    from voicegain_sim.faults import Fault
    from voicegain_sim.state import RecordedRequest

API_PREFIX = "/v1"
CALLS_PATH = f"{API_PREFIX}/sa/call"
ADD_PATHS = frozenset({"/_sim/add", f"{API_PREFIX}/_sim/add"})
MAX_ADD = 10_000
_BEARER = "bearer "


def route(path: str) -> tuple[str | None, str]:
    """The endpoint a path names, and its id (callId, saSessionId).

    ``calls`` (``/v1/sa/call``), ``call`` (``/v1/sa/call/{callId}``),
    ``transcript`` (``/v1/sa/{saSessionId}/transcript``); ``""`` for any
    other API path (404, but counted by the limits), ``None`` outside the API.
    """
    path = path.rstrip("/")
    if not path.startswith(f"{API_PREFIX}/") or path in ADD_PATHS:
        return None, ""
    parts = path[len(API_PREFIX) + 1 :].split("/")
    if parts == ["sa", "call"]:
        return "calls", ""
    if len(parts) == 3 and parts[:2] == ["sa", "call"]:  # noqa: PLR2004
        return "call", unquote(parts[2])
    if len(parts) == 3 and parts[0] == "sa" and parts[2] == "transcript":  # noqa: PLR2004
        return "transcript", unquote(parts[1])
    return "", ""


class _Request(t.NamedTuple):
    endpoint: str
    target: str  # the callId or saSessionId in the path
    raw_query: str
    params: dict[str, list[str]]
    position: int  # 1-based, in the recorded requests
    record: RecordedRequest


class SimHTTPServer(ThreadingHTTPServer):
    """Threading HTTP server that tracks connections so it can stop at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SimAPI) -> None:
        """Bind ``(host, port)`` (port 0: any free one); answer from ``state``."""
        super().__init__(address, SimRequestHandler)
        self.state = state
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, *, add: bool) -> None:
        """Register (``add``) or forget an open client connection."""
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down every open client connection (ends keep-alive waits)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(
        self,
        request: socket.socket | tuple[bytes, socket.socket],
        client_address: object,
    ) -> None:
        """Stay quiet about dropped connections; report real bugs."""
        if isinstance(sys.exc_info()[1], OSError) or self.stopping.is_set():
            return
        super().handle_error(request, client_address)


class SimRequestHandler(BaseHTTPRequestHandler):
    """Answers the API's endpoints and the ``/_sim/add`` control endpoint."""

    protocol_version = "HTTP/1.1"
    server_version = "VoicegainSimulator/1.0"
    disable_nagle_algorithm = True
    timeout = 60
    server: SimHTTPServer

    def setup(self) -> None:
        """Register the connection with the server."""
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        """Forget the connection."""
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Do not log requests (keeps the server fast and quiet)."""

    # --------------------------------------------------------------- helpers
    def _begin(self) -> tuple[str, str, dict[str, list[str]], int, RecordedRequest]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:  # drain a body so the kept-alive stream stays in step
            self.rfile.read(length)
        url = urlsplit(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        headers = {
            k: v for k, v in self.headers.items() if k.lower() != "authorization"
        }
        index, record = self.server.state.record(url.path, params, headers)
        return url.path, url.query, params, index, record

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization")
        if auth is None or not auth.lower().startswith(_BEARER):
            return None
        return auth[len(_BEARER) :].strip() or None

    def _send(self, record: RecordedRequest, response: Response) -> None:
        record.status = response.status
        typed = {"Content-Type": response.content_type} if response.content_type else {}
        record.response_headers = {**typed, **response.headers}
        try:
            self.send_response(response.status)
            if response.content_type:  # a 204 carries none
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.truncate:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                size = len(response.body)
                self.wfile.write(f"{size:x}\r\n".encode() + response.body[: size // 2])
                self.close_connection = True
                return
            if response.status != HTTPStatus.NO_CONTENT or response.body:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.trickle is not None:
                self._trickle(response.body, *response.trickle)
            else:
                self.wfile.write(response.body)
            if response.close:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _trickle(self, body: bytes, seconds: float, size: int) -> None:
        for start in range(0, len(body), size):
            if start and self.server.stopping.wait(seconds):
                self.close_connection = True
                return
            self.wfile.write(body[start : start + size])

    def _reset(self, record: RecordedRequest) -> None:
        record.status = 0
        self.close_connection = True
        with contextlib.suppress(OSError):
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.connection.close()

    def _apply_early(self, fault: Fault | None, record: RecordedRequest) -> bool:
        if fault is None:
            return False
        if fault.kind == "delay":
            self.server.stopping.wait(fault.seconds)
        if fault.kind == "reset":
            self._reset(record)
            return True
        return False

    # ------------------------------------------------------------- endpoints
    def do_GET(self) -> None:
        """Answer the API's GET endpoints (limits, faults); anything else is 404."""
        path, raw_query, params, index, record = self._begin()
        endpoint, target = route(path)
        record.endpoint = endpoint or ""
        if endpoint is None:  # outside the API: no limits, no faults
            self._send(record, error_response(404, f"Not found: {path}"))
            return
        state = self.server.state
        admission = state.admit()
        try:
            if admission.refusal is not None:
                record.throttled = admission.limit
                response = state.with_limit_headers(admission.refusal, {}, None)
                self._send(record, response)
                return
            request = _Request(endpoint, target, raw_query, params, index, record)
            self._answer(request, admission.headers)
        finally:
            if admission.counted:
                state.limiter.release()

    def _answer(self, request: _Request, limits: dict[str, str]) -> None:
        state = self.server.state
        endpoint, params, record = request.endpoint, request.params, request.record
        if not endpoint:
            response = error_response(404, f"Not found: {record.path}")
            self._send(record, state.with_limit_headers(response, limits, None))
            return
        hook = state.on_request
        if endpoint == "calls" and hook is not None:
            try:
                hook(request.position, params)
            except Exception as exc:  # noqa: BLE001
                response = error_response(500, f"on_request hook failed: {exc!r}")
                self._send(record, state.with_limit_headers(response, limits, None))
                return
        fault = state.take_fault(endpoint, request.target)
        if self._apply_early(fault, record):
            return
        if fault is not None and fault.kind == "other_call":
            response = state.answer_other_call(
                self._token(), request.target, fault.opts.get("call_id"), params
            )
        elif endpoint == "calls":
            host = self.headers.get("Host") or "{}:{}".format(
                *self.server.server_address[:2]
            )
            response = state.answer_calls(
                self._token(),
                request.raw_query,
                params,
                self.headers.get("Accept"),
                f"http://{host}{record.path}",
            )
        else:
            response = state.answer(endpoint, request.target, self._token(), params)
        if fault is not None:
            response = faulty_response(
                fault,
                response,
                state.csv_timezone,
                self.headers.get("Authorization"),
            )
        self._send(record, state.with_limit_headers(response, limits, fault))

    def do_POST(self) -> None:
        """Answer ``POST /_sim/add?count=N[&token=T]`` from loopback clients."""
        path, _, params, _, record = self._begin()
        if path.rstrip("/") not in ADD_PATHS:
            status = 405 if path.rstrip("/") == CALLS_PATH else 404
            self._send(
                record, error_response(status, f"{self.command} {path} not supported")
            )
            return
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            self._send(record, error_response(403, "control endpoint is loopback-only"))
            return
        self._send(record, self._add(params))

    def _add(self, params: dict[str, list[str]]) -> Response:
        text = (params.get("count") or ["1"])[0]
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ADD:
            return error_response(
                400, f"Invalid value for parameter 'count': must be 1..{MAX_ADD}"
            )
        tokens = params.get("token") or []
        token = tokens[0] if tokens else None
        state = self.server.state
        if token is not None and token not in state.tokens:
            return error_response(404, "unknown project token")
        added = state.add_generated(int(text), token)
        body = {"added": len(added), "last_call_id": int(added[-1]["callId"])}
        return Response(200, dump_json(body))
