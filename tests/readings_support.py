"""Helpers of the issue-18 tests: the API's readings, the requests a run sent.

Issue 18 asks the tap to work whichever way the API reads what its documents
leave open. The helpers here start the simulator in one reading, run the tap
in-process (tests/helpers.py ``run_tap``), and sort the requests the simulator
received into what a user can count: pages of the export, pages of the
refresh, looks at the call list, single-call fetches.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import typing as t

from tests.helpers import FAST_RETRIES, TOKEN, partition
from voicegain_sim import VoicegainSimulator

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import pytest

    from tests.helpers import TapRun
    from voicegain_sim import RecordedRequest

# The two readings of afterCallId without consecutive=true (voicegain_sim.readings).
READINGS = ("honoured", "ignored")
# The vendor's ProgressPhase values (voicegain-speech 1.142.0) and the decision
# of design.md ("Phases"): finished ones are emitted once, never fetched again.
FINISHED = ("DONE", "ERROR", "STOPPED")
IN_PROGRESS = (
    "INPUT_READY",
    "ACCEPTED",
    "WAITING",
    "QUEUED",
    "FETCHING",
    "FETCHED",
    "PROCESSING",
    "RECOMPUTING",
)
# Query parameters of GET /sa/call the vendor's documents describe on their own
# (afterCallId only "in conjunction with consecutive=true").
DOCUMENTED_ALONE = frozenset(
    {
        "format",
        "fromTime",
        "toTime",
        "sort_by",
        "sort_dir",
        "page",
        "per_page",
        "aivrAppId",
        "agentId",
        "queueId",
        "inclSegments",
    }
)
# A tap that loops for ever meets 500s past this many list requests, and fails
# (fast retries) instead of hanging the test.
LIST_REQUESTS_MAX = 2_000


def now() -> dt.datetime:
    """The current UTC time."""
    return dt.datetime.now(dt.timezone.utc)


def ago(**delta: float) -> dt.datetime:
    """A UTC time ``delta`` (``hours=``, ``days=``) before now."""
    return now() - dt.timedelta(**delta)


def rfc3339(moment: dt.datetime) -> str:
    """``moment`` as the API writes it (UTC, seconds)."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ids(calls: Iterable[dict[str, t.Any]]) -> list[int]:
    """callIds of simulator calls."""
    return [int(c["callId"]) for c in calls]


def config_for(sim: VoicegainSimulator, **settings: t.Any) -> dict[str, t.Any]:
    """Tap settings for ``sim``'s single project, with fast retries."""
    return {"jwt_token": TOKEN, "api_url": sim.url, **FAST_RETRIES, **settings}


def _guard(limit: int) -> t.Callable[[int, dict[str, list[str]]], None]:
    count = 0

    def hook(_index: int, _params: dict[str, list[str]]) -> None:
        nonlocal count
        count += 1
        if count > limit:
            msg = f"more than {limit} list requests: the tap loops"
            raise RuntimeError(msg)

    return hook


@contextlib.contextmanager
def simulator(
    calls: list[dict[str, t.Any]] | None,
    reading: str,
    *,
    limit: int = LIST_REQUESTS_MAX,
    **options: t.Any,
) -> Iterator[VoicegainSimulator]:
    """A running simulator playing ``reading``; past ``limit`` list requests, 500s."""
    options.setdefault("token", TOKEN)
    with VoicegainSimulator(calls, after_call_id_reading=reading, **options) as sim:
        sim.on_request = _guard(limit)
        yield sim


# --- requests the simulator received ---


def since(sim: VoicegainSimulator, mark: int) -> list[RecordedRequest]:
    """Requests received after the first ``mark`` ones (``len(sim.requests)``)."""
    return list(sim.requests)[mark:]


def param(request: RecordedRequest, name: str) -> str | None:
    """The first value of a query parameter, if sent."""
    values = request.params.get(name)
    return values[0] if values else None


def consecutive(request: RecordedRequest) -> bool:
    """Whether the request asked for consecutive=true."""
    return (param(request, "consecutive") or "").lower() == "true"


def list_requests(requests: Iterable[RecordedRequest]) -> list[RecordedRequest]:
    """Requests of the call list (GET /sa/call)."""
    return [r for r in requests if r.endpoint == "calls"]


