"""Injected faults: scheduling and the faulty responses they produce.

``sim.inject(kind, times=1, after=0, endpoint="calls", **options)`` queues a
fault for the next ``times`` requests to one endpoint, after ``after`` good
ones. Endpoints: ``calls`` (``GET /sa/call``, the default), ``call``
(``GET /sa/call/{callId}``), ``transcript`` (``GET /sa/{id}/transcript``) or
``any`` (the first request to any of them). Faults for one endpoint queue up,
each starting once the one before is used up. ``times=None`` makes a fault
last until ``sim.faults.clear()`` (faults queued behind it never start). A
request throttled by a rate or concurrency limit takes no fault.

``sim.fail_call(call_id, kind, **options)`` and ``sim.fail_transcript(
sa_session_id, kind, **options)`` pin a fault of any kind to one call or one
session: every request for it gets the fault (before anything queued) until
``sim.clear_call_fault(call_id)`` / ``sim.clear_transcript_fault(id)``, or
until ``times`` (default ``None``: for ever) requests got it. Other calls and
sessions are answered normally.

Kinds, their options, and what a client (``requests``) sees:

* ``status`` - an HTTP error: ``code`` (500), ``retry_after`` (header value),
  ``body`` (text; JSON content type when it looks like JSON, else the API's
  JSON error), ``close`` (send ``Connection: close`` and close the socket).
  A 408 as servers send it: ``inject("status", code=408, close=True)``.
* ``reset`` - the socket is closed without a response: ``ConnectionError``.
* ``truncate`` - chunked encoding, cut mid-chunk: ``ChunkedEncodingError``.
* ``delay`` - the answer comes ``seconds`` (2.0) late: ``ReadTimeout`` for a
  client with a shorter timeout.
* ``trickle`` - the real answer, but its body is sent ``size`` (1) bytes
  every ``seconds`` (1.0) after the headers (``Content-Length`` is right):
  every read succeeds within a read timeout, so only a total deadline ends it.
  Stops when the client disconnects or the simulator stops.
* ``html`` - 200 ``text/html`` proxy login page.
* ``maintenance`` - 200 ``text/html`` maintenance page ("down for scheduled
  maintenance"), as a load balancer sends while the API is away.
* ``error_object`` - 200 ``application/json`` error object instead of the
  answer: ``{"status": <status>, "message": <message>}`` with ``status``
  (503) and ``message`` (``maintenance``).
* ``bad_json`` - 200 ``application/json`` with truncated JSON text.
* ``non_array`` - 200 JSON object instead of an array.
* ``no_callid_csv`` - 200 ``text/csv`` whose header lacks ``callId``.
* ``no_charset`` - the real answer with ``Content-Type`` stripped of its
  ``charset`` parameter: CSV comes as bare ``text/csv`` (UTF-8 bytes), which
  ``requests`` decodes as ISO-8859-1 in ``response.text``.
* ``bom`` - the real answer with a UTF-8 BOM (``EF BB BF``) before the body
  (CSV, JSON, error bodies alike); ``no_charset=True`` also drops the charset.
* ``echo_auth`` - an error (``code`` 502) from a misbehaving proxy whose body
  quotes the request's ``Authorization`` header: JSON
  ``{"status", "message"}`` with the header in ``message``, or plain text
  with ``as_text=True``.
* ``ansi_error`` - an error (``code`` 500) whose message holds new lines, a
  carriage return, a tab and ANSI colour/cursor escapes (JSON, or plain text
  with ``as_text=True``).
* ``raw`` - exactly ``body`` (str or bytes, default empty) with
  ``content_type`` (``application/octet-stream``), status ``code`` (200) and
  extra ``headers`` (a dict).
* ``concurrency`` - 429 as the API's concurrency limit answers it:
  ``X-ResourceLimit-Type: concurrency``, ``X-ResourceLimit-Limit: <limit>``
  (1), ``Retry-After: <retry_after>`` (1).
* ``json_value`` - 200 (or ``code``) ``application/json`` holding ``value``,
  any JSON value (default ``null``): ``{}``, ``[]``, ``"a string"``, ``42``.
* ``deep`` - 200 JSON nested ``depth`` (1000) levels deep, ``[[[...]]]`` or,
  with ``as_object=True``, ``{"a":{"a":...}}``.
* ``no_callid`` - the real call (on ``calls``: the page's first call)
  without ``callId``.
* ``bad_callid`` - the same with ``callId`` set to ``value`` (``"abc"``;
  any JSON value: ``None``, ``1.5``, ``"-5"``, ``10**30``).
* ``other_call`` - (``call`` endpoint only) 200 with another call of the
  project: ``call_id`` if given, else the call after the one asked for (the
  one before, for the last); an unknown or odd id gets the first call.
* ``ratelimit_headers`` - the real answer with ``style`` (``malformed``)
  rate-limit headers: ``missing`` drops ``RateLimit-*`` and ``Retry-After``,
  ``malformed`` sends unparsable values (see :data:`MALFORMED_HEADERS`).
"""

