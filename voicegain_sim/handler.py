"""HTTP layer: a quiet keep-alive server and its request handler."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from voicegain_sim.faults import faulty_response
from voicegain_sim.responses import Response, dump_json, error_response

if t.TYPE_CHECKING:
    from voicegain_sim.faults import Fault
    from voicegain_sim.state import RecordedRequest, SimState

API_PREFIX = "/v1"
CALLS_PATH = f"{API_PREFIX}/sa/call"
ADD_PATHS = frozenset({"/_sim/add", f"{API_PREFIX}/_sim/add"})
MAX_ADD = 10_000
_BEARER = "bearer "


class SimHTTPServer(ThreadingHTTPServer):
    """Threading HTTP server that tracks connections so it can stop at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SimState) -> None:
        """Bind the server.

        Args:
            address: ``(host, port)``; port 0 picks a free port.
            state: The simulator state requests are answered from.
        """
        super().__init__(address, SimRequestHandler)
        self.state = state
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, *, add: bool) -> None:
        """Register or forget an open client connection.

        Args:
            connection: The client socket.
            add: ``True`` to register, ``False`` to forget.
        """
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
        """Stay quiet about dropped connections; report real bugs.

        Args:
            request: The client socket.
            client_address: The client address.
        """
        if isinstance(sys.exc_info()[1], OSError) or self.stopping.is_set():
            return
        super().handle_error(request, client_address)


class SimRequestHandler(BaseHTTPRequestHandler):
    """Answers ``/v1/sa/call`` and the ``/_sim/add`` control endpoint."""

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
        """Do not log requests (keeps the server fast and quiet).

        Args:
            format: Ignored.
            *args: Ignored.
        """

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
        try:
            self.send_response(response.status)
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
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

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
        """Answer ``GET /v1/sa/call`` (with faults); anything else is 404."""
        path, raw_query, params, index, record = self._begin()
        state = self.server.state
        if path.rstrip("/") != CALLS_PATH:
            self._send(record, error_response(404, f"Not found: {path}"))
            return
        hook = state.on_request
        if hook is not None:
            try:
                hook(index, params)
            except Exception as exc:  # noqa: BLE001
                self._send(
                    record, error_response(500, f"on_request hook failed: {exc!r}")
                )
                return
        fault = state.take_fault()
        if self._apply_early(fault, record):
            return
        host = self.headers.get("Host") or "{}:{}".format(
            *self.server.server_address[:2]
        )
        response = state.answer_calls(
            self._token(),
            raw_query,
            params,
            self.headers.get("Accept"),
            f"http://{host}{path}",
        )
        if fault is not None:
            response = faulty_response(fault, response, state.csv_timezone)
        self._send(record, response)

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
