"""Build ``calls`` records from JSON objects or CSV rows (one shape for both)."""

from __future__ import annotations

import csv
import io
import typing as t

from tap_voicegain.normalize import (
    FAST_TYPES,
    CsvTimeParser,
    RecordError,
    _Bad,
    to_bool,
    to_datetime,
    to_dtmf_events,
    to_float,
    to_int,
    to_markers,
    to_object,
    to_object_list,
    to_sentiments,
    to_str,
    to_str_list,
    to_word_cloud,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_voicegain.normalize import Converter

EXTRA_FIELD = "_extra"

# Record field -> converter, for the fields named alike in JSON and CSV.
COMMON_FIELDS: dict[str, Converter] = {
    "accountId": to_str,
    "contextId": to_str,
    "callId": to_int,
    "startTime": to_datetime,
    "endTime": to_datetime,
    "duration": to_int,
    "direction": to_str,
    "externalEndpoint": to_str,
    "internalEndpoint": to_str,
    "recording": to_str,
    "saSessionId": to_str,
    "sentiment": to_float,
    "crAnswersId": to_str,
    "score": to_float,
    "reviewStatus": to_str,
    "reviewNotes": to_str,
    "notes": to_str,
    "tags": to_str_list,
    "keywords": to_str_list,
    "topics": to_str_list,
    "incidents": to_int,
    "wordCloud": to_word_cloud,
    "numAudioChannels": to_int,
    "numSpkChannels": to_int,
    "version": to_int,
    "aivrAppId": to_str,
    "aivrSessionId": to_str,
    "originatingCallId": to_int,
    "progressPhase": to_str,
    "aivrTransferDestType": to_str,
    "callCenterCallId": to_str,
    "language": to_str,
    "dtmfEvents": to_dtmf_events,
    "dailyRepeatCalls": to_int,
    "markers": to_markers,
}

# Fields only the JSON model has (api-notes: beyond the guide's column list).
JSON_ONLY_FIELDS: dict[str, Converter] = {
    "team": to_str,
    "abandoned": to_bool,
    "whoHungUp": to_str,
    "businessOpenState": to_str,
    "aivrPlatform": to_str,
    "aivrVars": to_object,
    "voicebotVars": to_object,
    "voicebotDuration": to_float,
    "voicemailDuration": to_float,
    "voicemailTranscript": to_str,
    "voicemailUuid": to_str,
    "modifiableNote": to_str,
    "expiryTime": to_datetime,
    "csat": to_float,
    "nps": to_float,
    "sentiments": to_sentiments,
    "ciAnswersId": to_str,
    "auditStatus": to_str,
    "copilotSent": to_float,
    "copilotUnAck": to_float,
    "inboundRtpQuality": to_object,
    "outboundRtpQuality": to_object,
    "lastRecomputeTime": to_datetime,
    "mergedAudioId": to_str,
    "numSegments": to_int,
    "queueWaitMs": to_int,
    "recomputePhase": to_str,
    "spawnedCalls": to_str_list,
    "segments": to_object_list,
}

# JSON key -> (record field, converter or None for agent/queue, type kept as is).
JSON_PLAN: dict[str, tuple[str, Converter | None, type | None]] = {
    **{key: (key, conv, FAST_TYPES.get(conv)) for key, conv in COMMON_FIELDS.items()},
    **{
        key: (key, conv, FAST_TYPES.get(conv)) for key, conv in JSON_ONLY_FIELDS.items()
    },
    "callResolved": ("isCallResolved", to_bool, bool),
    "agent": ("agent", None, None),
    "queue": ("queue", None, None),
}

# Nested objects: record sub-field -> (JSON sub-key, CSV column).
AGENT_FIELDS = {
    "id": ("agentId", "agent.id"),
    "email": ("email", "agent.email"),
    "name": ("name", "agent.name"),
    "userId": ("userId", "agent.userId"),
    "channel": ("channel", "agent.channel"),
}
QUEUE_FIELDS = {"id": ("queueId", "queue.id"), "name": ("name", "queue.name")}
NESTED = {"agent": AGENT_FIELDS, "queue": QUEUE_FIELDS}

NESTED_JSON_PAIRS = {
    parent: tuple((field, json_key) for field, (json_key, _) in fields.items())
    for parent, fields in NESTED.items()
}
NESTED_JSON_KEYS = {
    parent: frozenset(json_key for json_key, _ in fields.values())
    for parent, fields in NESTED.items()
}

RECORD_FIELDS = (
    *COMMON_FIELDS,
    "agent",
    "queue",
    "isCallResolved",
    *JSON_ONLY_FIELDS,
    EXTRA_FIELD,
)


class CallNormalizer:
    """Converts API calls into records; remembers unknown field names it met."""

    def __init__(self, *, csv_timezone: str = "UTC", keep_unknown: bool = True) -> None:
        """Set the CSV times' zone and whether unknown fields are kept in ``_extra``."""
        self.keep_unknown = keep_unknown
        self.unknown_fields: set[str] = set()
        self._csv_time = CsvTimeParser(csv_timezone)
        self._template = dict.fromkeys(RECORD_FIELDS)

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
            except _Bad as bad:
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
            raise _Bad(msg)
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
            except _Bad as bad:
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
                except _Bad as bad:
                    name = plan.header[index]
                    raise RecordError(call_id, name, value, bad.expected) from None
        for index, field, conv in plan.other:
            value = row[index]
            if value:
                try:
                    record[field] = conv(value)
                except _Bad as bad:
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
        except _Bad:
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
        return record


def _nested_cells(
    row: list[str], parent: str, cells: list[tuple[int, str]]
) -> dict[str, t.Any] | None:
    """``agent``/``queue`` from their dotted columns; None when all are empty."""
    obj: dict[str, t.Any] = dict.fromkeys(NESTED[parent])
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
        by_column = {
            csv_col: (parent, field)
            for parent, fields in NESTED.items()
            for field, (_, csv_col) in fields.items()
        }
        for index, column in enumerate(header):
            conv = COMMON_FIELDS.get(column)
            if column in {"startTime", "endTime"}:
                self.other.append((index, column, csv_time))
            elif conv is to_str:
                self.text.append((index, column))
            elif conv is to_int:
                self.integers.append((index, column))
            elif conv is not None:
                self.other.append((index, column, conv))
            elif column == "isCallResolved":
                self.other.append((index, column, to_bool))
            elif column in by_column:
                parent, field = by_column[column]
                nested.setdefault(parent, []).append((index, field))
            else:
                self.extra.append((index, column))
        self.nested = list(nested.items())
