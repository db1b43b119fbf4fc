"""Rendering of calls (JSON-model dicts) in the API's CSV export format.

Conventions (the contract a CSV consumer follows):

* header row of :data:`CSV_COLUMNS`, then one row per call, RFC 4180 quoting
  with CRLF line ends; an empty export is the header only;
* missing or null values are empty fields;
* ``startTime``/``endTime`` look like ``05-12-2024 6:15:45 PM`` in the chosen
  time zone; booleans are ``true``/``false``; numbers are Python ``str()``;
* ``tags``/``keywords``/``topics`` are ``|``-joined; ``markers`` are
  ``time,type,note|...`` with literal ``null`` for no note; ``wordCloud`` is
  ``phrase,freq|...``; ``dtmfEvents`` is ``dtmf,timestamp,channel|...``;
* ``agent.id`` comes from ``agent.agentId``, ``queue.id`` from
  ``queue.queueId``, ``isCallResolved`` from ``callResolved``; JSON-only
  fields are not exported.
"""

from __future__ import annotations

import csv
import functools
import io
import typing as t
from collections.abc import Callable
from zoneinfo import ZoneInfo

from voicegain_sim.times import parse_rfc3339

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

CSV_COLUMNS = (
    "accountId",
    "contextId",
    "callId",
    "startTime",
    "endTime",
    "duration",
    "direction",
    "externalEndpoint",
    "internalEndpoint",
    "recording",
    "saSessionId",
    "agent.id",
    "agent.email",
    "agent.name",
    "agent.userId",
    "agent.channel",
    "queue.id",
    "queue.name",
    "sentiment",
    "crAnswersId",
    "score",
    "reviewStatus",
    "reviewNotes",
    "notes",
    "tags",
    "keywords",
    "topics",
    "isCallResolved",
    "incidents",
    "wordCloud",
    "numAudioChannels",
    "numSpkChannels",
    "version",
    "aivrAppId",
    "aivrSessionId",
    "originatingCallId",
    "progressPhase",
    "aivrTransferDestType",
    "callCenterCallId",
    "language",
    "dtmfEvents",
    "dailyRepeatCalls",
    "markers",
)
"""CSV export columns, in the vendor guide's order."""

_NESTED = {
    "agent.id": ("agent", "agentId"),
    "agent.email": ("agent", "email"),
    "agent.name": ("agent", "name"),
    "agent.userId": ("agent", "userId"),
    "agent.channel": ("agent", "channel"),
    "queue.id": ("queue", "queueId"),
    "queue.name": ("queue", "name"),
}
_RENAMED = {"isCallResolved": "callResolved"}
_NOON = 12
_TIME_COLUMNS = frozenset({"startTime", "endTime"})


def format_csv_time(value: str, zone: ZoneInfo) -> str:
    """RFC 3339 text as the CSV shows it in ``zone``: ``05-12-2024 6:15:45 PM``."""
    moment = parse_rfc3339(value).astimezone(zone)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < _NOON else "PM"
    return f"{moment:%m-%d-%Y} {hour}:{moment:%M:%S} {half}"


def _scalar(value: object) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _join(
    items: Iterable[dict[str, t.Any]], keys: Sequence[str], null: str = ""
) -> str:
    return "|".join(
        ",".join(null if item.get(key) is None else _scalar(item[key]) for key in keys)
        for item in items
    )


def _markers(value: list[dict[str, t.Any]]) -> str:
    return _join(value, ("time", "type", "note"), null="null")


def _word_cloud(value: list[dict[str, t.Any]]) -> str:
    return _join(value, ("phrase", "freq"))


def _dtmf(value: list[dict[str, t.Any]]) -> str:
    return _join(value, ("dtmf", "timestamp", "channel"))


def _strings(value: list[t.Any]) -> str:
    return "|".join(_scalar(item) for item in value)


_LIST_FORMATTERS = {
    "tags": _strings,
    "keywords": _strings,
    "topics": _strings,
    "markers": _markers,
    "wordCloud": _word_cloud,
    "dtmfEvents": _dtmf,
}


_Getter = Callable[[dict[str, t.Any], ZoneInfo], str]


def _nested_getter(parent: str, key: str) -> _Getter:
    def get(call: dict[str, t.Any], _zone: ZoneInfo) -> str:
        nested = call.get(parent)
        return _scalar(nested.get(key)) if isinstance(nested, dict) else ""

    return get


def _time_getter(field: str) -> _Getter:
    def get(call: dict[str, t.Any], zone: ZoneInfo) -> str:
        value = call.get(field)
        return "" if value is None else format_csv_time(str(value), zone)

    return get


def _plain_getter(
    field: str, formatter: Callable[[list[t.Any]], str] | None
) -> _Getter:
    def get(call: dict[str, t.Any], _zone: ZoneInfo) -> str:
        value = call.get(field)
        if formatter is not None and isinstance(value, list):
            return formatter(value)
        return _scalar(value)

    return get


@functools.cache
def _getters(columns: tuple[str, ...]) -> tuple[_Getter, ...]:
    """Build, once per column list, the function producing each field."""
    getters: list[_Getter] = []
    for column in columns:
        if column in _NESTED:
            getters.append(_nested_getter(*_NESTED[column]))
        elif column in _TIME_COLUMNS:
            getters.append(_time_getter(column))
        else:
            field = _RENAMED.get(column, column)
            getters.append(_plain_getter(field, _LIST_FORMATTERS.get(column)))
    return tuple(getters)


def csv_cells(
    call: dict[str, t.Any], zone: ZoneInfo, columns: Sequence[str] = CSV_COLUMNS
) -> list[str]:
    """One call's CSV fields, before quoting."""
    return [get(call, zone) for get in _getters(tuple(columns))]


def render_csv(
    calls: Iterable[dict[str, t.Any]],
    *,
    timezone: str = "UTC",
    columns: Sequence[str] = CSV_COLUMNS,
) -> str:
    """Render calls as the API's CSV export, header row first, CRLF line ends.

    ``columns`` lets the simulator's faults drop some.
    """
    zone = ZoneInfo(timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    getters = _getters(tuple(columns))
    rows = [[get(call, zone) for get in getters] for call in calls]
    # Python 3.10's writer refuses NUL (3.11 writes it as it is): write a
    # character no cell holds in its place, then put the NUL back.
    cells = "".join(cell for row in rows for cell in row if isinstance(cell, str))
    if "\x00" not in cells:
        writer.writerows(rows)
        return buffer.getvalue()
    stand_in = next(chr(c) for c in range(0xE000, 0x10FFFF) if chr(c) not in cells)
    for row in rows:
        writer.writerow(
            [c.replace("\x00", stand_in) if isinstance(c, str) else c for c in row]
        )
    return buffer.getvalue().replace(stand_in, "\x00")