from __future__ import annotations

import dataclasses
import threading
import typing as t
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus

from voicegain_sim import oddbodies
from voicegain_sim.csvfmt import CSV_COLUMNS, render_csv
from voicegain_sim.responses import (
    CSV_TYPE,
    JSON_TYPE,
    TEXT_TYPE,
    Response,
    dump_json,
    error_response,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

ENDPOINTS = frozenset({"calls", "call", "transcript"})
_ANY = "any"
_OPTIONS: dict[str, frozenset[str]] = {
    "status": frozenset({"code", "retry_after", "body", "close"}),
    "reset": frozenset(),
    "truncate": frozenset(),
    "delay": frozenset({"seconds"}),
    "trickle": frozenset({"seconds", "size"}),
    "html": frozenset(),
    "maintenance": frozenset(),
    "error_object": frozenset({"status", "message"}),
    "bad_json": frozenset(),
    "non_array": frozenset(),
    "no_callid_csv": frozenset(),
    "no_charset": frozenset(),
    "bom": frozenset({"no_charset"}),
    "echo_auth": frozenset({"code", "as_text"}),
    "ansi_error": frozenset({"code", "as_text"}),
    "raw": frozenset({"code", "body", "content_type", "headers"}),
    "concurrency": frozenset({"limit", "retry_after"}),
    "ratelimit_headers": frozenset({"style"}),
    "json_value": frozenset({"value", "code"}),
    "deep": frozenset({"depth", "as_object"}),
    "no_callid": frozenset(),
    "bad_callid": frozenset({"value"}),
    "other_call": frozenset({"call_id"}),
}
FAULT_KINDS = frozenset(_OPTIONS)
DEFAULT_DELAY_SECONDS = 2.0
DEFAULT_TRICKLE_SECONDS = 1.0
BOM = b"\xef\xbb\xbf"
HEADER_STYLES = frozenset({"standard", "missing", "malformed"})
RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
# What a broken gateway might send instead of the API's rate-limit headers.
MALFORMED_HEADERS = {
    "RateLimit-Limit": "seventy-five;w=1m",
    "RateLimit-Remaining": "-3.5",
    "RateLimit-Reset": "soon",
    "Retry-After": "Someday, 99 Foo 20XX",
}

LOGIN_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in - Corporate Proxy</title>"
    b'</head>\n<body><h1>Please sign in</h1>\n<form method="post" '
    b'action="/login"><input name="user"><input name="password" '
    b'type="password"><button>Sign in</button></form>\n</body></html>\n'
)
MAINTENANCE_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Down for maintenance</title></head>\n"
    b"<body><h1>We&rsquo;ll be back soon</h1>\n<p>The service is down for "
    b"scheduled maintenance. Please try again in a few minutes.</p>\n"
    b"</body></html>\n"
)
ANSI_MESSAGE = (
    "Internal error\n\x1b[31;1mFATAL\x1b[0m worker crashed\r\n"
    "\tat com.voicegain.sa.Export.run(Export.java:42)\n"
    "\x1b[2K\x1b[1A\x1b]0;pwned\x07INFO all good"
)


@dataclass
class Fault:
    """One injected fault: ``times`` more requests get it, after ``after``.

    ``times`` ``None``: every request from then on.
    """

    kind: str
    times: int | None = 1
    after: int = 0
    opts: dict[str, t.Any] = field(default_factory=dict)
    endpoint: str = "calls"

    @property
    def seconds(self) -> float:
        """Delay of a ``delay`` fault, in seconds."""
        return float(self.opts.get("seconds", DEFAULT_DELAY_SECONDS))


def _check(
    kind: str, opts: Mapping[str, t.Any], endpoint: str, times: int | None, after: int
) -> None:
    if kind not in FAULT_KINDS:
        msg = f"unknown fault {kind!r}; expected one of {sorted(FAULT_KINDS)}"
        raise ValueError(msg)
    unknown = set(opts) - _OPTIONS[kind]
    if unknown:
        msg = f"fault {kind!r} takes no option(s) {sorted(unknown)}"
        raise ValueError(msg)
    if endpoint not in ENDPOINTS | {_ANY}:
        msg = f"unknown endpoint {endpoint!r}; expected one of {sorted(ENDPOINTS)}"
        raise ValueError(msg)
    if kind == "ratelimit_headers" and opts.get("style") == "standard":
        msg = "ratelimit_headers style must be missing or malformed"
        raise ValueError(msg)
    if kind == "other_call" and endpoint != "call":
        msg = "other_call is a fault of the call endpoint only"
        raise ValueError(msg)
    if (times is not None and times < 1) or after < 0:
        msg = "times must be None or >= 1, and after >= 0"
        raise ValueError(msg)


