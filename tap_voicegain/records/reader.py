"""Pages of the call list into records: bytes in, records out, no HTTP.

JSON takes one decode path (``typed.py``); CSV headers are planned once per
page. A misfit value is kept raw in ``_extra`` (docs/design.md).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import typing as t

import msgspec

from tap_voicegain.errors import BadValue, ItemExtras
from tap_voicegain.records import layouts
from tap_voicegain.records.fields import CALL_FIELDS, CALL_ID_MAX, EXTRA_FIELD, Field
from tap_voicegain.records.misfits import RawValues
from tap_voicegain.records.typed import TypedTable, Unfit
from tap_voicegain.records.values import (
    Converter,
    CsvTimeParser,
    call_id_of,
    check_depth,
    to_bool,
    to_datetime,
    to_float,
    to_int,
    to_object,
    to_str,
    to_str_list,
    utf8_text,
    warehouse_safe,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterator

BOM = b"\xef\xbb\xbf"  # UTF-8 byte order mark
_PATH_INDEX = re.compile(r"\[[0-9]+\]")
CONVERTERS: dict[str, Converter] = {
    "string": to_str,
    "integer": to_int,
    "number": to_float,
    "boolean": to_bool,
    "datetime": to_datetime,
    "strings": to_str_list,
    "markers": layouts.to_markers,
    "words": layouts.to_word_cloud,
    "dtmf": layouts.to_dtmf_events,
    "sentiments": layouts.to_sentiments,
    "object": to_object,
}


class CallReader:
    """Reads the API's calls into records; remembers what it learned in the run."""

    def __init__(
        self,
        *,
        csv_timezone: str = "UTC",
        keep_unknown: bool = True,
        empty_nested: bool = False,
        strict_values: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        """Set up one run's reading; ``empty_nested``: for the SDK's flattening."""
        self.logger = logger or logging.getLogger("tap_voicegain")
        self.raw = RawValues(self.logger, strict=strict_values)
        self.keep_unknown = keep_unknown
        self.unknown_fields: set[str] = set()  # JSON keys / CSV columns met
        self._extra_keys: set[str] = set()  # the same, as met (with indexes)
        self.fields = fields = CALL_FIELDS
        self.table = TypedTable(fields, "call")
        self._template = dict.fromkeys(field.name for field in fields)
        self._trailing = [f.name for f in fields if f.json_key is None]
        self._json_plan = {f.json_key: f for f in fields if f.json_key is not None}
        self._csv_time = CsvTimeParser(csv_timezone)
        self._days: set[str] = set()  # days checked against the calendar
        self._warned_headers: set[str] = set()
        nested = [field for field in fields if field.kind == "nested" and empty_nested]
        self._empty_nested = {
            f.name: dict.fromkeys(s.name for s in f.sub) for f in nested
        }
        self._decoders()

    def _decoders(self) -> None:
        struct = self.table.struct
        self._one = msgspec.json.Decoder(struct)
        self._page = msgspec.json.Decoder(list[struct])  # type: ignore[valid-type]

    def page(self, body: bytes, fmt: str) -> list[dict[str, t.Any]]:
        """Records of one page, in the order sent; ValueError if not the export."""
        skipped = 3 if body[:3] == BOM else 0
        body = body[skipped:]
        if fmt == "csv":
            return list(self._csv_rows(utf8_text(body, skipped)))
        stripped = body.strip()
        if not stripped or stripped == b"null":
            return []
        return self._json_page(body, skipped)

    def _json_page(self, body: bytes, skipped: int = 0) -> list[dict[str, t.Any]]:
        if b"\\u0000" not in body:  # NUL: no warehouse takes it, read value by value
            try:
                return [self._typed(call) for call in self._page.decode(body)]
            except (msgspec.ValidationError, Unfit):
                pass  # a call does not fit the structure: call by call
            except msgspec.DecodeError:
                utf8_text(body, skipped)  # names the offset of bytes not UTF-8
        try:
            calls = msgspec.json.decode(body, type=list[msgspec.Raw])
        except msgspec.ValidationError:
            shape = type(msgspec.json.decode(body)).__name__
            msg = f"a JSON {shape} instead of an array of calls"
            raise ValueError(msg) from None
        except msgspec.DecodeError as exc:
            utf8_text(body, skipped)
            msg = f"JSON that does not parse ({exc}; {len(body)} bytes)"
            raise ValueError(msg) from None
        except RecursionError:
            msg = f"JSON nested too deep to read ({len(body)} bytes)"
            raise ValueError(msg) from None
        return [self.json_call(call) for call in calls]

    def json_call(
        self, raw: msgspec.Raw | bytes | dict[str, t.Any]
    ) -> dict[str, t.Any]:
        """The record of one call: typed if it fits, else value by value."""
        if type(raw) is not dict and b"\\u0000" not in bytes(raw):  # type: ignore[arg-type]
            try:
                return self._typed(self._one.decode(raw))  # type: ignore[arg-type]
            except (msgspec.ValidationError, Unfit):
                pass
            except msgspec.DecodeError:
                msg = f"JSON that does not parse ({len(raw)} bytes)"
                raise ValueError(msg) from None
        obj = raw if type(raw) is dict else msgspec.json.decode(raw)  # type: ignore[arg-type]
        if type(obj) is not dict:
            msg = f"a JSON {type(obj).__name__} where a call (an object) belongs"
            raise ValueError(msg)
        if self.table.learn(obj.keys() - self.table.known_keys):
            self._decoders()
            if type(raw) is not dict:
                return self.json_call(raw)  # decoded typed now, unless a value misfits
        return self._per_value(obj)

    def _typed(self, call: msgspec.Struct) -> dict[str, t.Any]:
        record, extra = self.table.record(call, self._days)
        for name in self._trailing:  # the columns the API does not send: last
            record[name] = None
        call_id = record["callId"]
        if call_id is None or not 0 <= call_id <= CALL_ID_MAX:
            raise Unfit
        return self._finish(record, extra, {})

    def _per_value(self, raw: dict[str, t.Any]) -> dict[str, t.Any]:
        call_id = call_id_of(raw.get("callId"))
        record = self._template.copy()
        extra, kept = self._read(raw, self._json_plan, record, call_id, "")
        record["callId"] = call_id
        return self._finish(record, extra, kept)

    def _read(
        self,
        obj: dict[str, t.Any],
        plan: dict[str, Field],
        record: dict[str, t.Any],
        call_id: int,
        prefix: str,
    ) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
        """Convert ``obj``'s values into ``record``; return (unknown, kept raw).

        Unknown item keys are unknown fields in a call, misfits in a row.
        """
        extra: dict[str, t.Any] = {}
        kept: dict[str, t.Any] = {}  # values that did not fit, kept raw
        for key, value in obj.items():
            field = plan.get(key)
            if field is None:
                extra[key] = warehouse_safe(value)
                continue
            try:
                record[field.name] = self._value(field, value, call_id, extra, kept)
            except BadValue as bad:
                record[field.name] = bad.partial
                if isinstance(bad, ItemExtras) and not prefix:
                    for path, item in bad.extras.items():
                        extra[f"{key}{path}"] = warehouse_safe(item)
                    continue
                self.raw.misfit(call_id, prefix + key, value, bad)
                kept[key] = warehouse_safe(value)
        return extra, kept

    def _value(
        self,
        field: Field,
        value: t.Any,  # noqa: ANN401 - any JSON value
        call_id: int,
        extra: dict[str, t.Any],
        kept: dict[str, t.Any],
    ) -> t.Any:  # noqa: ANN401
        if field.kind == "nested":
            return self._nested(field, value, call_id, extra, kept)
        if field.kind == "rows":
            return self._rows(field, value, call_id)
        return CONVERTERS[field.kind](value)

    def _nested(
        self,
        field: Field,
        value: t.Any,  # noqa: ANN401
        call_id: int,
        extra: dict[str, t.Any],
        kept: dict[str, t.Any],
    ) -> dict[str, t.Any] | None:
        if value is None:
            return None
        if type(value) is not dict:
            msg = "a JSON object"
            raise BadValue(msg)
        out: dict[str, t.Any] = {}
        for sub in field.sub:
            item = value.get(sub.json)
            try:
                out[sub.name] = to_str(item)
            except BadValue as bad:
                where = f"{field.json_key}.{sub.json}"
                self.raw.misfit(call_id, where, item, bad)
                out[sub.name] = None
                kept[where] = warehouse_safe(item)
        for key in value.keys() - {sub.json for sub in field.sub}:
            extra[f"{field.json_key}.{key}"] = warehouse_safe(value[key])
        return out if any(v is not None for v in out.values()) else None

    def _rows(self, field: Field, value: t.Any, call_id: int) -> list[t.Any] | None:  # noqa: ANN401
        if value is None or value == []:
            return None
        if type(value) is not list:
            msg = f"a list of {field.name} objects"
            raise BadValue(msg)
        plan = {t.cast("str", f.json_key): f for f in field.sub}
        rows = []
        for index, row in enumerate(value):
            record: dict[str, t.Any] = dict.fromkeys(f.name for f in field.sub)
            if type(row) is not dict:  # a row of nulls keeps it, in _extra
                where = f"{field.json_key}[{index}]"
                self.raw.misfit(call_id, where, row, BadValue("a JSON object"))
                record[EXTRA_FIELD] = {where: warehouse_safe(row)}
            else:
                extra, kept = self._read(row, plan, record, call_id, f"{field.name}.")
                record[EXTRA_FIELD] = {**extra, **kept} or None
            rows.append(record)
        return rows

    def _finish(
        self,
        record: dict[str, t.Any],
        extra: dict[str, t.Any],
        kept: dict[str, t.Any],
    ) -> dict[str, t.Any]:
        if extra:
            for value in extra.values():  # msgspec took them whole
                if type(value) is dict or type(value) is list:
                    check_depth(value)
            # Named once per run by the stream: "markers[].reason", not per item.
            if not self._extra_keys.issuperset(extra):
                self._extra_keys.update(extra)
                self.unknown_fields.update(_PATH_INDEX.sub("[]", k) for k in extra)
        if extra and self.keep_unknown:
            record[EXTRA_FIELD] = extra
        if kept:
            # Kept whatever keep_unknown_fields says: the evidence of a value
            # the column could not take.
            record[EXTRA_FIELD] = {**(record[EXTRA_FIELD] or {}), **kept}
        for parent, empty in self._empty_nested.items():
            if record[parent] is None:
                record[parent] = empty.copy()
        return record

    def _csv_rows(self, text: str) -> Iterator[dict[str, t.Any]]:
        """Records from a CSV export (header row first), else a ValueError."""
        nul = None  # Python 3.10's reader refuses NUL: read as a character not there
        if "\x00" in text:
            nul = next(chr(c) for c in range(0xE000, 0x10FFFF) if chr(c) not in text)
            text = text.replace("\x00", nul)
        rows = csv.reader(io.StringIO(text, newline=""))
        limit = csv.field_size_limit()
        # The csv module's cell limit (128 KiB) is process-wide: raised for this page.
        csv.field_size_limit(max(limit, min(len(text) + 1, 2**31 - 1)))
        try:
            header = next(rows, None)
            if not header:
                return
            plan = CsvPlan(header, self._csv_time, self.fields)
            self._warn_duplicates(plan)
            width = len(header)
            for line_no, row in enumerate(rows, start=2):
                if len(row) != width:
                    if not row:
                        continue
                    msg = f"CSV row {line_no} has {len(row)} cells, "
                    msg += f"the header has {width}"
                    raise ValueError(msg)
                kept: dict[str, t.Any] = {}
                record = self._csv_record(row, plan, kept, nul=nul)
                extra = plan.extra_cells(row) if plan.extra else {}
                if extra or kept or self._empty_nested:
                    self._finish(record, warehouse_safe(extra), kept)
                yield record
        except csv.Error as exc:  # only the reader raises it
            msg = f"CSV that does not parse at line {rows.line_num}: {exc}"
            raise ValueError(msg) from None
        finally:
            csv.field_size_limit(limit)

    def _csv_record(  # noqa: C901, PLR0912 - one loop per cell kind, flat for speed
        self,
        row: list[str],
        plan: CsvPlan,
        kept: dict[str, t.Any],
        *,
        nul: str | None,
    ) -> dict[str, t.Any]:
        call_id = call_id_of(row[plan.call_index])
        record = self._template.copy()
        if nul is not None:
            for index, text in enumerate(row):
                if nul in text:
                    cell = text.replace(nul, "\x00")
                    bad = BadValue("text without NUL characters")
                    self.raw.misfit(call_id, plan.header[index], cell, bad)
                    kept[plan.header[index]] = warehouse_safe(cell)
                    row[index] = ""
        # Grouped by kind so the common cells (text, plain digits) take no call.
        for index, field in plan.text:
            value = row[index]
            if value:
                record[field] = value
        for index, field in plan.integers:
            value = row[index]
            if value:
                if value.isdigit() and value.isascii() and len(value) < 19:  # noqa: PLR2004
                    record[field] = int(value)
                    continue
                try:
                    record[field] = to_int(value)
                except BadValue as bad:
                    self.raw.misfit(call_id, plan.header[index], value, bad)
                    kept[plan.header[index]] = value
        for index, field in plan.lists:
            value = row[index]
            if value:
                record[field] = value.split("|")  # values.to_str_list, inlined
        for index, field, conv in plan.other:
            value = row[index]
            if value:
                try:
                    record[field] = conv(value)
                except BadValue as bad:
                    self.raw.misfit(call_id, plan.header[index], value, bad)
                    record[field] = bad.partial
                    kept[plan.header[index]] = value
        for parent, cells, empty in plan.nested:
            obj = None  # all cells empty: no object
            for index, sub in cells:
                value = row[index]
                if value:
                    if obj is None:
                        obj = empty.copy()
                    obj[sub] = value
            record[parent] = obj
        return record

    def _warn_duplicates(self, plan: CsvPlan) -> None:
        """One WARNING per run for each column the header has more than once."""
        for column, names in plan.duplicates.items():
            if column not in self._warned_headers:
                self._warned_headers.add(column)
                self.logger.warning(
                    "The CSV header has the column '%s' %d times: the first feeds "
                    "the record, the others are kept in _extra as %s.",
                    column,
                    len(names) + 1,
                    ", ".join(names),
                )


class CsvPlan:
    """How each column of one CSV header becomes part of a record.

    Columns are grouped by kind so the common cells are copied by plain loops.
    """

    def __init__(
        self, header: list[str], csv_time: Converter, fields: tuple[Field, ...]
    ) -> None:
        """Plan ``header`` for records of ``fields`` (ValueError without callId)."""
        if "callId" not in header:
            shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")  # noqa: PLR2004
            msg = f"the CSV header has no callId column (columns: {shown})"
            raise ValueError(msg)
        self.header = header
        self.call_index = header.index("callId")
        kinds = {f.csv_column: f.kind for f in fields if f.csv_column is not None}
        nested_columns = {
            sub.csv: (field.name, sub.name)
            for field in fields
            if field.kind == "nested"
            for sub in field.sub
        }
        self.text: list[tuple[int, str]] = []
        self.integers: list[tuple[int, str]] = []
        self.lists: list[tuple[int, str]] = []  # a|b|c: no cell is a misfit
        self.other: list[tuple[int, str, Converter]] = []
        self.extra: list[tuple[int, str]] = []
        # A column met again: the first one feeds the record (it is where the
        # guide puts it), the others go to _extra as "name#2", "name#3", ...
        self.duplicates: dict[str, list[str]] = {}
        nested: dict[str, list[tuple[int, str]]] = {}
        groups = {"string": self.text, "integer": self.integers, "strings": self.lists}
        convert = {**CONVERTERS, "datetime": csv_time}
        seen: set[str] = set()
        for index, column in enumerate(header):
            if column in seen:
                names = self.duplicates.setdefault(column, [])
                names.append(f"{column}#{len(names) + 2}")
                self.extra.append((index, names[-1]))
                continue
            seen.add(column)
            kind = kinds.get(column)
            if kind in groups:
                groups[kind].append((index, column))
            elif kind is not None:
                self.other.append((index, column, convert[kind]))
            elif column in nested_columns:
                parent, sub = nested_columns[column]
                nested.setdefault(parent, []).append((index, sub))
            else:
                self.extra.append((index, column))
        subs = {f.name: f.sub for f in fields if f.kind == "nested"}
        # parent -> its (index, sub-field) cells, and the object of all nulls.
        self.nested = [
            (parent, cells, dict.fromkeys(sub.name for sub in subs[parent]))
            for parent, cells in nested.items()
        ]

    def extra_cells(self, row: list[str]) -> dict[str, str]:
        """The non-empty cells of the columns the field table does not know."""
        return {name: row[i] for i, name in self.extra if row[i] != ""}
