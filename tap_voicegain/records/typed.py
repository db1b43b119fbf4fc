"""Typed structures built from a field table: the one decode path for JSON.

Fields the table does not know are learned on the way and decoded on the same
path into ``_extra`` (docs/design.md); only a misfit goes value by value.
"""

from __future__ import annotations

import typing as t

import msgspec
from msgspec import to_builtins
from msgspec.structs import asdict

from tap_voicegain.errors import BadValue
from tap_voicegain.records.values import INT64_MAX, INT64_MIN, to_datetime, utc_seconds

if t.TYPE_CHECKING:
    from tap_voicegain.records.fields import Field

# An empty string is null in a record: such an object takes the per-value path.
Text = t.Annotated[str, msgspec.Meta(min_length=1)]
Int64 = t.Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
LEARNED_MAX = 200  # fields learned per table; beyond, objects go value by value


# The list columns' items as the model has them; other shapes go value by value.
class _Marker(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    time: Int64
    type: Text
    note: Text | None = None


class _Word(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    phrase: Text
    freq: Int64


class _Dtmf(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    dtmf: Text
    timestamp: Int64
    channel: Text


class _Sentiment(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    speaker: Text | None = None
    average: float | None = None
    final: float | None = None
    trend: float | None = None


# Kind of the field table -> the type a value is taken as it is.
_TYPES: dict[str, t.Any] = {
    "string": Text,
    "integer": Int64,
    "number": float,  # an integer is taken too, as a float (values.to_float)
    "boolean": bool,
    "datetime": Text,  # checked and written in UTC per value
    "strings": list[Text],
    "markers": list[_Marker],
    "words": list[_Word],
    "dtmf": list[_Dtmf],
    "sentiments": list[_Sentiment],
    "object": dict[str, t.Any],
}
_ITEMS = frozenset({"markers", "words", "dtmf", "sentiments"})


class Unfit(Exception):  # noqa: N818 - a signal: the object takes the other path
    """A value the structures took that the record still cannot: a misfit."""


class TypedTable:
    """The structure of one field table, and what it has learned in this run."""

    def __init__(self, fields: tuple[Field, ...], name: str) -> None:
        """Build the structure of ``fields`` (those the API's JSON carries)."""
        self.fields = tuple(field for field in fields if field.json_key is not None)
        self.name = name
        self.known_keys = frozenset(t.cast("str", f.json_key) for f in self.fields)
        self.learned: dict[str, str] = {}  # JSON key -> struct field name
        self.rows: dict[str, TypedTable] = {
            field.name: TypedTable(t.cast("tuple[Field, ...]", field.sub), field.name)
            for field in self.fields
            if field.kind == "rows"
        }
        self._numeric_text = [f.name for f in self.fields if f.json_text]
        self._times = [f.name for f in self.fields if f.kind == "datetime"]
        self._string_lists = [f.name for f in self.fields if f.kind == "strings"]
        self._item_lists = [f.name for f in self.fields if f.kind in _ITEMS]
        self._nested = [f.name for f in self.fields if f.kind == "nested"]
        self._build()

    def learn(self, keys: t.Iterable[str]) -> bool:
        """Add unknown JSON ``keys`` to the structure; False if none could be."""
        new = [k for k in keys if k not in self.known_keys and k not in self.learned]
        room = LEARNED_MAX - len(self.learned)
        if not new or room <= 0:
            return False
        for key in new[:room]:
            self.learned[key] = f"_x{len(self.learned)}"
        self._build()
        return True

    def _build(self) -> None:
        specs: list[tuple[str, t.Any, t.Any]] = []
        for field in self.fields:
            if field.json_text:
                kind: t.Any = Int64 | str  # numeric text in the model: read here
            elif field.kind == "nested":
                kind = msgspec.defstruct(
                    f"_{field.name}",
                    [(sub.name, Text | None, None) for sub in field.sub],
                    rename={sub.name: sub.json for sub in field.sub},
                    forbid_unknown_fields=True,
                    gc=False,
                )
            elif field.kind == "rows":
                kind = list[self.rows[field.name].struct]  # type: ignore[misc]
            else:
                kind = _TYPES[field.kind]
            specs.append((field.name, kind | None, None))
        specs.extend((name, t.Any, msgspec.UNSET) for name in self.learned.values())
        rename = {f.name: t.cast("str", f.json_key) for f in self.fields}
        rename.update({name: key for key, name in self.learned.items()})
        self.struct: type[msgspec.Struct] = msgspec.defstruct(
            f"_{self.name}",
            specs,
            rename=rename,
            forbid_unknown_fields=True,
            gc=False,
        )

    def record(  # noqa: C901, PLR0912 - one loop per kind, flat for speed
        self, obj: msgspec.Struct, days: set[str]
    ) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
        """The record of a decoded object and the learned fields it carried; Unfit."""
        record = asdict(obj)
        extra: dict[str, t.Any] = {}
        for key, name in self.learned.items():
            value = record.pop(name)
            if value is not msgspec.UNSET:
                extra[key] = value
        for name in self._numeric_text:
            value = record[name]
            if type(value) is str:
                if not (value.isascii() and value.isdigit()):
                    raise Unfit
                record[name] = int(value)
        for name in self._times:
            value = record[name]
            if value is not None:
                utc = utc_seconds(value, days)
                if utc is None:
                    try:
                        utc = to_datetime(value)
                    except BadValue:
                        raise Unfit from None
                record[name] = utc
        for name in self._string_lists:
            if not record[name]:  # [] is null, as on the other path
                record[name] = None
        for name in self._item_lists:
            items = record[name]
            if items is not None:
                # One C call for the whole list (item structs have no renames).
                record[name] = to_builtins(items) or None
        for name in self._nested:
            value = record[name]
            if value is not None:
                nested = asdict(value)
                # Sub-fields are non-empty text or null: all null is a null object.
                record[name] = nested if any(nested.values()) else None
        for name, table in self.rows.items():
            rows = record[name]
            if rows is not None:
                record[name] = [table.row(row, days) for row in rows] or None
        return record, extra

    def row(self, obj: msgspec.Struct, days: set[str]) -> dict[str, t.Any]:
        """A nested row (a segment) with its own ``_extra``."""
        record, extra = self.record(obj, days)
        record["_extra"] = extra or None
        return record