class FaultQueue:
    """Faults waiting for requests; first in, first out per endpoint.

    Besides the queue, a fault can be pinned to one target of an endpoint
    (a callId, a saSessionId): every request for that target gets it, before
    anything queued, until it is removed or its ``times`` are used up.
    """

    def __init__(self) -> None:
        """Create an empty queue."""
        self._pending: deque[Fault] = deque()
        self._pinned: dict[tuple[str, str], Fault] = {}
        self._lock = threading.Lock()

    def pin(
        self,
        endpoint: str,
        target: str,
        kind: str,
        *,
        times: int | None = None,
        opts: dict[str, t.Any],
    ) -> None:
        """Answer every request for ``target`` of ``endpoint`` with this fault.

        Replaces a fault pinned to the same target before.

        Raises:
            ValueError: Unknown kind or option, or bad ``times``.
        """
        if endpoint not in ENDPOINTS:
            msg = f"unknown endpoint {endpoint!r}; expected one of {sorted(ENDPOINTS)}"
            raise ValueError(msg)
        _check(kind, opts, endpoint, times, 0)
        with self._lock:
            self._pinned[endpoint, target] = Fault(kind, times, 0, dict(opts), endpoint)

    def unpin(self, endpoint: str, target: str) -> None:
        """Remove the fault pinned to ``target`` of ``endpoint``, if any."""
        with self._lock:
            self._pinned.pop((endpoint, target), None)

    def add(
        self,
        kind: str,
        *,
        times: int | None,
        after: int,
        opts: dict[str, t.Any],
        endpoint: str = "calls",
    ) -> None:
        """Queue a fault behind the ones already queued for its endpoint.

        Raises:
            ValueError: Unknown kind, option or endpoint, or bad counts.
        """
        _check(kind, opts, endpoint, times, after)
        with self._lock:
            self._pending.append(Fault(kind, times, after, dict(opts), endpoint))

    def take(self, endpoint: str = "calls", target: str = "") -> Fault | None:
        """Consume one request's worth of the queue; ``None``: a good request.

        A fault pinned to ``target`` comes first and leaves the queue alone.
        """
        with self._lock:
            pinned = self._pinned.get((endpoint, target)) if target else None
            if pinned is not None:
                if pinned.times is not None:
                    pinned.times -= 1
                    if pinned.times <= 0:
                        del self._pinned[endpoint, target]
                return pinned
            head = next(
                (f for f in self._pending if f.endpoint in {endpoint, _ANY}), None
            )
            if head is None:
                return None
            if head.after > 0:
                head.after -= 1
                return None
            if head.times is not None:
                head.times -= 1
                if head.times <= 0:
                    self._pending.remove(head)
            return head

    def clear(self) -> None:
        """Drop every pending fault, pinned ones included."""
        with self._lock:
            self._pending.clear()
            self._pinned.clear()

    def __len__(self) -> int:
        """Return the number of faults still pending, pinned ones included."""
        with self._lock:
            return len(self._pending) + len(self._pinned)


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _status(opts: Mapping[str, t.Any], _real: Response, _auth: str | None) -> Response:
    code = int(opts.get("code", 500))
    headers: dict[str, str] = {}
    retry_after = opts.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body = opts.get("body")
    if body is None:
        response = error_response(code, _phrase(code), headers)
    else:
        data = str(body).encode("utf-8")
        looks_json = data.lstrip()[:1] in {b"{", b"["}
        response = Response(
            code, data, JSON_TYPE if looks_json else "text/plain", headers
        )
    if opts.get("close"):
        response.headers["Connection"] = "close"
        response.close = True
    return response


def _message(code: int, message: str, *, as_text: bool) -> Response:
    if as_text:
        return Response(code, message.encode("utf-8"), TEXT_TYPE)
    return error_response(code, message)


def _echo_auth(
    opts: Mapping[str, t.Any], _real: Response, auth: str | None
) -> Response:
    code = int(opts.get("code", 502))
    message = (
        f"{_phrase(code)}: upstream refused the request "
        f"[Authorization: {auth or '(none)'}]"
    )
    return _message(code, message, as_text=bool(opts.get("as_text")))


