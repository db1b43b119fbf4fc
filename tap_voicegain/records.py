"""Build ``calls`` records from JSON objects or CSV rows (one shape for both).

Both readers are planned from the field table (``fields.py``): which key or
column feeds which record field, and through which converter.
"""

from __future__ import annotations

import csv
import io
import typing as t

from tap_voicegain.fields import EXTRA_FIELD, FIELDS, RECORD_FIELDS
from tap_voicegain.normalize import (
    CONVERTERS,
    FAST_TYPES,
    BadValue,
    CsvTimeParser,
    RecordError,
    to_bool,
    to_int,
    to_str,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_voicegain.normalize import Converter

# JSON key -> (record field, converter or None for agent/queue, type kept as is).
JSON_PLAN: dict[str, tuple[str, Converter | None, type | None]] = {
    field.json_key: (
        field.name,
        None if field.kind == "nested" else CONVERTERS[field.kind],
        FAST_TYPES.get(field.kind),
    )
    for field in FIELDS
    if field.json_key is not None
}

# Nested objects (agent, queue): record sub-field names, JSON sub-keys, CSV columns.
NESTED = {field.name: field.sub for field in FIELDS if field.kind == "nested"}
NESTED_JSON_PAIRS = {
    parent: tuple((sub.name, sub.json) for sub in subs)
    for parent, subs in NESTED.items()
}
NESTED_JSON_KEYS = {
    parent: frozenset(sub.json for sub in subs) for parent, subs in NESTED.items()
}
NESTED_CSV_COLUMNS = {
    sub.csv: (parent, sub.name) for parent, subs in NESTED.items() for sub in subs
}
# CSV column -> kind of its field (the nested columns are in NESTED_CSV_COLUMNS).
CSV_KINDS = {
    field.csv_column: field.kind for field in FIELDS if field.csv_column is not None
}


class CallNormalizer:
    """Converts API calls into records; remembers unknown field names it met."""

    def __init__(
        self,
        *,
        csv_timezone: str = "UTC",
        keep_unknown: bool = True,
        empty_nested: bool = False,
    ) -> None:
        """Set up one export's conversions.

        Args:
            csv_timezone: IANA zone of the CSV's zone-less times.
            keep_unknown: Keep unknown fields in ``_extra`` (else drop them).
            empty_nested: An absent agent/queue becomes an object of nulls, not
                null. For the SDK's flattening, which keeps a null object as a
                key of its own that the flattened schema does not have.
        """
        self.keep_unknown = keep_unknown
        self.unknown_fields: set[str] = set()
        self._csv_time = CsvTimeParser(csv_timezone)
        self._template = dict.fromkeys(RECORD_FIELDS)
        self._empty_nested = (
            {
                parent: dict.fromkeys(s.name for s in subs)
                for parent, subs in NESTED.items()
            }
            if empty_nested
            else {}
        )

    # --- JSON ---

    def from_json(self, raw: t.Any) -> dict[str, t.Any]:  # noqa: ANN401
        """Record from one JSON call object."""
        if type(raw) is not dict:
            msg = f"expected a JSON object for each call, got {type(raw).__name__}"
            raise ValueError(msg)
        call_id = self._call_id(raw.get("callId"))
        record = self._template.copy()
        extra: dict[str, t.Any] = {}
        plan = JSON_PLAN.get  # a local name: this loop runs for every key of every call
        for key, value in raw.items():
            spec = plan(key)
            if spec is None:
                extra[key] = value
                continue
            field, conv, kind = spec
            # Hot path: a value already of its column's type is kept as it is.
            if type(value) is kind and value != "":
                record[field] = value
                continue
            try:
                if conv is not None:
                    record[field] = conv(value)
                else:
                    record[field] = self._nested_json(call_id, key, value, extra)
            except BadValue as bad:
                raise RecordError(call_id, key, value, bad.expected) from None
        record["callId"] = call_id
        return self._finish(record, extra)

    def _nested_json(
        self,
        call_id: int,
        key: str,
        value: t.Any,  # noqa: ANN401 - any JSON value
        extra: dict[str, t.Any],
    ) -> dict[str, t.Any] | None:
        if value is None:
            return None
        if type(value) is not dict:
            msg = "a JSON object"
            raise BadValue(msg)
        out: dict[str, t.Any] = {}
        found = False
        for field, json_key in NESTED_JSON_PAIRS[key]:
            sub = value.get(json_key)
            if type(sub) is str and sub:
                out[field] = sub
                found = True
                continue
            try:
                out[field] = converted = to_str(sub)
            except BadValue as bad:
                raise RecordError(
                    call_id, f"{key}.{json_key}", sub, bad.expected
                ) from None
            found = found or converted is not None
        if len(value) > len(out) or not value.keys() <= NESTED_JSON_KEYS[key]:
            for sub_key in value.keys() - NESTED_JSON_KEYS[key]:
                extra[f"{key}.{sub_key}"] = value[sub_key]
        return out if found else None

    # --- CSV ---

    def iter_csv(self, text: str) -> Iterator[dict[str, t.Any]]:
        """Records from a CSV export (header row first).

        Raises:
            ValueError: the header has no ``callId`` column or a row is ragged.
        """
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        if not header:
            return
        plan = _CsvPlan(header, self._csv_time)
        width = len(header)
        for line_no, row in enumerate(rows, start=2):
            if len(row) != width:
                if not row:
                    continue
                msg = f"CSV row {line_no} has {len(row)} cells, the header has {width}"
                raise ValueError(msg)
            record = self._csv_record(row, plan)
            extra = {name: row[i] for i, name in plan.extra if row[i] != ""}
            yield self._finish(record, extra)

    def _csv_record(self, row: list[str], plan: _CsvPlan) -> dict[str, t.Any]:  # noqa: C901 - one loop per cell kind, kept flat for speed
        call_id = self._call_id(row[plan.call_index])
        record = self._template.copy()
        # Grouped by kind so the common cells (text, plain digits) take no call.
        for index, field in plan.text:
            value = row[index]
            if value:
                record[field] = value
        for index, field in plan.integers:
            value = row[index]
            if value:
                if value.isdigit():
                    record[field] = int(value)
                    continue
                try:
                    record[field] = to_int(value)
                except BadValue as bad:
                    name = plan.header[index]
                    raise RecordError(call_id, name, value, bad.expected) from None
        for index, field, conv in plan.other:
            value = row[index]
            if value:
                try:
                    record[field] = conv(value)
                except BadValue as bad:
                    name = plan.header[index]
                    raise RecordError(call_id, name, value, bad.expected) from None
        for parent, cells in plan.nested:
            record[parent] = _nested_cells(row, parent, cells)
        return record

    # --- shared ---

    @staticmethod
    def _call_id(value: t.Any) -> int:  # noqa: ANN401
        try:
            call_id = to_int(value)
        except BadValue:
            call_id = None
        if call_id is None or call_id < 0:
            msg = f"a call has callId {value!r}; expected a non-negative integer"
            raise ValueError(msg)
        return call_id

    def _finish(
        self, record: dict[str, t.Any], extra: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        if extra:
            self.unknown_fields.update(extra)
            if self.keep_unknown:
                record[EXTRA_FIELD] = extra
        for parent, empty in self._empty_nested.items():
            if record[parent] is None:
                record[parent] = empty.copy()
        return record


def _nested_cells(
    row: list[str], parent: str, cells: list[tuple[int, str]]
) -> dict[str, t.Any] | None:
    """``agent``/``queue`` from their dotted columns; None when all are empty."""
    obj: dict[str, t.Any] = dict.fromkeys(sub.name for sub in NESTED[parent])
    found = False
    for index, sub in cells:
        value = row[index]
        if value:
            obj[sub] = value
            found = True
    return obj if found else None


class _CsvPlan:
    """How each column of one CSV header becomes part of a record."""

    def __init__(self, header: list[str], csv_time: Converter) -> None:
        if "callId" not in header:
            shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")  # noqa: PLR2004
            msg = f"the CSV header has no callId column (columns: {shown})"
            raise ValueError(msg)
        self.header = header
        self.call_index = header.index("callId")
        self.text: list[tuple[int, str]] = []
        self.integers: list[tuple[int, str]] = []
        self.other: list[tuple[int, str, Converter]] = []
        nested: dict[str, list[tuple[int, str]]] = {}
        self.extra: list[tuple[int, str]] = []
        for index, column in enumerate(header):
            kind = CSV_KINDS.get(column)
            if kind == "string":
                self.text.append((index, column))
            elif kind == "integer":
                self.integers.append((index, column))
            elif kind == "datetime":
                self.other.append((index, column, csv_time))
            elif kind == "boolean":
                self.other.append((index, column, to_bool))
            elif kind is not None:
                self.other.append((index, column, CONVERTERS[kind]))
            elif column in NESTED_CSV_COLUMNS:
                parent, field = NESTED_CSV_COLUMNS[column]
                nested.setdefault(parent, []).append((index, field))
            else:
                self.extra.append((index, column))
        self.nested = list(nested.items())
