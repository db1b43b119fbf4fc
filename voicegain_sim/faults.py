"""Injected faults: scheduling and the faulty responses they produce.

Kinds and the client-side symptom each one causes (``requests`` library):

* ``status`` - an HTTP error status (``code``, optional ``retry_after`` header
  value and ``body``); ``raise_for_status`` raises ``HTTPError``.
* ``reset`` - the socket is closed without a response: ``ConnectionError``.
* ``truncate`` - 200 with chunked encoding, cut mid-chunk:
  ``ChunkedEncodingError``.
* ``delay`` - the answer comes ``seconds`` late: ``ReadTimeout`` for a client
  with a shorter timeout.
* ``html`` - 200 ``text/html`` proxy login page.
* ``bad_json`` - 200 ``application/json`` with truncated JSON text.
* ``non_array`` - 200 JSON object instead of an array.
* ``no_callid_csv`` - 200 ``text/csv`` whose header lacks ``callId``.
"""

from __future__ import annotations

import threading
import typing as t
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus

from voicegain_sim.csvfmt import CSV_COLUMNS, render_csv
from voicegain_sim.responses import (
    CSV_TYPE,
    JSON_TYPE,
    Response,
    dump_json,
    error_response,
)

FAULT_KINDS = frozenset(
    {
        "status",
        "reset",
        "truncate",
        "delay",
        "html",
        "bad_json",
        "non_array",
        "no_callid_csv",
    }
)
_OPTIONS = {
    "status": frozenset({"code", "retry_after", "body"}),
    "delay": frozenset({"seconds"}),
}
DEFAULT_DELAY_SECONDS = 2.0

LOGIN_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in - Corporate Proxy</title>"
    b'</head>\n<body><h1>Please sign in</h1>\n<form method="post" '
    b'action="/login"><input name="user"><input name="password" '
    b'type="password"><button>Sign in</button></form>\n</body></html>\n'
)


@dataclass
class Fault:
    """One injected fault.

    Attributes:
        kind: One of :data:`FAULT_KINDS`.
        times: How many more requests get the fault.
        after: How many more good requests pass before it starts.
        opts: Kind-specific options.
    """

    kind: str
    times: int = 1
    after: int = 0
    opts: dict[str, t.Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Delay of a ``delay`` fault, in seconds."""
        return float(self.opts.get("seconds", DEFAULT_DELAY_SECONDS))


class FaultQueue:
    """Faults waiting for requests, applied one after the other."""

    def __init__(self) -> None:
        """Create an empty queue."""
        self._pending: deque[Fault] = deque()
        self._lock = threading.Lock()

    def add(self, kind: str, *, times: int, after: int, opts: dict[str, t.Any]) -> None:
        """Queue a fault behind the ones already queued.

        Args:
            kind: One of :data:`FAULT_KINDS`.
            times: Number of requests to hit (>= 1).
            after: Good requests to let pass first (>= 0).
            opts: Kind-specific options.

        Raises:
            ValueError: Unknown kind or option, or bad counts.
        """
        if kind not in FAULT_KINDS:
            msg = f"unknown fault {kind!r}; expected one of {sorted(FAULT_KINDS)}"
            raise ValueError(msg)
        unknown = set(opts) - _OPTIONS.get(kind, frozenset())
        if unknown:
            msg = f"fault {kind!r} takes no option(s) {sorted(unknown)}"
            raise ValueError(msg)
        if times < 1 or after < 0:
            msg = "times must be >= 1 and after >= 0"
            raise ValueError(msg)
        with self._lock:
            self._pending.append(Fault(kind, times, after, dict(opts)))

    def take(self) -> Fault | None:
        """Consume one request's worth of the queue.

        Returns:
            The fault for this request, or ``None`` for a good request.
        """
        with self._lock:
            if not self._pending:
                return None
            head = self._pending[0]
            if head.after > 0:
                head.after -= 1
                return None
            head.times -= 1
            if head.times <= 0:
                self._pending.popleft()
            return head

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._pending.clear()

    def __len__(self) -> int:
        """Return the number of faults still pending."""
        with self._lock:
            return len(self._pending)


def _status_response(opts: dict[str, t.Any]) -> Response:
    code = int(opts.get("code", 500))
    headers: dict[str, str] = {}
    retry_after = opts.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body = opts.get("body")
    if body is None:
        try:
            message = HTTPStatus(code).phrase
        except ValueError:
            message = "Error"
        return error_response(code, message, headers)
    data = str(body).encode("utf-8")
    looks_json = data.lstrip()[:1] in {b"{", b"["}
    return Response(code, data, JSON_TYPE if looks_json else "text/plain", headers)


def _truncated(real: Response) -> Response:
    return Response(
        real.status,
        real.body,
        real.content_type,
        real.headers,
        real.page,
        truncate=True,
    )


def _html(_real: Response) -> Response:
    return Response(200, LOGIN_PAGE, "text/html; charset=utf-8")


def _bad_json(real: Response) -> Response:
    cut = real.body[: len(real.body) // 2]
    if len(cut) < len(b"[{"):
        cut = b'[{"callId":"1'
    return Response(200, cut, JSON_TYPE, real.headers)


def _non_array(_real: Response) -> Response:
    body = dump_json({"error": "Service temporarily unavailable", "status": 200})
    return Response(200, body, JSON_TYPE)


_REPLACERS = {
    "truncate": _truncated,
    "html": _html,
    "bad_json": _bad_json,
    "non_array": _non_array,
}


def faulty_response(fault: Fault, real: Response, csv_timezone: str) -> Response:
    """Turn the real response into the faulty one.

    ``reset`` and ``delay`` are carried out by the HTTP handler; for them the
    real response is returned unchanged.

    Args:
        fault: The fault to apply.
        real: The response the request would have had.
        csv_timezone: IANA zone for CSV times.

    Returns:
        The response to send.
    """
    if fault.kind == "status":
        return _status_response(fault.opts)
    if fault.kind == "no_callid_csv":
        columns = [column for column in CSV_COLUMNS if column != "callId"]
        text = render_csv(real.page or [], timezone=csv_timezone, columns=columns)
        return Response(200, text.encode("utf-8"), CSV_TYPE, real.headers)
    replace = _REPLACERS.get(fault.kind)
    return real if replace is None else replace(real)
