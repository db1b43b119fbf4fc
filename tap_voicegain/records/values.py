"""Converters of single values into the record's types; misfits raise BadValue.

Digits are ASCII only, integers fit in 64 bits, text holds no NUL: values no
warehouse column takes are misfits (docs/design.md).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import typing as t
from zoneinfo import ZoneInfo

import msgspec

from tap_voicegain.errors import BadValue
from tap_voicegain.records.fields import CALL_ID_MAX
from tap_voicegain.settings import parse_datetime

Converter = t.Callable[[t.Any], t.Any]
UTC = dt.timezone.utc
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
SHOWN_CHARS = 60  # of a value's shape in a message: log lines stay readable


def describe(value: t.Any) -> str:  # noqa: ANN401
    """A value's shape for a log line, never its content: "274s" is ``'999a'``.

    Other ASCII is kept, other characters shown as ``<U+XXXX>``; long values cut.
    """
    kind = type(value)
    if kind is bool:
        return "a JSON boolean"
    if kind is int or kind is float:
        return "a JSON number"
    if value is None:
        return "null"
    try:
        text = value if kind is str else msgspec.json.encode(value).decode()
    except (TypeError, ValueError, RecursionError):
        text = "..."
    shape = "".join(_masked(char) for char in text[:SHOWN_CHARS])
    if len(text) > SHOWN_CHARS:
        return f"{shape!r}... ({len(text)} characters)"
    if kind is not str:
        return f"a JSON {'object' if kind is dict else 'array'} {shape!r}"
    return repr(shape)


def _masked(char: str) -> str:
    if char.isascii() and char.isdigit():
        return "9"
    if char.isalpha():
        return "A" if char.isupper() else "a"
    return char if char.isascii() and char.isprintable() else f"<U+{ord(char):04X}>"


# Deeper JSON is refused the same on every Python: msgspec's own limit follows
# the interpreter's (about 1,000 levels on 3.10 and 3.11, more on 3.12 and 3.13).
MAX_JSON_DEPTH = 500


def too_deep() -> ValueError:
    """The error of a value nested deeper than :data:`MAX_JSON_DEPTH`."""
    return ValueError(f"a JSON value nested deeper than {MAX_JSON_DEPTH} levels")


def check_depth(value: t.Any) -> None:  # noqa: ANN401
    """Raise :func:`too_deep` for a value nested deeper than the bound."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if type(item) is dict:
            item = item.values()
        elif type(item) is not list:
            continue
        if depth >= MAX_JSON_DEPTH:
            raise too_deep()
        stack.extend((child, depth + 1) for child in item)


def warehouse_safe(value: t.Any, depth: int = 0) -> t.Any:  # noqa: ANN401
    r"""``value`` with NUL written as ``\u0000`` (PostgreSQL refuses NUL)."""
    kind = type(value)
    if kind is str:
        return value.replace("\x00", "\\u0000")
    if kind is not list and kind is not dict:
        return value
    if depth >= MAX_JSON_DEPTH:
        raise too_deep()
    if kind is list:
        return [warehouse_safe(item, depth + 1) for item in value]
    return {warehouse_safe(k): warehouse_safe(v, depth + 1) for k, v in value.items()}


def utf8_text(body: bytes, skipped: int = 0) -> str:
    """The body as text, else a ValueError naming the first byte not UTF-8.

    ``skipped``: bytes before ``body`` in the answer (a byte order mark).
    """
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = (
            f"bytes that are not UTF-8 at byte offset {exc.start + skipped} of "
            f"{len(body) + skipped}"
        )
        raise ValueError(msg) from None


def call_id_of(value: t.Any) -> int:  # noqa: ANN401
    """A call's key, else a ValueError: there is no call without one."""
    try:
        call_id = to_int(value)
    except BadValue:
        call_id = None
    if call_id is None or not 0 <= call_id <= CALL_ID_MAX:
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."  # noqa: PLR2004
        msg = f"a call has callId {shown}; expected an integer in 0..{CALL_ID_MAX}"
        raise ValueError(msg)
    return call_id


