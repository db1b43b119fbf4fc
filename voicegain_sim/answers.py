"""What the simulated API answers, endpoint by endpoint, limits included."""

from __future__ import annotations

import dataclasses
import functools
import time
import typing as t
from zoneinfo import ZoneInfo

from voicegain_sim import vocab
from voicegain_sim.faults import HEADER_STYLES, MALFORMED_HEADERS, RATE_HEADERS
from voicegain_sim.filters import (
    Clock,
    Filters,
    apply_filters,
    parse_filters,
    read_clock,
)
from voicegain_sim.jwt import is_expired
from voicegain_sim.query import QueryError, flag_param, parse_query
from voicegain_sim.ratelimit import Admission, Limiter
from voicegain_sim.readings import (
    AFTER_CALL_ID_READINGS,
    BILLING_READINGS,
    EMPTY_ANSWERS,
    Option,
    check_time_order,
    clock_value,
    empty_page,
    flag,
    group_table,
    one_of,
    page_cap,
    read_after_call_id,
)
from voicegain_sim.responses import Response, dump_json, error_response, page_response
from voicegain_sim.segments import (
    wants_segments,
    with_segments,
    without_billing,
    without_segments,
)
from voicegain_sim.state import RecordedRequest, SimState
from voicegain_sim.transcripts import Transcripts

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from voicegain_sim.faults import Fault

UNAUTHORIZED_MESSAGE = "Unauthorized: invalid or expired token"
TRANSCRIPT_FORMATS = frozenset({"json", "text"})
HeaderStyle = t.Union[str, "Mapping[str, str | None]"]
_Decorate = t.Callable[[dict[str, t.Any]], dict[str, t.Any]]


