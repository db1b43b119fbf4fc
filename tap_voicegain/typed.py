"""The JSON hot path: a page decoded straight into typed structures.

A page whose every call is exactly the API's model (known keys only, each value
of its column's type, no empty strings, callIds and times that read) is decoded
by msgspec into :class:`msgspec.Struct` classes built from the field table, and
turned into records with a few lines per call. Every other page goes through
:class:`~tap_voicegain.records.CallNormalizer` value by value, which keeps
unknown fields in ``_extra``, turns empty strings into null, and applies the
kept-raw policy (``misfits.py``) with its messages: :func:`records` answers
None for such a page. Both paths write the same records
(``tests/test_typed.py`` compares them).
"""

from __future__ import annotations

import functools
import typing as t

import msgspec
from msgspec.structs import asdict

from tap_voicegain.fields import (
    CALL_ID_MAX,
    EXTRA_FIELD,
    FIELDS,
    PROJECT_FIELD,
    RECORD_FIELDS,
)
from tap_voicegain.normalize import BadValue, to_datetime

if t.TYPE_CHECKING:
    from tap_voicegain.fields import Field, SubField

# An empty string is null in a record: such a page takes the per-value path.
Text = t.Annotated[str, msgspec.Meta(min_length=1)]


# The items of the list columns, as the model has them. Unknown keys (and, but
# for sentiments, missing ones) send the page to the per-value path, which reads
# the other layouts (layouts.py).
class _Marker(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    time: int
    type: Text
    note: Text | None = None


class _Word(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    phrase: Text
    freq: int


class _Dtmf(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    dtmf: Text
    timestamp: int
    channel: Text


class _Sentiment(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    speaker: Text | None = None
    average: float | None = None
    final: float | None = None
    trend: float | None = None


# Kind of the field table -> type of a value the hot path takes as it is.
_TYPES: dict[str, t.Any] = {
    "string": Text,
    "integer": int,
    "number": float,  # an integer is taken too, as a float (normalize.to_float)
    "boolean": bool,
    "datetime": Text,  # checked and written in UTC per value (utc_text)
    "strings": list[Text],
    "markers": list[_Marker],
    "words": list[_Word],
    "dtmf": list[_Dtmf],
    "sentiments": list[_Sentiment],
    "object": dict[str, t.Any],
    "objects": list[dict[str, t.Any]],
}


def _nested_struct(field: Field) -> type[msgspec.Struct]:
    subs: tuple[SubField, ...] = field.sub
    return msgspec.defstruct(
        f"_{field.name.title()}",
        [(sub.name, Text | None, None) for sub in subs],
        rename={sub.name: sub.json for sub in subs},
        forbid_unknown_fields=True,
        gc=False,
    )


@functools.cache  # built once, at the first normaliser
def _call_struct() -> type[msgspec.Struct]:
    """One call of the JSON model, fields in record order, JSON keys as renames."""
    json_fields = [field for field in FIELDS if field.json_key is not None]
    # Records are the struct's fields in order, then _extra and project.
    names = [field.name for field in json_fields]
    if [*names, EXTRA_FIELD, PROJECT_FIELD] != list(RECORD_FIELDS):
        msg = "the JSON fields must come first in fields.FIELDS, in record order"
        raise RuntimeError(msg)
    specs: list[tuple[str, t.Any, None]] = []
    for field in json_fields:
        if field.json_text:
            kind: t.Any = int | str  # numeric text in the model: read in Python
        elif field.kind == "nested":
            kind = _nested_struct(field)
        else:
            kind = _TYPES[field.kind]
        specs.append((field.name, kind | None, None))
    return msgspec.defstruct(
        "_Call",
        specs,
        rename={f.name: f.json or f.name for f in json_fields},
        forbid_unknown_fields=True,
        gc=False,
    )


def _names(*kinds: str) -> tuple[str, ...]:
    return tuple(field.name for field in FIELDS if field.kind in kinds)


_NUMERIC_TEXT = tuple(field.name for field in FIELDS if field.json_text)
_TIMES = _names("datetime")
_STRING_LISTS = _names("strings")
_ITEM_LISTS = _names("markers", "words", "dtmf", "sentiments")
_NESTED = _names("nested")


class _Unfit(Exception):  # noqa: N818 - a signal: the page takes the other path
    """A value the structures took that the record still cannot: a misfit."""


class TypedPages:
    """Decoder of whole JSON pages into records through typed structures."""

    def __init__(self) -> None:
        """Build the structures from the field table (once per stream)."""
        # A type built at run time: typing's list[...] takes it, mypy cannot.
        pages = t.cast("t.Any", list)[_call_struct()]
        self._decoder = msgspec.json.Decoder(pages)

    def records(self, body: bytes) -> list[dict[str, t.Any]] | None:
        """Records of a page, or None when it must take the per-value path.

        None for anything but a JSON array of calls that fit the model
        exactly, including bodies that are not JSON or not UTF-8: the other
        path reports those.
        """
        try:
            calls = self._decoder.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None
        try:
            return [_record(call) for call in calls]
        except _Unfit:
            return None


def _record(call: msgspec.Struct) -> dict[str, t.Any]:
    record = asdict(call)
    for name in _NUMERIC_TEXT:
        value = record[name]
        if type(value) is str:
            if not (value.isascii() and value.isdigit()):
                raise _Unfit
            record[name] = int(value)
    call_id = record["callId"]
    if call_id is None or not 0 <= call_id <= CALL_ID_MAX:
        raise _Unfit
    for name in _TIMES:
        value = record[name]
        if value is not None:
            try:
                record[name] = to_datetime(value)
            except BadValue:
                raise _Unfit from None
    _lists_and_objects(record)
    record[EXTRA_FIELD] = None
    record[PROJECT_FIELD] = None
    return record


def _lists_and_objects(record: dict[str, t.Any]) -> None:
    for name in _STRING_LISTS:
        if not record[name]:  # [] is null, as in the other path
            record[name] = None
    for name in _ITEM_LISTS:
        items = record[name]
        if items is not None:
            record[name] = [asdict(item) for item in items] or None
    for name in _NESTED:
        value = record[name]
        if value is not None:
            nested = asdict(value)
            # Sub-fields are non-empty text or null: all null is a null object.
            record[name] = nested if any(nested.values()) else None
