# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
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
import io
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from tap_voicegain.simulator.times import parse_rfc3339

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

CSV_COLUMNS: Final[tuple[str, ...]] = (
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

_NESTED: Final[dict[str, tuple[str, str]]] = {
    "agent.id": ("agent", "agentId"),
    "agent.email": ("agent", "email"),
    "agent.name": ("agent", "name"),
    "agent.userId": ("agent", "userId"),
    "agent.channel": ("agent", "channel"),
    "queue.id": ("queue", "queueId"),
    "queue.name": ("queue", "name"),
}
_RENAMED: Final[dict[str, str]] = {"isCallResolved": "callResolved"}
_NOON: Final[int] = 12
_TIME_COLUMNS: Final[frozenset[str]] = frozenset({"startTime", "endTime"})


def format_csv_time(value: str, zone: ZoneInfo) -> str:
    """Convert an RFC 3339 timestamp to the CSV form in a time zone.

    Args:
        value: RFC 3339 text such as ``2024-05-12T18:15:45Z``.
        zone: Target time zone.

    Returns:
        Text like ``05-12-2024 6:15:45 PM``.
    """
    moment = parse_rfc3339(value).astimezone(zone)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < _NOON else "PM"
    return f"{moment:%m-%d-%Y} {hour}:{moment:%M:%S} {half}"


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _join(items: Iterable[dict[str, Any]], keys: Sequence[str], null: str = "") -> str:
    return "|".join(
        ",".join(null if item.get(key) is None else _scalar(item[key]) for key in keys)
        for item in items
    )


def _markers(value: list[dict[str, Any]]) -> str:
    return _join(value, ("time", "type", "note"), null="null")


def _word_cloud(value: list[dict[str, Any]]) -> str:
    return _join(value, ("phrase", "freq"))


def _dtmf(value: list[dict[str, Any]]) -> str:
    return _join(value, ("dtmf", "timestamp", "channel"))


def _strings(value: list[Any]) -> str:
    return "|".join(_scalar(item) for item in value)


_LIST_FORMATTERS: Final[dict[str, Callable[[list[Any]], str]]] = {
    "tags": _strings,
    "keywords": _strings,
    "topics": _strings,
    "markers": _markers,
    "wordCloud": _word_cloud,
    "dtmfEvents": _dtmf,
}


def _cell(call: dict[str, Any], column: str, zone: ZoneInfo) -> str:
    if column in _NESTED:
        parent, key = _NESTED[column]
        nested = call.get(parent)
        return _scalar(nested.get(key)) if isinstance(nested, dict) else ""
    value = call.get(_RENAMED.get(column, column))
    if value is None:
        return ""
    if column in _TIME_COLUMNS:
        return format_csv_time(str(value), zone)
    formatter = _LIST_FORMATTERS.get(column)
    if formatter is not None and isinstance(value, list):
        return formatter(value)
    return _scalar(value)


def csv_cells(
    call: dict[str, Any], zone: ZoneInfo, columns: Sequence[str] = CSV_COLUMNS
) -> list[str]:
    """Return one call's CSV fields (before quoting).

    Args:
        call: A call as a JSON-model dict.
        zone: Time zone of ``startTime``/``endTime``.
        columns: Columns to produce.

    Returns:
        One string per column.
    """
    return [_cell(call, column, zone) for column in columns]


def render_csv(
    calls: Iterable[dict[str, Any]],
    *,
    timezone: str = "UTC",
    columns: Sequence[str] = CSV_COLUMNS,
) -> str:
    """Render calls as the API's CSV export.

    Args:
        calls: Calls as JSON-model dicts.
        timezone: IANA time zone name for ``startTime``/``endTime``.
        columns: Columns to write (the simulator's faults drop some).

    Returns:
        The CSV text, header row first, CRLF line ends.
    """
    zone = ZoneInfo(timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(csv_cells(call, zone, columns) for call in calls)
    return buffer.getvalue()
