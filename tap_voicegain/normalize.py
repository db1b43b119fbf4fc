"""Turn the API's JSON objects and CSV rows into one typed record shape.

Both export formats end up in the same record: the names of the vendor's column
list, nested ``agent``/``queue`` objects, integers for ids and counts, floats
for scores, RFC 3339 UTC strings for times. Values are checked while they are
converted: a value that does not fit its column raises :class:`RecordError`
naming the call and the field, so a bad value is never guessed at or dropped.

CSV cell conventions (from the vendor's examples; see README "CSV format"):
lists are ``|``-separated, ``markers`` are ``time,type,note`` with the literal
``null`` for no note, ``wordCloud`` items are ``phrase,freq`` and
``dtmfEvents`` items ``dtmf,timestamp,channel`` (our assumption: the guide shows
no example of either), times are ``MM-DD-YYYY h:mm:ss AM/PM`` in the
configured zone.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import typing as t
from zoneinfo import ZoneInfo

Converter = t.Callable[[t.Any], t.Any]
UTC = dt.timezone.utc


class RecordError(ValueError):
    """A value from the API that does not fit its column."""

    def __init__(
        self, call_id: object, field: str, value: object, expected: str
    ) -> None:
        """Build the message from the culprit call, field and value."""
        shown = repr(value)
        if len(shown) > 80:  # noqa: PLR2004 - keep log lines readable
            shown = shown[:77] + "..."
        super().__init__(
            f"callId {call_id}: field '{field}' has {shown}, expected {expected}",
        )
        self.call_id = call_id
        self.field = field


class BadValue(Exception):  # noqa: N818 - a signal, wrapped into RecordError
    """A converter's answer to a value that does not fit: what was expected."""

    def __init__(self, expected: str) -> None:
        """Say what the column accepts."""
        super().__init__(expected)
        self.expected = expected


# --- scalar converters: value -> typed value or None; raise BadValue on misfit ---


def to_int(value: t.Any) -> int | None:  # noqa: ANN401
    """Integer from an int, an integral float or a decimal string."""
    kind = type(value)
    if kind is int:
        return t.cast("int", value)
    if value is None or value == "":
        return None
    if kind is str:
        text = value.strip()
        digits = text[1:] if text[:1] == "-" else text
        # ASCII only: str.isdigit() also accepts "²" (int() refuses it) and "٩".
        if digits.isascii() and digits.isdigit():
            return int(text)
    elif kind is float and value.is_integer():
        return int(value)
    msg = "an integer"
    raise BadValue(msg)


def to_float(value: t.Any) -> float | None:  # noqa: ANN401
    """Float from a number or a numeric string (never NaN or infinity)."""
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)
    elif value is None or value == "":
        return None
    elif kind is str:
        try:
            number = float(value)
        except ValueError:
            msg = "a number"
            raise BadValue(msg) from None
    else:
        msg = "a number"
        raise BadValue(msg)
    if not math.isfinite(number):
        msg = "a finite number"
        raise BadValue(msg)
    return number


def to_str(value: t.Any) -> str | None:  # noqa: ANN401
    """Text exactly as sent; an empty string is null; ints become their digits."""
    kind = type(value)
    if kind is str:
        return t.cast("str", value) or None
    if value is None:
        return None
    if kind is int:
        return str(value)
    msg = "a string"
    raise BadValue(msg)


def to_bool(value: t.Any) -> bool | None:  # noqa: ANN401
    """Boolean from true/false (JSON) or 'true'/'false' (CSV)."""
    if type(value) is bool:
        return bool(value)
    if value is None or value == "":
        return None
    if type(value) is str:
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    msg = "true or false"
    raise BadValue(msg)


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# RFC 3339, parsed the same on every Python (3.10's fromisoformat refuses "Z"
# and fractions of other than 3 or 6 digits). ASCII digits only.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:[.,]([0-9]+))?([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)
_ZONES: dict[str, dt.tzinfo] = {"Z": UTC, "z": UTC, "+00:00": UTC}


def _zone(text: str | None) -> dt.tzinfo:
    if text is None:
        return UTC  # zone-less: taken as UTC
    zone = _ZONES.get(text)
    if zone is None:
        sign = -1 if text[0] == "-" else 1
        hours, minutes = int(text[1:3]), int(text[-2:])
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        _ZONES[text] = zone
    return zone


def parse_datetime(value: str) -> dt.datetime:
    """An aware datetime from RFC 3339 text; zone-less text is taken as UTC.

    Raises:
        ValueError: not RFC 3339, or not a date on the calendar.
    """
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValueError(value)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    return dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        micro,
        tzinfo=_zone(zone),
    )


