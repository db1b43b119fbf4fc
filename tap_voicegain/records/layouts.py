"""Lists of objects held in one value: markers, word cloud, DTMF events.

Only ``markers`` are documented; the other layouts are read leniently (README
"CSV conventions", docs/design.md). A value that still does not fit raises
:class:`UnknownLayout`, which never stops a run.
"""

from __future__ import annotations

import typing as t

from tap_voicegain.errors import BadValue, ItemExtras, UnknownLayout
from tap_voicegain.records.values import Converter, to_float, to_int, to_str

Items = list[dict[str, t.Any]]

MARKERS_EXPECTED = "markers like time,type,note|..."
WORDS_EXPECTED = "words like phrase,freq|... or phrase|..."
DTMF_EXPECTED = "DTMF events like dtmf,timestamp,channel|..."


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _empty(value: t.Any) -> bool:  # noqa: ANN401
    # Not `not value`: a 0 or false sent for a list is kept raw, not dropped.
    return value in (None, "", [])


def object_list(
    value: t.Any,  # noqa: ANN401
    fields: tuple[tuple[str, Converter], ...],
    expected: str,
) -> Items | None:
    """List of objects from a JSON array of objects, each field converted.

    Unknown item keys go to ``_extra`` by their path (``ItemExtras``).
    """
    if _empty(value):
        return None
    if type(value) is not list:
        raise BadValue(expected)
    out = []
    known = {name for name, _ in fields}
    extras: dict[str, object] = {}
    for index, item in enumerate(value):
        if type(item) is not dict:
            raise BadValue(expected)
        out.append({name: conv(item.get(name)) for name, conv in fields})
        for key in item.keys() - known:
            extras[f"[{index}].{key}"] = item[key]
    if extras:
        raise ItemExtras(out, extras)
    return out


SENTIMENT = (
    ("speaker", to_str),
    ("average", to_float),
    ("final", to_float),
    ("trend", to_float),
)


def to_sentiments(value: t.Any) -> Items | None:  # noqa: ANN401
    """Per-speaker sentiments: ``[{speaker, average, final, trend}]``."""
    return object_list(value, SENTIMENT, "a list of speaker sentiments")


def _note(value: t.Any) -> str | None:  # noqa: ANN401
    return None if value == "null" else to_str(value)


_MARKER = (("time", to_int), ("type", to_str), ("note", _note))


def to_markers(value: t.Any) -> Items | None:  # noqa: ANN401
    """Markers: ``[{time, type, note}]`` from JSON or a CSV cell."""
    if type(value) is str and value:
        try:
            return markers_cell(value)
        except ValueError:
            raise BadValue(MARKERS_EXPECTED) from None
    return object_list(value, _MARKER, MARKERS_EXPECTED)


def markers_cell(value: str) -> Items:
    """CSV markers (else ValueError); a chunk not ``digits,`` continues a note."""
    parts: list[list[str]] = []
    for chunk in value.split("|"):
        head, comma, _ = chunk.partition(",")
        if not (comma and head.isdigit() and head.isascii()):  # _digits, inlined
            if not parts:
                raise ValueError(chunk)
            parts[-1][2] += "|" + chunk
            continue
        time, kind, note = chunk.split(",", 2)
        parts.append([time, kind, note])
    return [
        {
            "time": int(time),
            "type": kind or None,
            "note": None if note in {"null", ""} else note,
        }
        for time, kind, note in parts
    ]


_PHRASE_KEYS = ("phrase", "word", "text", "term")
_FREQ_KEYS = ("freq", "count", "frequency")


def to_word_cloud(value: t.Any) -> Items | None:  # noqa: ANN401
    """Word cloud: ``[{phrase, freq}]``; freq is null where none was sent."""
    if _empty(value):
        return None
    if type(value) is list:
        return _word_items(value)
    if type(value) is str:
        return words_cell(value)
    raise UnknownLayout(WORDS_EXPECTED)


def words_cell(value: str) -> Items:
    """Words of a CSV cell: ``phrase,freq`` (the last comma's) or a bare ``phrase``."""
    out = []
    for chunk in value.split("|"):
        phrase, comma, freq = chunk.rpartition(",")
        if comma and freq.isdigit() and freq.isascii():  # _digits, inlined
            out.append({"phrase": phrase or None, "freq": int(freq)})
        elif comma and _digits(freq.strip()):
            out.append({"phrase": phrase or None, "freq": int(freq.strip())})
        elif chunk.strip():
            out.append({"phrase": chunk, "freq": None})
        else:
            raise UnknownLayout(WORDS_EXPECTED)
    return out


