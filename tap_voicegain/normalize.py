"""Turn the API's JSON objects and CSV rows into one typed record shape.

Both export formats end up in the same record: the names of the vendor's column
list, nested ``agent``/``queue`` objects, integers for ids and counts, floats
for scores, RFC 3339 UTC strings for times. Values are checked while they are
converted: a value that does not fit its column raises :class:`BadValue`,
which the record builder (``records.py``) turns into a :class:`RecordError`
naming the call and the field, or keeps raw (README "Values that do not fit").
Numbers, integers and times are read from ASCII digits only: Python's ``int``
and ``float`` also take "١٢" and "1_000", which no API means.

CSV cell conventions (from the vendor's examples; see README "CSV
conventions"): lists are ``|``-separated, times are ``MM-DD-YYYY h:mm:ss
AM/PM`` in the configured zone. The lists of objects (markers, word cloud,
DTMF events) are read in ``layouts.py``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import typing as t
from zoneinfo import ZoneInfo

import msgspec

Converter = t.Callable[[t.Any], t.Any]
UTC = dt.timezone.utc


class RecordError(ValueError):
    """A value from the API that does not fit its column."""

    def __init__(
        self, call_id: object, field: str, value: object, expected: str
    ) -> None:
        """Build the message from the culprit call, field and value."""
        super().__init__(
            f"callId {call_id}: field '{field}' has {describe(value)}, "
            f"expected {expected}",
        )
        self.call_id = call_id
        self.field = field


class BadValue(Exception):  # noqa: N818 - a signal, wrapped into RecordError
    """A converter's answer to a value that does not fit: what was expected."""

    # What the column gets when the value is kept raw: null, or (UnknownLayout)
    # the items that could be read.
    partial: t.Any = None

    def __init__(self, expected: str) -> None:
        """Say what the column accepts."""
        super().__init__(expected)
        self.expected = expected


class UnknownLayout(BadValue):
    """A value of a column whose layout no document gives, not (fully) read.

    Never stops a run, whatever ``strict_values`` says: a guess about an
    undocumented layout is no reason to lose calls.
    """

    def __init__(self, expected: str, partial: t.Any = None) -> None:  # noqa: ANN401
        """Say what was expected; ``partial`` is what could be read, if any."""
        super().__init__(expected)
        self.partial = partial


SHOWN_CHARS = 60  # of a value's shape in a message: log lines stay readable


def describe(value: t.Any) -> str:  # noqa: ANN401
    """A value's shape for a log line: never its content, which may be personal.

    Letters become ``a``/``A`` and digits ``9``; other ASCII is kept, other
    characters are shown as ``<U+XXXX>`` (so "١٢" in a number is visible).
    Long values are cut. Examples: ``'999a'`` for "274s", ``a JSON boolean``.
    """
    kind = type(value)
    if kind is bool:
        return "a JSON boolean"
    if kind is int or kind is float:
        return "a JSON number"
    if value is None:
        return "null"
    text = value if kind is str else msgspec.json.encode(value).decode()
    shape = "".join(_masked(char) for char in text[:SHOWN_CHARS])
    if len(text) > SHOWN_CHARS:
        return f"{shape!r}... ({len(text)} characters)"
    if kind is not str:
        return f"a JSON {'object' if kind is dict else 'array'} {shape!r}"
    return repr(shape)


def _masked(char: str) -> str:
    if char.isascii():
        if char.isdigit():
            return "9"
        if char.isalpha():
            return "A" if char.isupper() else "a"
        return char
    if char.isalpha():
        return "A" if char.isupper() else "a"
    return f"<U+{ord(char):04X}>"


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
    if kind is float:
        number = t.cast("float", value)
    elif kind is int:
        try:
            number = float(value)
        except OverflowError:  # an integer of over 308 digits
            number = math.inf
    elif value is None or value == "":
        return None
    elif kind is str and _NUMBER.fullmatch(value):
        number = float(value)
    else:
        msg = "a number"
        raise BadValue(msg)
    if not math.isfinite(number):
        msg = "a finite number"
        raise BadValue(msg)
    return number


# A decimal number in ASCII: float() would also take "١٢", "1_000" and "nan".
_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")


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
    if type(value) is str:
        utc = utc_seconds(value)
        if utc is not None:
            return utc
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


# Days already checked against the calendar: the calls of one export share few.
# Cleared when full.
_DAYS: set[str] = set()
_DAYS_MAX = 100_000
_UTC_SUFFIXES = {20: "Z", 25: "+00:00"}


def utc_seconds(value: str) -> str | None:
    """The fast path of :func:`to_datetime`: whole seconds in UTC, no regex.

    ``YYYY-MM-DDTHH:MM:SSZ`` (what the API sends) or ``...+00:00``, on the
    calendar, becomes ``YYYY-MM-DDTHH:MM:SS+00:00``, as the general parser
    would write it. None for any other text: the general parser decides.
    """
    suffix = _UTC_SUFFIXES.get(len(value))
    if suffix is None or value[10] != "T" or not value.endswith(suffix):
        return None
    day, clock = value[:10], value[11:19]
    if day not in _DAYS and not _remember_day(day):
        return None
    if not _plain_clock(clock):
        return None
    return value[:19] + "+00:00"