def to_datetime(value: t.Any) -> str | None:  # noqa: ANN401
    """RFC 3339 UTC text from an RFC 3339 value (zone-less is taken as UTC)."""
    if value is None or value == "":
        return None
    if type(value) is not str:
        msg = "an RFC 3339 date-time"
        raise BadValue(msg)
    try:
        moment = parse_datetime(value)
    except ValueError:
        msg = "an RFC 3339 date-time"
        raise BadValue(msg) from None
    return _utc_text(moment)


class CsvTimeParser:
    """Parser of the CSV's ``MM-DD-YYYY h:mm:ss AM/PM`` times in one zone.

    Calls of one export share few days, so each day is checked against the
    calendar once and remembered: the hot path of CSV exports.
    """

    expected = "a time like 05-12-2024 6:15:45 PM"

    def __init__(self, zone_name: str) -> None:
        """Read times as wall-clock times in ``zone_name`` (IANA)."""
        self.zone: dt.tzinfo = UTC if zone_name == "UTC" else ZoneInfo(zone_name)
        self._days: dict[str, tuple[tuple[int, int, int], str]] = {}

    def __call__(self, value: t.Any) -> str | None:  # noqa: ANN401
        """RFC 3339 UTC text of one cell; None for an empty cell."""
        if not value:
            return None
        if "T" in value:  # tolerate RFC 3339 should the API switch
            return to_datetime(value)
        try:
            day, _, clock = value.partition(" ")
            (ymd, day_text), hms = self._day(day), self._clock(clock)
        except ValueError:
            raise BadValue(self.expected) from None
        if self.zone is UTC:
            return f"{day_text}T{hms[0]:02d}:{hms[1]:02d}:{hms[2]:02d}+00:00"
        return _utc_text(dt.datetime(*ymd, *hms, tzinfo=self.zone))

    def _day(self, day: str) -> tuple[tuple[int, int, int], str]:
        known = self._days.get(day)
        if known is None:
            month, mday, year = day.split("-")
            date = dt.date(int(year), int(month), int(mday))  # checks the calendar
            known = self._days[day] = ((date.year, date.month, date.day), str(date))
        return known

    @staticmethod
    def _clock(clock: str) -> tuple[int, int, int]:
        # Not remembered: clock readings rarely repeat within an export.
        reading, half = clock.split(" ")
        hour, minute, second = reading.split(":")
        hour_num, minute_num, second_num = int(hour), int(minute), int(second)
        half = half.upper()
        if (
            half not in {"AM", "PM"}
            or not 1 <= hour_num <= 12  # noqa: PLR2004
            or not 0 <= minute_num <= 59  # noqa: PLR2004
            or not 0 <= second_num <= 59  # noqa: PLR2004
        ):
            raise ValueError(clock)
        return hour_num % 12 + (12 if half == "PM" else 0), minute_num, second_num


# --- lists and objects ---


def to_str_list(value: t.Any) -> list[str] | None:  # noqa: ANN401
    """List of strings from a JSON array or a ``|``-separated CSV cell."""
    if not value:
        return None
    if type(value) is str:
        return value.split("|")
    if type(value) is list:
        out = [item if type(item) is str and item else to_str(item) for item in value]
        if None in out:
            msg = "a list of non-empty strings"
            raise BadValue(msg)
        return t.cast("list[str]", out)
    msg = "a list of strings"
    raise BadValue(msg)


def _object_list(
    value: t.Any,  # noqa: ANN401
    fields: tuple[tuple[str, Converter, type], ...],
    expected: str,
) -> list[dict[str, t.Any]] | None:
    """List of objects from a JSON array, or from ``a,b,c|a,b,c`` CSV text."""
    if not value:
        return None
    if type(value) is str:
        return _object_list_from_text(value, fields, expected)
    if type(value) is not list:
        raise BadValue(expected)
    out = []
    for item in value:
        if type(item) is not dict:
            raise BadValue(expected)
        obj = {}
        for name, conv, kind in fields:
            field = item.get(name)
            # Hot path: a value already of its column's type is taken as it is.
            obj[name] = field if type(field) is kind and field != "" else conv(field)
        out.append(obj)
    return out


def _object_list_from_text(
    value: str,
    fields: tuple[tuple[str, Converter, type], ...],
    expected: str,
) -> list[dict[str, t.Any]]:
    parse = _TEXT_CELL_PARSERS.get(fields[0][0])
    if parse is None:  # a list the CSV never carries
        raise BadValue(expected)
    try:
        return parse(value)
    except ValueError:
        raise BadValue(expected) from None


# One function per cell (not per item): wordCloud cells hold dozens of items.


def _markers_cell(value: str) -> list[dict[str, t.Any]]:
    out = []
    for chunk in value.split("|"):
        # time,type,note: the note is free text and may hold commas.
        time, kind, note = chunk.split(",", 2)
        if not (time.isascii() and time.isdigit()):
            raise ValueError(time)
        out.append(
            {
                "time": int(time),
                "type": kind or None,
                "note": None if note in {"null", ""} else note,
            }
        )
    return out