def to_int(value: t.Any) -> int | None:  # noqa: ANN401
    """Integer in 64 bits from an int, an integral float or a decimal string."""
    kind = type(value)
    number: int | None = None
    if kind is int:
        number = t.cast("int", value)
    elif value is None or value == "":
        return None
    elif kind is str:
        text = value.strip()
        digits = text[1:] if text[:1] == "-" else text
        # ASCII only: str.isdigit() also accepts "²" (int() refuses it) and "٩".
        if digits.isascii() and digits.isdigit():
            number = int(text)
    elif kind is float and value.is_integer():
        number = int(value)
    if number is None or not INT64_MIN <= number <= INT64_MAX:
        msg = "an integer" if number is None else "an integer in 64 bits"
        raise BadValue(msg)
    return number


# A decimal number in ASCII: float() would also take "١٢", "1_000" and "nan".
_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")


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


def to_str(value: t.Any) -> str | None:  # noqa: ANN401
    """Text exactly as sent; an empty string is null; ints become their digits."""
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            msg = "text without NUL characters"
            raise BadValue(msg)
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
        if lowered in {"true", "false"}:
            return lowered == "true"
    msg = "true or false"
    raise BadValue(msg)


def to_datetime(value: t.Any) -> str | None:  # noqa: ANN401
    """RFC 3339 UTC text from an RFC 3339 value (zone-less is taken as UTC)."""
    if type(value) is str and (utc := utc_seconds(value)) is not None:
        return utc
    if value is None or value == "":
        return None
    try:  # not text: a TypeError
        return parse_datetime(value).astimezone(UTC).isoformat()
    except (TypeError, ValueError):
        msg = "an RFC 3339 date-time"
        raise BadValue(msg) from None


# Whole seconds in UTC, as the API sends them: one regex, then the day once.
_UTC_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:Z|\+00:00)"
)


def utc_seconds(value: str, days: set[str] | None = None) -> str | None:
    """The fast path of :func:`to_datetime`: whole seconds in UTC.

    ``...Z`` or ``...+00:00`` on the calendar becomes ``...+00:00``; None for any
    other text. ``days``: days already checked against the calendar.
    """
    if _UTC_TEXT.fullmatch(value) is None:
        return None
    day = value[:10]
    if days is None or day not in days:
        if not _on_calendar(day):
            return None
        if days is not None:
            days.add(day)
    return value[:19] + "+00:00"


def _on_calendar(day: str) -> bool:
    year, month, mday = day[:4], day[5:7], day[8:]
    digits = year + month + mday
    if day[4] != "-" or day[7] != "-" or not (digits.isascii() and digits.isdigit()):
        return False
    try:
        dt.date(int(year), int(month), int(mday))
    except ValueError:
        return False
    return True


# ASCII digits only: int() also reads "٩", " 5" and "5_0".
_CSV_DAY = re.compile(r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})")


class CsvTimeParser:
    """Parser of the CSV's ``MM-DD-YYYY h:mm:ss AM/PM`` times in one zone.

    Each day is checked against the calendar once, for this parser's life.
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
        return dt.datetime(*ymd, *hms, tzinfo=self.zone).astimezone(UTC).isoformat()

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
    """Hours (0-23), minutes and seconds of ``h:mm:ss AM/PM``, else ValueError."""
    hms, _, half = clock.partition(" ")
    hour, minute, second = hms.split(":")  # not three parts: ValueError
    digits = hour + minute + second
    half = half.upper()
    if (
        not (digits.isascii() and digits.isdigit())  # isdigit alone takes "٩"
        or not (0 < len(hour) <= 2 and 0 < len(minute) <= 2 and 0 < len(second) <= 2)  # noqa: PLR2004
        or half not in {"AM", "PM"}
    ):
        raise ValueError(clock)
    hour_num, minute_num, second_num = int(hour), int(minute), int(second)
    if not 1 <= hour_num <= 12 or minute_num > 59 or second_num > 59:  # noqa: PLR2004
        raise ValueError(clock)
    return hour_num % 12 + (12 if half == "PM" else 0), minute_num, second_num


def to_str_list(value: t.Any) -> list[str] | None:  # noqa: ANN401
    """List of strings from a JSON array or a ``|``-separated CSV cell."""
    if type(value) is list:
        if not value:
            return None
        out = [to_str(item) for item in value]
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


def to_object(value: t.Any) -> dict[str, t.Any] | None:  # noqa: ANN401
    """A JSON object kept as it is."""
    if value is None:
        return None
    if type(value) is not dict:
        msg = "a JSON object"
        raise BadValue(msg)
    return t.cast("dict[str, t.Any]", value)
