"""The Voicegain API simulator: state plus a background HTTP server."""

from __future__ import annotations

import threading
import time
import typing as t

from voicegain_sim.answers import HeaderStyle, SimAPI
from voicegain_sim.handler import API_PREFIX, SimHTTPServer

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from types import TracebackType

    from typing_extensions import Self

    from voicegain_sim.filters import Clock


class VoicegainSimulator(SimAPI):
    """A local stand-in for the Voicegain API on loopback, started by ``start``.

    Endpoints: ``GET /v1/sa/call`` (the export), ``GET /v1/sa/call/{callId}``
    (one call, JSON), ``GET /v1/sa/{saSessionId}/transcript`` (see
    :mod:`voicegain_sim.transcripts`) and ``POST /_sim/add?count=N``.

    Calls may be in any of the vendor's 11 phases (``data.PROGRESS_PHASES``):
    ``consecutive=true`` stops at the first call neither ``DONE`` nor
    ``ERROR``. ``make_calls(n, phases={3: "STOPPED"})`` and
    :meth:`set_phase` choose phases; :meth:`add_imported` appends calls
    imported from old recordings (new callIds, old start times, ``QUEUED``).

    Faults: :meth:`inject` queues them per endpoint; :meth:`fail_call` and
    :meth:`fail_transcript` pin one to a callId or saSessionId until
    :meth:`clear_call_fault` / :meth:`clear_transcript_fault` (kinds in
    :mod:`voicegain_sim.faults`).

    Args:
        calls: Calls of the project reached with ``token`` (copied). When
            both ``calls`` and ``projects`` are ``None``, 100 generated calls
            are used.
        token: Bearer token of the single project.
        projects: Further projects, token -> calls (copied).
        csv_timezone: IANA zone for CSV times.
        callid_as: ``string``, ``number`` or ``mixed`` JSON callIds.
        prerender: Render every call once (at start) and cache response bodies
            per (token, query string); for benchmarks.
        full_model: ``False`` (default: calls served as given, generated ones
            as ``make_calls`` always made them) or ``True``: every call (given,
            generated or added later) is completed to the vendor's full
            ``VoiceCall`` - ``billing``, ``copilotDisplay``,
            ``referenceNumber``, ``unauditedScore``, ``vonageCallStats`` and
            the rest, values within the model's enums; see
            :mod:`voicegain_sim.fullmodel`. Fixed at construction.
        rate_limits: ``(requests, seconds)`` fixed windows, e.g.
            ``((75, 60), (2000, 3600))``; ``None``: unlimited, no headers. See
            :mod:`voicegain_sim.ratelimit`.
        max_in_flight: Concurrency limit: more requests being answered at once
            get 429 ``X-ResourceLimit-Type: concurrency``; ``None``: unlimited.
        ratelimit_headers: ``standard``, ``missing``, ``malformed`` or a dict of
            header overrides (see :attr:`ratelimit_headers`); settable later.
        transcripts_pending: saSessionIds whose transcript is in progress (400).
        transcripts_missing: saSessionIds whose transcript is gone (404).
        transcripts_pending_fraction: Share of sessions drawn as in progress.
        transcripts_missing_fraction: Share of sessions drawn as gone.
        clock: Seconds for the rate-limit windows (``time.monotonic``); a fake
            clock makes window tests exact.
        after_call_id_reading: ``honoured`` (default: ``afterCallId`` always
            applies) or ``ignored`` (only with ``consecutive=true``, the one
            use the guide documents); settable later. See
            :mod:`voicegain_sim.readings`.
        per_page_cap: ``None`` (default) or N: no page holds more than N
            calls whatever ``per_page`` asks; offsets, ``X-Total-Count`` and
            ``Link`` follow the capped size; settable later.
        empty_answer: How a page without calls is answered: ``array``
            (default: ``[]``, CSV header only), ``204`` (no body), ``empty``
            (200, empty body) or ``null`` (200 JSON ``null``; CSV stays
            header only); settable later.
        refuse_reversed_times: ``False`` (default: ``fromTime`` after
            ``toTime`` selects nothing) or ``True`` (400 naming ``fromTime``
            and ``toTime``); settable later.
        segments: ``False`` (default: ``inclSegments`` is ignored) or
            ``True``: ``inclSegments=true`` adds ``segments`` (the vendor's
            ``CallSegment`` list) to each call of a JSON answer of
            ``/sa/call`` and ``/sa/call/{callId}``; without it there is no
            ``segments`` key; CSV never has segments. See
            :mod:`voicegain_sim.segments`; settable later.
        billing_reading: ``stored`` (default: ``billing`` wherever a call has
            it) or ``on_request`` (only ``GET /sa/call/{callId}`` with
            ``inclBilling=true`` shows it, as the vendor's text says);
            settable later.
        extra_filters: ``False`` (default: the six newer filters are ignored)
            or ``True``: ``direction``, ``internalEndpoint``, ``userGroupIds``,
            ``voicemail``, ``recomputePhase`` and ``period`` apply as the
            vendor's descriptions say, bad values are 400 naming the
            parameter; see :mod:`voicegain_sim.filters`; settable later.
        user_groups: For ``userGroupIds`` (the call model has no group
            field): group id -> member userIds; a call matches by its agent's
            ``userId`` or its ``team``. Default ``vocab.USER_GROUPS``; settable.
        now: "Now" for ``period``: ``None`` (default: the real clock), a
            datetime, or a callable returning one; settable later.
        host: Interface to bind.
        port: Port to bind; 0 picks a free one.

    Example:
        >>> with VoicegainSimulator(make_calls(10)) as sim:  # doctest: +SKIP
        ...     requests.get(f"{sim.url}/sa/call",
        ...                  headers={"Authorization": "Bearer sim-token"})
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
        rate_limits: Sequence[tuple[int, float]] | None = None,
        max_in_flight: int | None = None,
        ratelimit_headers: HeaderStyle = "standard",
        transcripts_pending: Iterable[str] = (),
        transcripts_missing: Iterable[str] = (),
        transcripts_pending_fraction: float = 0.0,
        transcripts_missing_fraction: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        after_call_id_reading: str = "honoured",
        per_page_cap: int | None = None,
        empty_answer: str = "array",
        refuse_reversed_times: bool = False,
        segments: bool = False,
        billing_reading: str = "stored",
        extra_filters: bool = False,
        user_groups: Mapping[str, Iterable[str]] | None = None,
        now: Clock = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Create the simulator; nothing listens until :meth:`start`."""
        super().__init__(
            calls,
            token=token,
            projects=projects,
            csv_timezone=csv_timezone,
            callid_as=callid_as,
            prerender=prerender,
            full_model=full_model,
            rate_limits=rate_limits,
            max_in_flight=max_in_flight,
            ratelimit_headers=ratelimit_headers,
            transcripts_pending=transcripts_pending,
            transcripts_missing=transcripts_missing,
            transcripts_pending_fraction=transcripts_pending_fraction,
            transcripts_missing_fraction=transcripts_missing_fraction,
            clock=clock,
            after_call_id_reading=after_call_id_reading,
            per_page_cap=per_page_cap,
            empty_answer=empty_answer,
            refuse_reversed_times=refuse_reversed_times,
            segments=segments,
            billing_reading=billing_reading,
            extra_filters=extra_filters,
            user_groups=user_groups,
            now=now,
        )
        self.host = host
        self.port = port
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:54321/v1``."""
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    def start(self) -> Self:
        """Bind and serve in a background thread; return the simulator.

        Raises:
            RuntimeError: Already started.
        """
        if self._server is not None:
            msg = "simulator already started"
            raise RuntimeError(msg)
        self.warm()
        server = SimHTTPServer((self.host, self.port), self)
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"voicegain-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()