class SimAPI(SimState):
    """The simulator's answers on top of its data (see ``VoicegainSimulator``).

    Attributes:
        after_call_id_reading: ``honoured`` or ``ignored``; see
            :mod:`voicegain_sim.readings`.
        per_page_cap: ``None`` or the longest page the API sends.
        empty_answer: ``array``, ``204``, ``empty`` or ``null``: how a page
            without calls is answered.
        refuse_reversed_times: Whether ``fromTime`` after ``toTime`` is 400.
        segments: Whether ``inclSegments=true`` adds segments; see
            :mod:`voicegain_sim.segments`.
        billing_reading: ``stored`` (``billing`` shown wherever a call has
            it) or ``on_request`` (only on ``/sa/call/{id}?inclBilling=true``).
        extra_filters: Whether the six newer filters apply; see
            :mod:`voicegain_sim.filters`.
        user_groups: Group id -> member userIds, for ``userGroupIds``.
        now: ``None`` (the real clock), a datetime or a callable: "now" for
            ``period``.
    """

    after_call_id_reading = Option(
        one_of("after_call_id_reading", AFTER_CALL_ID_READINGS)
    )
    per_page_cap = Option(page_cap)
    empty_answer = Option(one_of("empty_answer", EMPTY_ANSWERS))
    refuse_reversed_times = Option(flag("refuse_reversed_times"))
    segments = Option(flag("segments"))
    billing_reading = Option(one_of("billing_reading", BILLING_READINGS))
    extra_filters = Option(flag("extra_filters"))
    user_groups = Option(group_table)
    now = Option(clock_value)

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
    ) -> None:
        """Set up data, limits and transcripts; see ``VoicegainSimulator``."""
        super().__init__(
            calls,
            token=token,
            projects=projects,
            csv_timezone=csv_timezone,
            callid_as=callid_as,
            prerender=prerender,
            full_model=full_model,
        )
        self.limiter = Limiter(rate_limits, max_in_flight, clock)
        self.ratelimit_headers = ratelimit_headers
        self.transcripts = Transcripts(
            transcripts_pending,
            transcripts_missing,
            transcripts_pending_fraction,
            transcripts_missing_fraction,
        )
        self.after_call_id_reading = after_call_id_reading
        self.per_page_cap = per_page_cap
        self.empty_answer = empty_answer
        self.refuse_reversed_times = refuse_reversed_times
        self.segments = segments
        self.billing_reading = billing_reading
        self.extra_filters = extra_filters
        self.user_groups = vocab.USER_GROUPS if user_groups is None else user_groups
        self.now = now

    # ---------------------------------------------------------------- limits
    @property
    def ratelimit_headers(self) -> HeaderStyle:
        """``standard``, ``missing``, ``malformed``, or header -> value overrides.

        ``missing`` drops ``RateLimit-*`` and ``Retry-After`` from every answer
        (429s included); ``malformed`` sends ``faults.MALFORMED_HEADERS`` on
        every answer, limits configured or not (``Retry-After`` only where
        there was one); a mapping is applied over the standard headers
        (``None`` removes one).
        """
        return self._ratelimit_headers

    @ratelimit_headers.setter
    def ratelimit_headers(self, style: HeaderStyle) -> None:
        if isinstance(style, str) and style not in HEADER_STYLES:
            msg = f"ratelimit_headers must be one of {sorted(HEADER_STYLES)} or a dict"
            raise ValueError(msg)
        self._ratelimit_headers = style if isinstance(style, str) else dict(style)

    @property
    def throttled_count(self) -> int:
        """429 answers sent so far: rate and concurrency limits, 429 faults."""
        return sum(1 for request in list(self.requests) if request.status == 429)  # noqa: PLR2004

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """Requests received for ``calls``, ``call`` or ``transcript``."""
        return [r for r in list(self.requests) if r.endpoint == endpoint]

    def reset_rate_limits(self) -> None:
        """Forget the rate-limit counts; the next request opens fresh windows."""
        self.limiter.reset()

    def admit(self) -> Admission:
        """Count an API request against the limits, or refuse it (429)."""
        return self.limiter.admit()

    def with_limit_headers(
        self, response: Response, limits: Mapping[str, str], fault: Fault | None
    ) -> Response:
        """The response with the rate-limit headers the style asks for."""
        style: HeaderStyle = self._ratelimit_headers
        if fault is not None and fault.kind == "ratelimit_headers":
            style = str(fault.opts.get("style", "malformed"))
        headers = _styled({**response.headers, **limits}, style)
        if headers == response.headers:
            return response
        return dataclasses.replace(response, headers=headers)

    # ----------------------------------------------------------- transcripts
    def set_transcript(self, sa_session_id: str, state: str) -> None:
        """Mark a transcript ``pending`` (400), ``missing`` (404) or ``ready``.

        ``ready`` undoes the other two (and a fraction's draw); the call's
        phase still decides, see :mod:`voicegain_sim.transcripts`.
        """
        self.transcripts.mark(sa_session_id, state)

    def transcript_state(self, sa_session_id: str) -> str:
        """What the session answers: ``ready`` (200), ``pending`` (400), ...

        ... ``missing``, ``failed`` (ERROR call) or ``unknown`` (all 404).
        """
        for token in self.tokens:
            call = self.find_session(token, sa_session_id)
            if call is not None:
                return self.transcripts.state(call, sa_session_id)
        return "unknown"

    # --------------------------------------------------------------- answers
    def _authorized(self, token: str | None) -> bool:
        return token is not None and token in self._projects and not is_expired(token)

    def answer(
        self,
        endpoint: str,
        target: str,
        token: str | None,
        params: dict[str, list[str]],
    ) -> Response:
        """Answer ``call`` (``target`` = callId) or ``transcript`` (saSessionId)."""
        if token is None or not self._authorized(token):
            return _unauthorized()
        if endpoint == "call":
            try:
                decorate = self._decorator(params, one_call=True)
            except QueryError as exc:
                return error_response(400, str(exc))
            return self._answer_call(token, target, decorate)
        formats = [value for value in params.get("format", ()) if value.strip()]
        fmt = formats[0].strip() if formats else "json"
        if fmt not in TRANSCRIPT_FORMATS:
            return error_response(
                400, "Invalid value for parameter 'format': must be json or text"
            )
        with self.lock:
            call = self.find_session(token, target)
            return self.transcripts.answer(call, target, fmt)

    def answer_other_call(
        self,
        token: str | None,
        target: str,
        call_id: object = None,
        params: Mapping[str, list[str]] | None = None,
    ) -> Response:
        """Answer ``GET /sa/call/{target}`` with another call of the project.

        ``call_id`` if given, else the call after ``target`` (before it, for
        the last call); the first call when ``target`` is not a known callId.
        """
        if token is None or not self._authorized(token):
            return _unauthorized()
        with self.lock:
            ids = self._index(token).ids
            if not ids:
                return error_response(404, f"Call {target} not found")
            if call_id is not None:
                other = int(str(call_id))
            elif target.isascii() and target.isdigit() and int(target) in ids:
                position = ids.index(int(target))
                after = position + 1 < len(ids)
                other = ids[position + 1] if after else ids[max(0, position - 1)]
            else:
                other = ids[0]
            try:
                decorate = self._decorator(params or {}, one_call=True)
            except QueryError as exc:
                return error_response(400, str(exc))
            return self._answer_call(token, str(other), decorate)

    def _decorator(
        self, params: Mapping[str, list[str]], *, one_call: bool = False
    ) -> _Decorate | None:
        """How calls are shown: segments, billing (``None``: as stored).

        Raises:
            QueryError: Bad ``inclSegments`` (checked only with ``segments``)
                or ``inclBilling`` (only with ``billing_reading`` on_request,
                on ``/sa/call/{id}``).
        """
        steps: list[_Decorate] = []
        if self.segments:
            steps.append(with_segments if wants_segments(params) else without_segments)
        if self.billing_reading == "on_request" and not (
            one_call and flag_param(params, "inclBilling")
        ):
            steps.append(without_billing)
        if not steps:
            return None
        if len(steps) == 1:
            return steps[0]

        def decorate(call: dict[str, t.Any]) -> dict[str, t.Any]:
            for step in steps:
                call = step(call)
            return call

        return decorate

    def _answer_call(
        self, token: str, target: str, decorate: _Decorate | None = None
    ) -> Response:
        if not (target.isascii() and target.isdigit()):
            return error_response(
                400, "Invalid value for parameter 'callId': must be an integer"
            )
        with self.lock:
            call = self.find_call(token, int(target))
            if call is None:
                return error_response(404, f"Call {target} not found")
            number = self.callid_as == "number" or (
                self.callid_as == "mixed" and int(target) % 2 == 1
            )
            value = call if decorate is None else decorate(call)
            if number:
                value = {**value, "callId": int(call["callId"])}
            return Response(200, dump_json(value))

    def answer_calls(
        self,
        token: str | None,
        raw_query: str,
        params: dict[str, list[str]],
        accept: str | None,
        base_url: str,
    ) -> Response:
        """Answer ``GET /sa/call``: 401, 400 or a result page.

        ``base_url`` (scheme, host and path of the request) is for ``Link``.
        """
        with self.lock:
            if token is None or not self._authorized(token):
                return _unauthorized()
            try:
                query = parse_query(params, accept)
                if self.refuse_reversed_times:
                    check_time_order(query)
                decorate = self._decorator(params)
                filters = parse_filters(params) if self.extra_filters else Filters()
            except QueryError as exc:
                return error_response(400, str(exc))
            query = read_after_call_id(query, self.after_call_id_reading)
            key = (token, raw_query, query.fmt, base_url)
            # A period moves with the clock: such answers are never cached.
            cacheable = self.prerender and filters.period is None
            if cacheable and key in self._cache:
                return self._cache[key]
            response = page_response(
                self._index(token).select(query, self._narrowing(filters)),
                query,
                base_url=base_url,
                raw_query=raw_query,
                callid_as=self.callid_as,
                csv_timezone=self.csv_timezone,
                fragments=self._fragments,
                per_page_cap=self.per_page_cap,
                decorate=decorate,
            )
            if not response.page:
                response = empty_page(query.fmt, self.empty_answer, response)
            if cacheable:
                self._cache[key] = response
            return response

    def _narrowing(
        self, filters: Filters
    ) -> Callable[[list[dict[str, t.Any]]], list[dict[str, t.Any]]] | None:
        """The six newer filters as a step of the selection, if any was asked."""
        if not filters.asked:
            return None
        groups: dict[str, frozenset[str]] = self.user_groups
        return functools.partial(
            apply_filters,
            filters=filters,
            groups=groups,
            now=read_clock(self.now),
            zone=ZoneInfo(self.csv_timezone),
        )


def _styled(headers: dict[str, str], style: HeaderStyle) -> dict[str, str]:
    if style == "missing":
        for name in (*RATE_HEADERS, "Retry-After"):
            headers.pop(name, None)
    elif style == "malformed":
        for name, value in MALFORMED_HEADERS.items():
            if name != "Retry-After" or "Retry-After" in headers:
                headers[name] = value
    elif not isinstance(style, str):
        for name, override in style.items():
            headers.pop(name, None)
            if override is not None:
                headers[name] = override
    return headers


def _unauthorized() -> Response:
    return error_response(401, UNAUTHORIZED_MESSAGE, {"WWW-Authenticate": "Bearer"})
