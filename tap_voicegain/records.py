"""Build ``calls`` records from JSON objects or CSV rows (one shape for both).

Both readers are planned from the field table (``fields.py``): which key or
column feeds which record field, and through which converter. A value that
does not fit goes to :class:`~tap_voicegain.misfits.RawValues`, which stops the
run or has it kept raw in ``_extra``.
"""

from __future__ import annotations

import csv
import io
import logging
import typing as t

from tap_voicegain import layouts
from tap_voicegain.csvplan import NESTED, CsvPlan
from tap_voicegain.fields import CALL_ID_MAX, EXTRA_FIELD, FIELDS, RECORD_FIELDS
from tap_voicegain.misfits import RawValues
from tap_voicegain.normalize import (
    BadValue,
    CsvTimeParser,
    to_bool,
    to_datetime,
    to_float,
    to_int,
    to_object,
    to_object_list,
    to_sentiments,
    to_str,
    to_str_list,
)
from tap_voicegain.typed import TypedPages

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_voicegain.normalize import Converter

# Each kind of the field table: its converter, and the type a value may
# already have to be kept as it is (the hot path skips the call).
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

# Nested objects (agent, queue): record sub-field names, JSON sub-keys.
NESTED_JSON_PAIRS = {
    parent: tuple((sub.name, sub.json) for sub in subs)
    for parent, subs in NESTED.items()
}
NESTED_JSON_KEYS = {
    parent: frozenset(sub.json for sub in subs) for parent, subs in NESTED.items()
}


class CallNormalizer:
    """Converts API calls into records; remembers unknown field names it met."""

    def __init__(
        self,
        *,
        csv_timezone: str = "UTC",
        keep_unknown: bool = True,
        empty_nested: bool = False,
        strict_values: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        """Set up one export's conversions.

        Args:
            csv_timezone: IANA zone of the CSV's zone-less times.
            keep_unknown: Keep unknown fields in ``_extra`` (else drop them).
            empty_nested: An absent agent/queue becomes an object of nulls, not
                null. For the SDK's flattening, which keeps a null object as a
                key of its own that the flattened schema does not have.
            strict_values: A value that does not fit its column stops the run
                (else it is kept raw in ``_extra`` and the column is null).
            logger: Where warnings about values and CSV headers go.
        """
        self.logger = logger or logging.getLogger("tap_voicegain")
        self.raw = RawValues(self.logger, strict=strict_values)
        self._warned_headers: set[str] = set()
        self.keep_unknown = keep_unknown
        self.unknown_fields: set[str] = set()
        self._csv_time = CsvTimeParser(csv_timezone)
        self._template = dict.fromkeys(RECORD_FIELDS)
        self._typed = TypedPages()
        self._empty_nested = (
            {
                parent: dict.fromkeys(s.name for s in subs)
                for parent, subs in NESTED.items()
            }
            if empty_nested
            else {}
        )

    # --- JSON ---

    def from_json_page(self, body: bytes) -> list[dict[str, t.Any]] | None:
        """Records of a whole JSON page through the typed hot path (``typed.py``).

        None when the page needs :meth:`from_json` call by call: an unknown
        field, an empty string, a value that does not fit, or not a JSON array.
        """
        records = self._typed.records(body)
        if records is not None and self._empty_nested:
            for record in records:
                self._finish(record, {}, {})
        return records

    def from_json(self, raw: t.Any) -> dict[str, t.Any]:  # noqa: ANN401
        """Record from one JSON call object."""
        if type(raw) is not dict:
            msg = f"expected a JSON object for each call, got {type(raw).__name__}"
            raise ValueError(msg)
        call_id = self._call_id(raw.get("callId"))
        record = self._template.copy()
        extra: dict[str, t.Any] = {}
        kept: dict[str, t.Any] = {}  # values that did not fit, kept raw
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
                    record[field] = self._nested_json(call_id, key, value, extra, kept)
            except BadValue as bad:
                self.raw.misfit(call_id, key, value, bad)
                record[field] = bad.partial
                kept[key] = value
        record["callId"] = call_id
        return self._finish(record, extra, kept)

    def _nested_json(
        self,
        call_id: int,
        key: str,
        value: t.Any,  # noqa: ANN401 - any JSON value
        extra: dict[str, t.Any],
        kept: dict[str, t.Any],
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
                self.raw.misfit(call_id, f"{key}.{json_key}", sub, bad)
                out[field] = converted = None
                kept[f"{key}.{json_key}"] = sub
            found = found or converted is not None
        if len(value) > len(out) or not value.keys() <= NESTED_JSON_KEYS[key]:
            for sub_key in value.keys() - NESTED_JSON_KEYS[key]:
                extra[f"{key}.{sub_key}"] = value[sub_key]
        return out if found else None

    # --- CSV ---

    def iter_csv(self, text: str) -> Iterator[dict[str, t.Any]]:
        """Records from a CSV export (header row first).

        Raises:
            ValueError: the header has no ``callId`` column, a row is ragged,
                or the text is not CSV.
        """
        _allow_cells_up_to(len(text))
        rows = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(rows, None)
            if not header:
                return
            plan = CsvPlan(header, self._csv_time, CONVERTERS)
            self._warn_duplicates(plan)
            width = len(header)
            for line_no, row in enumerate(rows, start=2):
                if len(row) != width:
                    if not row:
                        continue
                    msg = (
                        f"CSV row {line_no} has {len(row)} cells, the header has "
                        f"{width}"
                    )
                    raise ValueError(msg)
                kept: dict[str, t.Any] = {}
                record = self._csv_record(row, plan, kept)
                extra = plan.extra_cells(row) if plan.extra else {}
                if extra or kept or self._empty_nested:
                    self._finish(record, extra, kept)
                yield record
        except csv.Error as exc:  # only the reader raises it
            msg = f"CSV that does not parse at line {rows.line_num}: {exc}"
            raise ValueError(msg) from None

    def _csv_record(  # noqa: C901, PLR0912 - one loop per cell kind, flat for speed
        self, row: list[str], plan: CsvPlan, kept: dict[str, t.Any]
    ) -> dict[str, t.Any]:
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
                if value.isdigit() and value.isascii():  # isdigit alone takes "٩"
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
                record[field] = value.split("|")  # normalize.to_str_list, inlined
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

    # --- shared ---

    @staticmethod
    def _call_id(value: t.Any) -> int:  # noqa: ANN401
        """The call's key; never lenient: there is no call without one.

        Raises:
            ValueError: not an integer in 0..2**63-1.
        """
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

    def _finish(
        self,
        record: dict[str, t.Any],
        extra: dict[str, t.Any],
        kept: dict[str, t.Any],
    ) -> dict[str, t.Any]:
        if extra:
            self.unknown_fields.update(extra)
            if self.keep_unknown:
                record[EXTRA_FIELD] = extra
        if kept:
            # Kept whatever keep_unknown_fields says: the evidence of a value
            # the column could not take.
            record[EXTRA_FIELD] = {**(record[EXTRA_FIELD] or {}), **kept}
        for parent, empty in self._empty_nested.items():
            if record[parent] is None:
                record[parent] = empty.copy()
        return record


def _allow_cells_up_to(size: int) -> None:
    """Let the csv module read a cell as large as the page (default: 128 KiB).

    The limit is the module's, process-wide; it is only ever raised. A C long
    bounds it (32 bits on Windows).
    """
    wanted = min(size + 1, 2**31 - 1)
    if csv.field_size_limit() < wanted:
        csv.field_size_limit(wanted)
