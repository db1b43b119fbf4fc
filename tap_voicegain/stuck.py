"""Calls stuck in processing: stepped over by the export, fetched again later.

``consecutive=true`` cuts the call list at the first call that is neither DONE
nor ERROR, so one call that never finishes would hold back every later call
for good. A call processing for longer than ``max_processing_hours`` is
stepped over: it is remembered in its project's state (``state.STUCK_KEY``) and
fetched on its own (``GET /sa/call/{callId}``) by each later run until it has
finished (then emitted) or is gone (then forgotten, with a warning).
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

from tap_voicegain import errors
from tap_voicegain.normalize import parse_datetime

if t.TYPE_CHECKING:
    import datetime as dt

    import requests

    from tap_voicegain.client import VoicegainStream

FINISHED_PHASES = frozenset({"DONE", "ERROR"})
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