def _ansi(opts: Mapping[str, t.Any], _real: Response, _auth: str | None) -> Response:
    code = int(opts.get("code", 500))
    return _message(code, ANSI_MESSAGE, as_text=bool(opts.get("as_text")))


def _raw(opts: Mapping[str, t.Any], _real: Response, _auth: str | None) -> Response:
    body = opts.get("body", b"")
    data = body if isinstance(body, bytes) else str(body).encode("utf-8")
    return Response(
        int(opts.get("code", 200)),
        data,
        str(opts.get("content_type", "application/octet-stream")),
        {str(k): str(v) for k, v in dict(opts.get("headers") or {}).items()},
    )


def _concurrency(
    opts: Mapping[str, t.Any], _real: Response, _auth: str | None
) -> Response:
    return concurrency_response(
        int(opts.get("limit", 1)), int(opts.get("retry_after", 1))
    )


def concurrency_response(limit: int, retry_after: int) -> Response:
    """The API's 429 for too many requests in flight."""
    return error_response(
        429,
        f"Too Many Requests: concurrency limit of {limit} reached",
        {
            "X-ResourceLimit-Type": "concurrency",
            "X-ResourceLimit-Limit": str(limit),
            "Retry-After": str(retry_after),
        },
    )


def _bare_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip()


def _no_callid_csv(
    _opts: Mapping[str, t.Any], real: Response, _auth: str | None, zone: str
) -> Response:
    columns = [column for column in CSV_COLUMNS if column != "callId"]
    text = render_csv(real.page or [], timezone=zone, columns=columns)
    return Response(200, text.encode("utf-8"), CSV_TYPE, real.headers)


def _bad_json(
    _opts: Mapping[str, t.Any], real: Response, _auth: str | None
) -> Response:
    cut = real.body[: len(real.body) // 2]
    if len(cut) < len(b"[{"):
        cut = b'[{"callId":"1'
    return Response(200, cut, JSON_TYPE, real.headers)


_Replacer = t.Callable[[t.Mapping[str, t.Any], Response, str | None], Response]
_REPLACERS: dict[str, _Replacer] = {
    "status": _status,
    "echo_auth": _echo_auth,
    "ansi_error": _ansi,
    "raw": _raw,
    "concurrency": _concurrency,
    "truncate": lambda _o, real, _a: dataclasses.replace(real, truncate=True),
    "trickle": lambda o, real, _a: dataclasses.replace(
        real,
        trickle=(
            float(o.get("seconds", DEFAULT_TRICKLE_SECONDS)),
            max(1, int(o.get("size", 1))),
        ),
    ),
    "html": lambda _o, _r, _a: Response(200, LOGIN_PAGE, "text/html; charset=utf-8"),
    "maintenance": lambda _o, _r, _a: Response(
        200, MAINTENANCE_PAGE, "text/html; charset=utf-8"
    ),
    "error_object": lambda o, _r, _a: Response(
        200,
        dump_json(
            {
                "status": int(o.get("status", 503)),
                "message": str(o.get("message", "maintenance")),
            }
        ),
    ),
    "bad_json": _bad_json,
    "json_value": lambda o, real, _a: oddbodies.json_value(o, real),
    "deep": lambda o, real, _a: oddbodies.deep(o, real),
    "no_callid": lambda o, real, _a: oddbodies.no_callid(o, real),
    "bad_callid": lambda o, real, _a: oddbodies.bad_callid(o, real),
    "non_array": lambda _o, _r, _a: Response(
        200, dump_json({"error": "Service temporarily unavailable", "status": 200})
    ),
    "no_charset": lambda _o, real, _a: dataclasses.replace(
        real, content_type=_bare_type(real.content_type)
    ),
    "bom": lambda o, real, _a: dataclasses.replace(
        real,
        body=BOM + real.body,
        content_type=(
            _bare_type(real.content_type) if o.get("no_charset") else real.content_type
        ),
    ),
}


def faulty_response(
    fault: Fault,
    real: Response,
    csv_timezone: str,
    authorization: str | None = None,
) -> Response:
    """Turn the real response into the faulty one.

    ``reset``, ``delay``, ``ratelimit_headers`` and ``other_call`` are carried
    out by the HTTP handler and the state; for them the real response is
    returned.
    ``authorization`` is the request's header, for ``echo_auth``.
    """
    if fault.kind == "no_callid_csv":
        return _no_callid_csv(fault.opts, real, authorization, csv_timezone)
    replace: Callable[..., Response] | None = _REPLACERS.get(fault.kind)
    return real if replace is None else replace(fault.opts, real, authorization)
