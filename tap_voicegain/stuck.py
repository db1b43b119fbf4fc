"""Calls stuck in processing: stepped over by a pass, fetched again later.

``consecutive=true`` cuts the call list at the first call that is neither DONE
nor ERROR, so one call that never finishes would hold back every later call
for good. A call processing for longer than ``max_processing_hours`` is
stepped over: it is remembered in its project's state (``state.STUCK_KEY``) and
fetched on its own (``GET /sa/call/{callId}``) by each later run until it has
finished (then its record is emitted) or is gone (then forgotten, with a
warning). Both streams that walk the calls (``calls``, ``transcripts``) do
this through one :class:`StuckCalls` per project, each in its own state.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from http import HTTPStatus

from tap_voicegain import errors, state
from tap_voicegain.normalize import parse_datetime
from tap_voicegain.passes import FINISHED_PHASES

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import requests

    from tap_voicegain.client import VoicegainStream

    # A remembered call that has finished -> (its record or None, forget it?).
    Finish = Callable[[dict[str, t.Any]], tuple[dict[str, t.Any] | None, bool]]

MAX_PROCESSING_HOURS_DEFAULT = 24
# Stuck calls stepped over in one pass of one project; the next run goes on.
MAX_STEPS_PER_RUN = 100


def fetch_call(stream: VoicegainStream, call_id: int) -> dict[str, t.Any] | None:
    """One call from ``GET {api_url}/sa/call/{callId}``; None if the API says 404.

    Sent with the stream's auth, timeout and retries (429, 5xx, network).

    Raises:
        BadPageError: The answer is not one call.
    """
    url = f"{stream.url_base}/sa/call/{call_id}"

    def send() -> requests.Response:
        request = stream.build_prepared_request(
            method="GET", url=url, headers=stream.http_headers
        )
        response = stream.requests_session.send(request, timeout=stream.timeout)
        if response.status_code != HTTPStatus.NOT_FOUND:
            stream.validate_response(response)
        return response

    response = stream.request_decorator(send)()
    if response.status_code == HTTPStatus.NOT_FOUND:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, list) and len(body) == 1:
        body = body[0]  # an API that answers with a list of one
    if not isinstance(body, dict):
        msg = (
            f"The Voicegain API answered GET /sa/call/{call_id} with "
            f"{errors.api_message(response)!r}, not a call (a JSON object)"
        )
        raise errors.BadPageError(msg)
    return body


def processing_hours(call: dict[str, t.Any], now: dt.datetime) -> float | None:
    """Hours since the call's ``startTime``; None when it has no readable one."""
    started = call.get("startTime")
    if not isinstance(started, str):
        return None
    try:
        moment = parse_datetime(started)
    except ValueError:
        return None
    return (now - moment).total_seconds() / 3600


def call_id_of(call: dict[str, t.Any]) -> int | None:
    """The call's callId as an integer (the API may send text)."""
    value = call.get("callId")
    if type(value) is int:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