def _words_cell(value: str) -> list[dict[str, t.Any]]:
    out = []
    for chunk in value.split("|"):
        # phrase,freq: split at the last comma, so a phrase may hold commas.
        phrase, comma, freq = chunk.rpartition(",")
        if not comma or not (freq.isascii() and freq.isdigit()):
            raise ValueError(chunk)
        out.append({"phrase": phrase or None, "freq": int(freq)})
    return out


def _dtmf_cell(value: str) -> list[dict[str, t.Any]]:
    out = []
    for chunk in value.split("|"):
        dtmf, timestamp, channel = chunk.split(",")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise ValueError(timestamp)
        out.append(
            {
                "dtmf": dtmf or None,
                "timestamp": int(timestamp),
                "channel": channel or None,
            }
        )
    return out


def _note(value: t.Any) -> str | None:  # noqa: ANN401
    return None if value == "null" else to_str(value)


# Item fields: (name, converter, the type taken as it is).
_MARKER = (("time", to_int, int), ("type", to_str, str), ("note", _note, str))
# CSV cells of these lists (keyed by the first field of their items).
_TEXT_CELL_PARSERS: dict[str, t.Callable[[str], list[dict[str, t.Any]]]] = {
    "time": _markers_cell,
    "phrase": _words_cell,
    "dtmf": _dtmf_cell,
}
_WORD = (("phrase", to_str, str), ("freq", to_int, int))
_DTMF = (("dtmf", to_str, str), ("timestamp", to_int, int), ("channel", to_str, str))
_SENTIMENT = (
    ("speaker", to_str, str),
    ("average", to_float, float),
    ("final", to_float, float),
    ("trend", to_float, float),
)


def to_markers(value: t.Any) -> list[dict[str, t.Any]] | None:  # noqa: ANN401
    """Markers: ``[{time, type, note}]``."""
    if type(value) is list:  # hot path: well-typed JSON items, copied as they are
        out = []
        for item in value:
            if type(item) is not dict:
                break
            time, kind, note = item.get("time"), item.get("type"), item.get("note")
            if type(time) is not int or type(kind) is not str or not kind:
                break
            if note is not None and (type(note) is not str or not note):
                break
            out.append({"time": time, "type": kind, "note": note})
        else:
            return out or None
    return _object_list(value, _MARKER, "markers like time,type,note|...")


def to_word_cloud(value: t.Any) -> list[dict[str, t.Any]] | None:  # noqa: ANN401
    """Word cloud: ``[{phrase, freq}]``."""
    if type(value) is list:  # hot path: well-typed JSON items, copied as they are
        out = []
        for item in value:
            if type(item) is not dict:
                break
            phrase, freq = item.get("phrase"), item.get("freq")
            if type(phrase) is not str or not phrase or type(freq) is not int:
                break
            out.append({"phrase": phrase, "freq": freq})
        else:
            return out or None
    return _object_list(value, _WORD, "words like phrase,freq|...")


def to_dtmf_events(value: t.Any) -> list[dict[str, t.Any]] | None:  # noqa: ANN401
    """DTMF events: ``[{dtmf, timestamp, channel}]``."""
    return _object_list(value, _DTMF, "events like dtmf,timestamp,channel|...")


def to_sentiments(value: t.Any) -> list[dict[str, t.Any]] | None:  # noqa: ANN401
    """Per-speaker sentiments: ``[{speaker, average, final, trend}]``."""
    return _object_list(value, _SENTIMENT, "a list of speaker sentiments")


def to_object(value: t.Any) -> dict[str, t.Any] | None:  # noqa: ANN401
    """A JSON object kept as it is."""
    if value is None:
        return None
    if type(value) is not dict:
        msg = "a JSON object"
        raise BadValue(msg)
    return t.cast("dict[str, t.Any]", value)


def to_object_list(value: t.Any) -> list[t.Any] | None:  # noqa: ANN401
    """A JSON array of objects kept as it is."""
    if value is None:
        return None
    if type(value) is not list or any(type(item) is not dict for item in value):
        msg = "a list of JSON objects"
        raise BadValue(msg)
    return list(value)


# Each kind of the field table (fields.py): its converter, and the type a value
# may already have to be kept as it is (the hot path skips the call).
CONVERTERS: dict[str, Converter] = {
    "string": to_str,
    "integer": to_int,
    "number": to_float,
    "boolean": to_bool,
    "datetime": to_datetime,
    "strings": to_str_list,
    "markers": to_markers,
    "words": to_word_cloud,
    "dtmf": to_dtmf_events,
    "sentiments": to_sentiments,
    "object": to_object,
    "objects": to_object_list,
}
FAST_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "object": dict,
}