def _word_items(items: list[t.Any]) -> Items:
    out: Items = []
    lost = False  # a key not mapped: the raw value is kept as well
    for item in items:
        if type(item) is str and item:
            out.append({"phrase": item, "freq": None})
            continue
        if type(item) is list and 1 <= len(item) <= 2:  # noqa: PLR2004 - [phrase, freq]
            out.append(_word(item[0], item[1] if len(item) > 1 else None))
            continue
        if type(item) is not dict:
            raise UnknownLayout(WORDS_EXPECTED)
        phrase_key = next((key for key in _PHRASE_KEYS if key in item), None)
        freq_key = next((key for key in _FREQ_KEYS if key in item), None)
        if phrase_key is None:
            raise UnknownLayout(WORDS_EXPECTED)
        out.append(_word(item[phrase_key], item.get(freq_key) if freq_key else None))
        lost = lost or len(item) > (2 if freq_key else 1)
    if lost:
        raise UnknownLayout(WORDS_EXPECTED, partial=out or None)
    return out


def _word(phrase: t.Any, freq: t.Any) -> dict[str, t.Any]:  # noqa: ANN401
    try:
        return {"phrase": to_str(phrase), "freq": to_int(freq)}
    except BadValue:
        raise UnknownLayout(WORDS_EXPECTED) from None


# DTMF keys: 0-9, *, #, and A-D (the fourth column of a DTMF keypad).
DTMF_KEYS = frozenset("0123456789*#ABCD")

# Orders tried for the parts of one event, first fit wins: the model's, then the
# time first (as markers), then the rest. Only the model's takes empty parts.
_ORDERS: dict[int, tuple[tuple[str, ...], ...]] = {
    1: (("dtmf",),),
    2: (
        ("dtmf", "timestamp"),
        ("timestamp", "dtmf"),
        ("dtmf", "channel"),
        ("channel", "dtmf"),
    ),
    3: (
        ("dtmf", "timestamp", "channel"),
        ("timestamp", "dtmf", "channel"),
        ("dtmf", "channel", "timestamp"),
        ("timestamp", "channel", "dtmf"),
        ("channel", "dtmf", "timestamp"),
        ("channel", "timestamp", "dtmf"),
    ),
}


def is_dtmf_key(text: str) -> bool:
    """One DTMF key, or several that are not all digits ("*72"; "1000" is a time)."""
    if not text or not all(char in DTMF_KEYS for char in text):
        return False
    return len(text) == 1 or not text.isdigit()


def dtmf_item(text: str) -> dict[str, t.Any]:
    """One DTMF event from ``dtmf,timestamp,channel`` in any order, told by content.

    Where two orders fit ("5,3"), the first of ``_ORDERS`` (the model's) wins.
    """
    parts = [part.strip() for part in text.split(",")]
    for number, order in enumerate(_ORDERS.get(len(parts), ())):
        event: dict[str, t.Any] = {"dtmf": None, "timestamp": None, "channel": None}
        for role, part in zip(order, parts, strict=True):
            if role == "dtmf":
                fits = is_dtmf_key(part)
            elif role == "timestamp":
                fits = _digits(part) or (part == "" and number == 0)
            else:
                fits = part != "" or number == 0
            if not fits:
                break
            if part:
                event[role] = int(part) if role == "timestamp" else part
        else:
            return event
    raise UnknownLayout(DTMF_EXPECTED)


def to_dtmf_events(value: t.Any) -> Items | None:  # noqa: ANN401
    """DTMF events: ``[{dtmf, timestamp, channel}]`` from JSON or a CSV cell."""
    if _empty(value):
        return None
    if type(value) is list:
        return _dtmf_items(value)
    if type(value) is str:
        return [dtmf_item(chunk) for chunk in value.split("|")]
    raise UnknownLayout(DTMF_EXPECTED)


def _dtmf_items(value: list[t.Any]) -> Items | None:
    out: Items = []
    lost = False
    for item in value:
        if type(item) is str:
            out.append(dtmf_item(item))
            continue
        if type(item) is not dict:
            raise UnknownLayout(DTMF_EXPECTED)
        keys = [_first(item, names) for names in _DTMF_KEYS]
        if keys == [None, None, None]:
            raise UnknownLayout(DTMF_EXPECTED)
        dtmf, timestamp, channel = (item.get(key) if key else None for key in keys)
        try:
            out.append(
                {
                    "dtmf": to_str(dtmf),
                    "timestamp": to_int(timestamp),
                    "channel": to_str(channel),
                }
            )
        except BadValue:
            raise UnknownLayout(DTMF_EXPECTED) from None
        lost = lost or len(item) > sum(key is not None for key in keys)
    if lost:
        raise UnknownLayout(DTMF_EXPECTED, partial=out or None)
    return out or None


_DTMF_KEYS = (("dtmf", "digit", "key"), ("timestamp", "time"), ("channel",))


def _first(item: dict[str, t.Any], names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in item), None)