class StuckCalls:
    """The stuck calls of one project, as one stream keeps them in its state.

    A stream uses it in this order: :meth:`late_records` (the remembered calls
    that have finished since), then its export passes; when a pass ends on a
    short page, :meth:`why_ended` says why and names a call to step over, and
    :meth:`step_over` remembers it and moves the bookmark past it.
    """

    def __init__(
        self,
        stream: VoicegainStream,
        project: str,
        partition: dict[str, t.Any],
        write_state: Callable[[], None],
    ) -> None:
        """Keep the stuck calls of ``project`` in its partition state.

        Args:
            stream: The stream, switched to the project (``use_project``).
            project: The project's name, for messages.
            partition: The project's partition state (bookmark and stuck list).
            write_state: Writes a STATE message now, if the stream may.
        """
        self.stream = stream
        self.project = project
        self.partition = partition
        self.write_state = write_state
        self.limit_hours = float(
            stream.config.get("max_processing_hours", MAX_PROCESSING_HOURS_DEFAULT)
        )
        self.reading = False  # records now are late: the bookmark stays
        self.steps = 0  # calls stepped over in this run

    def late_records(self, finish: Finish) -> Iterator[dict[str, t.Any]]:
        """Records of the remembered calls that have finished; the bookmark stays.

        Args:
            finish: Turns a finished call (as the API sent it) into the
                stream's record (or None) and says whether to forget the call.
        """
        remembered = state.stuck_ids(self.partition)
        if not remembered:
            return
        finished = emitted = 0
        self.reading = True
        try:
            for call_id in remembered:
                call = fetch_call(self.stream, call_id)
                if call is None:
                    self.stream.logger.warning(
                        "Project %s: stuck callId %d is gone from the API (404, "
                        "deleted?); forgotten",
                        self.project,
                        call_id,
                    )
                    state.forget_stuck(self.partition, call_id)
                    continue
                phase = call.get("progressPhase")
                if phase not in FINISHED_PHASES:
                    self.stream.logger.warning(
                        "Project %s: callId %d is still processing (%s) since %s; "
                        "stepped over, it is exported once it finishes",
                        self.project,
                        call_id,
                        phase,
                        call.get("startTime"),
                    )
                    continue
                finished += 1
                record, done = finish(call)
                if record is not None:
                    yield record  # forgotten only once the SDK has written it
                    emitted += 1
                if done:
                    state.forget_stuck(self.partition, call_id)
                if self.stream.test_limit_reached():
                    break  # --test: the rest stay remembered
        finally:
            self.reading = False
            self.stream.state_manager.is_flushed = False
            self.write_state()
        self.stream.logger.info(
            "Project %s: %d of %d stuck calls finished since; %d records emitted",
            self.project,
            finished,
            len(remembered),
            emitted,
        )

    def why_ended(self, last: int) -> tuple[str, int | None]:
        """Why a pass ended on a short page after callId ``last``, and what to skip.

        Asks once, with the configured filters, what follows ``last``. Returns
        the reason, for the pass's summary, and the callId of a call processing
        for longer than ``max_processing_hours`` (logged at WARNING), which the
        caller steps over; None when there is none.
        """
        following = self.stream.peek_after(last)
        if following is None:
            return "a short page (no more calls, or a call still processing)", None
        if not following:
            return "no more calls", None
        call = following[0]
        call_id, phase = call.get("callId"), call.get("progressPhase")
        if phase in FINISHED_PHASES:
            return f"a short page; callId {call_id} finished since (next run)", None
        since = call.get("startTime")
        text = f"a call still processing at callId {call_id} ({phase})"
        if since:
            text += f" since {since}"
        hours = processing_hours(call, dt.datetime.now(dt.timezone.utc))
        found = call_id_of(call)
        if hours is None or hours <= self.limit_hours or found is None or found <= last:
            return text, None
        self.stream.logger.warning(
            "Project %s: callId %d has been processing (%s) since %s, longer than "
            "max_processing_hours (%g); stepped over and remembered in the state: "
            "a later run exports it once it finishes",
            self.project,
            found,
            phase,
            since,
            self.limit_hours,
        )
        return (
            f"{text}, stepped over (processing for more than {self.limit_hours:g} h)",
            found,
        )

    def step_over(self, call_id: int) -> bool:
        """Remember ``call_id`` and move the bookmark to it; False: stop this run.

        Remembered first, then the bookmark moves: every callId up to the
        bookmark is written or in the stuck list, in every STATE.
        """
        state.remember_stuck(self.partition, call_id)
        self.partition["replication_key"] = self.stream.replication_key
        self.partition["replication_key_value"] = call_id
        self.stream.state_manager.is_flushed = False
        self.write_state()
        self.steps += 1
        if self.steps < MAX_STEPS_PER_RUN:
            return True
        self.stream.logger.warning(
            "Project %s: %d stuck calls stepped over in this run; the next run "
            "goes on after callId %d",
            self.project,
            self.steps,
            call_id,
        )
        return False
