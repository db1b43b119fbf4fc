"""The simulator's state: projects, recorded requests, faults, answers."""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from voicegain_sim.data import clone_calls, continue_calls, make_calls
from voicegain_sim.faults import Fault, FaultQueue
from voicegain_sim.jwt import is_expired
from voicegain_sim.prerender import Fragments
from voicegain_sim.query import CallIndex, QueryError, parse_query
from voicegain_sim.responses import (
    CALLID_MODES,
    Response,
    error_response,
    page_response,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

UNAUTHORIZED_MESSAGE = "Unauthorized: invalid or expired token"
DEFAULT_CALL_COUNT = 100


@dataclass
class RecordedRequest:
    """A request the simulator received.

    Attributes:
        path: URL path, e.g. ``/v1/sa/call``.
        params: Parsed query string.
        headers: Request headers except ``Authorization``.
        status: Status answered; 0 while pending or when the connection was
            reset without a response.
    """

    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0


class SimState:
    """Thread-safe source data and behaviour of the simulated API.

    Attributes:
        requests: Every request received, in order (``/sa/call`` and others).
        on_request: Called as ``hook(index, params)`` for each ``/sa/call``
            request before its response is computed (and before any fault);
            ``index`` is the request's 1-based position in :attr:`requests`.
            An exception in the hook answers 500.
        faults: Pending injected faults (see :meth:`inject`).
        csv_timezone: IANA zone of CSV times.
        callid_as: JSON form of ``callId``: ``string``, ``number``, ``mixed``.
        prerender: Whether bodies are prerendered and cached.
        lock: Guards the data; held while a response is computed.
    """

    def __init__(  # noqa: PLR0913
        self,
        calls: list[dict[str, t.Any]] | None = None,
        *,
        token: str = "sim-token",  # noqa: S107 - a test token
        projects: dict[str, list[dict[str, t.Any]]] | None = None,
        csv_timezone: str = "UTC",
        callid_as: str = "string",
        prerender: bool = False,
    ) -> None:
        """Set up the data.

        Args:
            calls: Calls of the project reached with ``token`` (copied). When
                both ``calls`` and ``projects`` are ``None``, 100 generated
                calls are used.
            token: Bearer token of the single project.
            projects: Further projects, token -> calls (copied).
            csv_timezone: IANA zone for CSV times.
            callid_as: ``string``, ``number`` or ``mixed`` JSON callIds.
            prerender: Render every call once (at start) and cache response
                bodies per (token, query string); for benchmarks.

        Raises:
            ValueError: Bad ``callid_as``.
        """
        if callid_as not in CALLID_MODES:
            msg = f"callid_as must be one of {sorted(CALLID_MODES)}"
            raise ValueError(msg)
        self.csv_timezone = csv_timezone
        self.callid_as = callid_as
        self.prerender = prerender
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.on_request: Callable[[int, dict[str, list[str]]], None] | None = None
        self.faults = FaultQueue()
        self._projects: dict[str, list[dict[str, t.Any]]] = {}
        if calls is not None or projects is None:
            source = calls if calls is not None else make_calls(DEFAULT_CALL_COUNT)
            self._projects[token] = clone_calls(source)
        for project_token, project_calls in (projects or {}).items():
            self._projects[project_token] = clone_calls(project_calls)
        self._default_token = next(iter(self._projects))
        self._indexes: dict[str, CallIndex] = {}
        self._cache: dict[tuple[str, ...], Response] = {}
        self._fragments = Fragments(ZoneInfo(csv_timezone)) if prerender else None

    # ----------------------------------------------------------------- data
    @property
    def calls(self) -> list[dict[str, t.Any]]:
        """Live calls of the single (or first) project.

        In-place edits are seen by the next request; with ``prerender`` use
        :meth:`update_call` and friends so cached bodies are dropped.
        """
        return self._projects[self._default_token]

    @property
    def tokens(self) -> list[str]:
        """Tokens of all projects, the single/first project first."""
        return list(self._projects)

    def calls_for(self, token: str) -> list[dict[str, t.Any]]:
        """Return the live calls of the project a token selects.

        Args:
            token: A project token.

        Returns:
            The project's call list (live, not a copy).
        """
        return self._projects[token]

    def _changed(
        self, calls: Iterable[dict[str, t.Any]] = (), *, reorder: bool = True
    ) -> None:
        """Drop what depends on the data: indexes, cached bodies, pieces."""
        if reorder:
            self._indexes.clear()
        self._cache.clear()
        if self._fragments is not None:
            for call in calls:
                self._fragments.forget(call)

    def warm(self) -> None:
        """With ``prerender``, render every call now rather than on first use."""
        with self.lock:
            if self._fragments is not None:
                for calls in self._projects.values():
                    self._fragments.warm(calls, self.callid_as)

    def _find(self, call_id: int) -> list[dict[str, t.Any]]:
        found = [
            call
            for calls in self._projects.values()
            for call in calls
            if int(call["callId"]) == call_id
        ]
        if not found:
            msg = f"no call with callId {call_id}"
            raise KeyError(msg)
        return found

    def set_phase(self, call_id: int, phase: str) -> None:
        """Set a call's ``progressPhase`` (in every project holding it).

        Args:
            call_id: The call's id.
            phase: New phase, e.g. ``DONE``.
        """
        self.update_call(call_id, progressPhase=phase)

    def update_call(self, call_id: int, **fields: object) -> None:
        """Change fields of a call; a ``None`` value removes the field.

        Args:
            call_id: The call's id.
            **fields: JSON-model fields to set.
        """
        with self.lock:
            found = self._find(call_id)
            for call in found:
                for key, value in fields.items():
                    if value is None:
                        call.pop(key, None)
                    else:
                        call[key] = value
            self._changed(found, reorder="callId" in fields)

    def add_calls(
        self, calls: list[dict[str, t.Any]], token: str | None = None
    ) -> None:
        """Append calls (copied) to a project.

        Args:
            calls: Calls to add.
            token: Project token (default: the single/first project).
        """
        with self.lock:
            self._projects[token or self._default_token].extend(clone_calls(calls))
            self._changed()

    def delete_call(self, call_id: int) -> None:
        """Remove a call from every project holding it.

        Args:
            call_id: The call's id.
        """
        with self.lock:
            found = self._find(call_id)
            for calls in self._projects.values():
                calls[:] = [c for c in calls if int(c["callId"]) != call_id]
            self._changed(found)

    def add_generated(
        self, count: int, token: str | None = None
    ) -> list[dict[str, t.Any]]:
        """Append ``count`` new DONE calls with higher callIds and later times.

        Args:
            count: Number of calls.
            token: Project token (default: the single/first project).

        Returns:
            The calls added.
        """
        with self.lock:
            new = continue_calls(self._projects[token or self._default_token], count)
            self.add_calls(new, token)
            return new

    # ------------------------------------------------------------- requests
    def inject(
        self, fault: str, *, times: int = 1, after: int = 0, **opts: object
    ) -> None:
        """Make upcoming ``/sa/call`` requests fail.

        Faults queue up: each starts once the previous one is used up.

        Args:
            fault: Kind, see :mod:`voicegain_sim.faults`.
            times: Number of requests that get the fault.
            after: Good requests to let pass before the fault starts.
            **opts: Kind options (``status``: code, retry_after, body;
                ``delay``: seconds).
        """
        self.faults.add(fault, times=times, after=after, opts=opts)

    def record(
        self, path: str, params: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, RecordedRequest]:
        """Record an incoming request.

        Args:
            path: URL path.
            params: Parsed query string.
            headers: Headers without ``Authorization``.

        Returns:
            The request's 1-based index in :attr:`requests` and its record.
        """
        entry = RecordedRequest(path, params, headers)
        with self.lock:
            self.requests.append(entry)
            return len(self.requests), entry

    def take_fault(self) -> Fault | None:
        """Return the fault for the current ``/sa/call`` request, if any."""
        return self.faults.take()

    def _index(self, token: str) -> CallIndex:
        calls = self._projects[token]
        index = self._indexes.get(token)
        if index is None or len(index.calls) != len(calls):
            index = self._indexes[token] = CallIndex(calls)
        return index

    def answer_calls(
        self,
        token: str | None,
        raw_query: str,
        params: dict[str, list[str]],
        accept: str | None,
        base_url: str,
    ) -> Response:
        """Compute the answer to ``GET /sa/call``.

        Args:
            token: Bearer token, ``None`` when absent.
            raw_query: Query string as received.
            params: Parsed query string.
            accept: ``Accept`` header.
            base_url: Scheme, host and path of the request, for ``Link``.

        Returns:
            The response (401, 400 or a result page).
        """
        with self.lock:
            if token is None or token not in self._projects or is_expired(token):
                return error_response(
                    401, UNAUTHORIZED_MESSAGE, {"WWW-Authenticate": "Bearer"}
                )
            try:
                query = parse_query(params, accept)
            except QueryError as exc:
                return error_response(400, str(exc))
            key = (token, raw_query, query.fmt, base_url)
            if self.prerender and key in self._cache:
                return self._cache[key]
            response = page_response(
                self._index(token).select(query),
                query,
                base_url=base_url,
                raw_query=raw_query,
                callid_as=self.callid_as,
                csv_timezone=self.csv_timezone,
                fragments=self._fragments,
            )
            if self.prerender:
                self._cache[key] = response
            return response

    @property
    def cache_size(self) -> int:
        """Number of prerendered responses currently cached."""
        return len(self._cache)