def export_pages(requests: Iterable[RecordedRequest]) -> list[RecordedRequest]:
    """Pages of the export: the documented consecutive=true walk."""
    return [r for r in list_requests(requests) if consecutive(r)]


def refresh_pages(requests: Iterable[RecordedRequest]) -> list[RecordedRequest]:
    """Pages of the refresh pass: a time window in ascending order, no consecutive.

    (For configs without ``from_time``: then only the refresh sends ``fromTime``.)
    """
    return [
        r
        for r in list_requests(requests)
        if not consecutive(r)
        and param(r, "fromTime") is not None
        and param(r, "sort_dir") in {None, "asc"}
    ]


def looks(requests: Iterable[RecordedRequest]) -> list[RecordedRequest]:
    """Other requests of the call list: looks at what follows a short page."""
    pages = {id(r) for r in export_pages(requests) + refresh_pages(requests)}
    return [r for r in list_requests(requests) if id(r) not in pages]


def after_without_consecutive(
    requests: Iterable[RecordedRequest],
) -> list[RecordedRequest]:
    """Requests combining afterCallId with anything but consecutive=true."""
    return [
        r
        for r in list_requests(requests)
        if param(r, "afterCallId") is not None and not consecutive(r)
    ]


def fetched(
    requests: Iterable[RecordedRequest], call_id: int | None = None
) -> list[int]:
    """callIds asked for one by one (GET /sa/call/{callId}), or only ``call_id``."""
    got = [
        int(r.path.rstrip("/").rsplit("/", 1)[1])
        for r in requests
        if r.endpoint == "call"
    ]
    return [c for c in got if call_id is None or c == call_id]


def reversed_windows(requests: Iterable[RecordedRequest]) -> list[RecordedRequest]:
    """List requests whose fromTime is after their toTime."""
    found = []
    for request in list_requests(requests):
        low, high = param(request, "fromTime"), param(request, "toTime")
        if low and high:
            start = dt.datetime.fromisoformat(low.replace("Z", "+00:00"))
            end = dt.datetime.fromisoformat(high.replace("Z", "+00:00"))
            if start > end:
                found.append(request)
    return found


# --- state ---


def stuck(state: dict[str, t.Any], project: str = "default") -> list[int]:
    """callIds remembered in ``project``'s calls partition."""
    return [int(c) for c in partition(state, project).get("stuck_call_ids", [])]


# --- records ---


def emitted(
    run: TapRun, stream: str = "calls", project: str | None = None
) -> list[int]:
    """callIds of one stream's records (of one project if given), in order."""
    return [
        int(m["record"]["callId"])
        for m in run.messages
        if m["type"] == "RECORD"
        and m["stream"] == stream
        and (project is None or m["record"].get("project") == project)
    ]


def record_of(run: TapRun, call_id: int) -> dict[str, t.Any]:
    """The (single) calls record of ``call_id`` in a run."""
    (found,) = [
        m["record"]
        for m in run.messages
        if m["type"] == "RECORD"
        and m["stream"] == "calls"
        and int(m["record"]["callId"]) == call_id
    ]
    return t.cast("dict[str, t.Any]", found)


def assert_no_repeats(got: list[int]) -> None:
    """No callId twice in one list."""
    repeated = sorted({c for c in got if got.count(c) > 1})
    assert not repeated, f"emitted more than once: {repeated[:10]}"


# --- log lines ---


def names(text: str, call_id: int) -> bool:
    """Whether ``text`` names ``call_id`` (not as part of a longer number)."""
    return re.search(rf"(?<!\d){call_id}(?!\d)", text) is not None


def lines_naming(
    caplog: pytest.LogCaptureFixture, call_id: int, level: int = logging.INFO
) -> list[logging.LogRecord]:
    """Log records at ``level`` or above naming ``call_id``."""
    return [
        r
        for r in caplog.records
        if r.levelno >= level and names(r.getMessage(), call_id)
    ]


def at_least(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    """Log records at ``level`` or above, retry lines aside (they report attempts)."""
    return [
        r for r in caplog.records if r.levelno >= level and not hasattr(r, "attempt")
    ]
