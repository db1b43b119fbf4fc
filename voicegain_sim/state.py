"""The simulator's data: projects of calls, their changes, recorded requests."""

from __future__ import annotations

import bisect
import threading
import typing as t
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from voicegain_sim.data import (
    clone_calls,
    continue_calls,
    imported_calls,
    make_calls,
)
from voicegain_sim.faults import Fault, FaultQueue
from voicegain_sim.fullmodel import complete_calls
from voicegain_sim.prerender import Fragments
from voicegain_sim.query import CallIndex
from voicegain_sim.responses import CALLID_MODES, Response

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

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
        endpoint: ``calls`` (``/sa/call``), ``call`` (``/sa/call/{callId}``),
            ``transcript`` (``/sa/{saSessionId}/transcript``), or empty.
        throttled: ``rate`` or ``concurrency`` when a limit answered 429.
        response_headers: Headers of the answer (``Content-Length`` aside).
    """

    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0
    endpoint: str = ""
    throttled: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)


class SimState:
    """Thread-safe source data of the simulated API, and what it received.

    Attributes:
        requests: Every request received, in order (``/sa/call`` and others).
        on_request: Called as ``hook(index, params)`` for each ``/sa/call``
            request that no limit refused, before its response is computed
            (and before any fault); ``index`` is the request's 1-based
            position in :attr:`requests`. An exception in the hook answers 500.
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
        full_model: bool = False,
    ) -> None:
        """Set up the data (see :class:`~voicegain_sim.VoicegainSimulator`).

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
        self._full_model = full_model
        self._projects: dict[str, list[dict[str, t.Any]]] = {}
        if calls is not None or projects is None:
            source = calls if calls is not None else make_calls(DEFAULT_CALL_COUNT)
            self._projects[token] = self._own(source)
        for project_token, project_calls in (projects or {}).items():
            self._projects[project_token] = self._own(project_calls)
        self._default_token = next(iter(self._projects))
        self._indexes: dict[str, CallIndex] = {}
        self._sessions: dict[str, dict[str, dict[str, t.Any]]] = {}
        self._cache: dict[tuple[str, ...], Response] = {}
        self._fragments = Fragments(ZoneInfo(csv_timezone)) if prerender else None

    # ----------------------------------------------------------------- data
    def _own(self, calls: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        """A copy of calls to serve (completed to the full model if asked)."""
        copied = clone_calls(calls)
        return complete_calls(copied) if self._full_model else copied

    @property
    def full_model(self) -> bool:
        """Whether calls carry the vendor's full model (fixed at construction)."""
        return self._full_model

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
        """The live call list (not a copy) of the project a token selects."""
        return self._projects[token]

    def _changed(
        self, calls: Iterable[dict[str, t.Any]] = (), *, reorder: bool = True
    ) -> None:
        """Drop what depends on the data: indexes, cached bodies, pieces."""
        if reorder:
            self._indexes.clear()
        self._sessions.clear()
        self._cache.clear()
        if self._fragments is not None:
            for call in calls:
                self._fragments.forget(call)

    def drop_cached(self) -> None:
        """Drop prerendered bodies (after an option that shapes them changed)."""
        with self.lock:
            self._cache.clear()

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

        E.g. leave a call ``PROCESSING`` (its ``startTime`` stays as old as it
        is): ``consecutive`` pages stop before it and its transcript answers 400
        until ``set_phase(call_id, "DONE")``. Any text is taken (the vendor's
        11 values are ``data.PROGRESS_PHASES``); ``RECOMPUTING`` also sets
        ``recomputePhase: "processing"``, which any other phase then turns
        into ``completed``.
        """
        fields = {"progressPhase": phase}
        if phase == "RECOMPUTING":
            fields["recomputePhase"] = "processing"
        elif any(c.get("recomputePhase") == "processing" for c in self._find(call_id)):
            fields["recomputePhase"] = "completed"  # the recompute is over
        self.update_call(call_id, **fields)

    def add_imported(
        self,
        count: int,
        *,
        age: timedelta = timedelta(days=10),
        phase: str = "QUEUED",
        token: str | None = None,
    ) -> list[dict[str, t.Any]]:
        """Append calls imported from old recordings; see ``data.imported_calls``.

        They get callIds above every call of the project, a ``startTime``
        ``age`` before the project's latest one, and ``phase``; finish them
        with ``set_phase(call_id, "DONE")``. Returns the new calls.
        """
        with self.lock:
            calls = self._projects[token or self._default_token]
            new = imported_calls(
                calls, count, age=age, phase=phase, full_model=self._full_model
            )
            self.add_calls(new, token)
            return new

    def update_call(self, call_id: int, **fields: object) -> None:
        """Change JSON-model fields of a call; a ``None`` value removes the field."""
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
        """Append calls (copied) to a project (default: the single/first one).

        With ``full_model`` they are completed like the initial calls.
        """
        with self.lock:
            self._projects[token or self._default_token].extend(self._own(calls))
            self._changed()

    def delete_call(self, call_id: int) -> None:
        """Remove a call from every project holding it."""
        with self.lock:
            found = self._find(call_id)
            for calls in self._projects.values():
                calls[:] = [c for c in calls if int(c["callId"]) != call_id]
            self._changed(found)

    def add_generated(
        self, count: int, token: str | None = None
    ) -> list[dict[str, t.Any]]:
        """Append ``count`` new DONE calls with higher callIds and later times."""
        with self.lock:
            existing = self._projects[token or self._default_token]
            new = continue_calls(existing, count, full_model=self._full_model)
            self.add_calls(new, token)
            return new

    # ------------------------------------------------------------- requests
    def inject(
        self,
        fault: str,
        *,
        times: int | None = 1,
        after: int = 0,
        endpoint: str = "calls",
        **opts: object,
    ) -> None:
        """Queue a fault for requests to ``endpoint``; see :mod:`voicegain_sim.faults`.

        ``times`` requests get it after ``after`` good ones (``None``: every
        one until ``faults.clear()``); faults for one endpoint queue up, each
        starting once the previous one is used up.
        """
        self.faults.add(fault, times=times, after=after, opts=opts, endpoint=endpoint)

    def record(
        self, path: str, params: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, RecordedRequest]:
        """Record an incoming request; return its 1-based index and its record."""
        entry = RecordedRequest(path, params, headers)
        with self.lock:
            self.requests.append(entry)
            return len(self.requests), entry

    def take_fault(self, endpoint: str = "calls", target: str = "") -> Fault | None:
        """The fault for the current request to ``endpoint`` (for ``target``)."""
        return self.faults.take(endpoint, target)

    def fail_call(
        self,
        call_id: int | str,
        kind: str,
        /,
        *,
        times: int | None = None,
        **opts: object,
    ) -> None:
        """Answer every ``GET /sa/call/{call_id}`` with a fault until cleared.

        ``kind`` and ``opts`` as for :meth:`inject` (``status`` with
        ``code=451``, ``html``, ``json_value`` with ``value=[]``,
        ``other_call``, ``no_callid``, ``bad_callid``, ...). ``times``:
        ``None`` (for ever) or how many requests get it.
        """
        self.faults.pin("call", str(call_id), kind, times=times, opts=opts)

    def clear_call_fault(self, call_id: int | str) -> None:
        """Answer ``GET /sa/call/{call_id}`` normally again."""
        self.faults.unpin("call", str(call_id))

    def fail_transcript(
        self,
        sa_session_id: str,
        kind: str,
        /,
        *,
        times: int | None = None,
        **opts: object,
    ) -> None:
        """Answer every transcript request of a session with a fault until cleared.

        E.g. ``json_value`` (``value=None``, ``{}``, ``"text"``), ``raw``
        (plain text, ``code=204``), ``status`` (202, 403, 410, 422, 500),
        ``deep``; ``times`` as for :meth:`fail_call`.
        """
        self.faults.pin("transcript", sa_session_id, kind, times=times, opts=opts)

    def clear_transcript_fault(self, sa_session_id: str) -> None:
        """Answer the session's transcript requests normally again."""
        self.faults.unpin("transcript", sa_session_id)

    def _index(self, token: str) -> CallIndex:
        calls = self._projects[token]
        index = self._indexes.get(token)
        if index is None or len(index.calls) != len(calls):
            index = self._indexes[token] = CallIndex(calls)
        return index

    def find_call(self, token: str, call_id: int) -> dict[str, t.Any] | None:
        """The live call with ``call_id`` in the token's project, if any."""
        with self.lock:
            index = self._index(token)
            position = bisect.bisect_left(index.ids, call_id)
            if position < len(index.ids) and index.ids[position] == call_id:
                return index.calls[position]
            return None

    def find_session(self, token: str, sa_session_id: str) -> dict[str, t.Any] | None:
        """The live call of the token's project with this ``saSessionId``."""
        with self.lock:
            for fresh in (False, True):
                sessions = self._sessions.get(token)
                if fresh or sessions is None:
                    sessions = self._sessions[token] = {
                        str(call["saSessionId"]): call
                        for call in self._projects[token]
                        if call.get("saSessionId")
                    }
                call = sessions.get(sa_session_id)
                if call is not None and call.get("saSessionId") == sa_session_id:
                    return call
            return None

    @property
    def cache_size(self) -> int:
        """Number of prerendered responses currently cached."""
        return len(self._cache)