def _remember_day(day: str) -> bool:
    year, month, mday = day[:4], day[5:7], day[8:]
    digits = year + month + mday
    if day[4] != "-" or day[7] != "-" or not (digits.isascii() and digits.isdigit()):
        return False
    try:
        dt.date(int(year), int(month), int(mday))
    except ValueError:
        return False
    if len(_DAYS) >= _DAYS_MAX:
        _DAYS.clear()
    _DAYS.add(day)
    return True


def _plain_clock(clock: str) -> bool:
    hour, minute, second = clock[:2], clock[3:5], clock[6:]
    digits = hour + minute + second
    if (
        clock[2] != ":"
        or clock[5] != ":"
        or not (digits.isascii() and digits.isdigit())
    ):
        return False
    # Two ASCII digits each: text order is number order.
    return hour <= "23" and minute <= "59" and second <= "59"


# ASCII digits only: int() also reads "٩", " 5" and "5_0".
_CSV_DAY = re.compile(r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})")


class CsvTimeParser:
    """Parser of the CSV's ``MM-DD-YYYY h:mm:ss AM/PM`` times in one zone.

    Calls of one export share few days, so each day is checked against the
    calendar once and remembered: the hot path of CSV exports. Clock readings
    are not remembered: an export of 20,000 calls has some 30,000 different
    ones, and a cache of them cost more memory and time than it saved.
    """

    expected = "a time like 05-12-2024 6:15:45 PM"
    remembered = 100_000  # days at most; the cache is cleared when full

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
            (ymd, day_text), hms = self._day(day), _read_clock(clock)
        except ValueError:
            raise BadValue(self.expected) from None
        if self.zone is UTC:
            return f"{day_text}T{hms[0]:02d}:{hms[1]:02d}:{hms[2]:02d}+00:00"
        return _utc_text(dt.datetime(*ymd, *hms, tzinfo=self.zone))

    def _day(self, day: str) -> tuple[tuple[int, int, int], str]:
        known = self._days.get(day)
        if known is None:
            match = _CSV_DAY.fullmatch(day)
            if match is None:
                raise ValueError(day)
            month, mday, year = match.groups()
            date = dt.date(int(year), int(month), int(mday))  # checks the calendar
            if len(self._days) >= self.remembered:
                self._days.clear()
            known = self._days[day] = ((date.year, date.month, date.day), str(date))
        return known


def _read_clock(clock: str) -> tuple[int, int, int]:
    """Hours (0-23), minutes and seconds of ``h:mm:ss AM/PM``.

    No regex: this runs for each new reading of a long export.

    Raises:
        ValueError: not such a clock reading.
    """
    hms, _, half = clock.partition(" ")
    hour, minute, second = hms.split(":")  # not three parts: ValueError
    digits = hour + minute + second
    half = half.upper()
    if (
        not (digits.isascii() and digits.isdigit())  # isdigit alone takes "٩"
        or not (0 < len(hour) <= 2 and 0 < len(minute) <= 2 and 0 < len(second) <= 2)  # noqa: PLR2004
        or half not in {"AM", "PM"}
        or not half.isascii()
    ):
        raise ValueError(clock)
    hour_num, minute_num, second_num = int(hour), int(minute), int(second)
    if (
        not 1 <= hour_num <= 12  # noqa: PLR2004
        or minute_num > 59  # noqa: PLR2004
        or second_num > 59  # noqa: PLR2004
    ):
        raise ValueError(clock)
    return hour_num % 12 + (12 if half == "PM" else 0), minute_num, second_num


# --- lists and objects ---


def to_str_list(value: t.Any) -> list[str] | None:  # noqa: ANN401
    """List of strings from a JSON array or a ``|``-separated CSV cell.

    A ``|`` inside a CSV item cannot be told from the separator (README); JSON
    keeps such an item whole.
    """
    if type(value) is list:
        if not value:
            return None
        out = [item if type(item) is str and item else to_str(item) for item in value]
        if None in out:
            msg = "a list of non-empty strings"
            raise BadValue(msg)
        return t.cast("list[str]", out)
    if value is None or value == "":
        return None
    if type(value) is str:
        return value.split("|")
    msg = "a list of strings"
    raise BadValue(msg)


def object_list(
    value: t.Any,  # noqa: ANN401
    fields: tuple[tuple[str, Converter, type], ...],
    expected: str,
) -> list[dict[str, t.Any]] | None:
    """List of objects from a JSON array of objects, each field converted."""
    if value in (None, "", []):
        return None
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


_SENTIMENT = (
    ("speaker", to_str, str),
    ("average", to_float, float),
    ("final", to_float, float),
    ("trend", to_float, float),
)


def to_sentiments(value: t.Any) -> list[dict[str, t.Any]] | None:  # noqa: ANN401
    """Per-speaker sentiments: ``[{speaker, average, final, trend}]``."""
    return object_list(value, _SENTIMENT, "a list of speaker sentiments")


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
