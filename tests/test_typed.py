"""The typed JSON decode writes exactly what the per-value route writes.

Every page is decoded into typed structures (``records/typed.py``), fields the
table does not know learned on the way; only a call holding a value that does
not fit its column is read value by value, that call alone. These tests hold
both routes to the same records, byte for byte, and check that the hand-over
happens where it must, and only there.
"""

from __future__ import annotations

import copy
import json
import logging
import typing as t
from pathlib import Path

import msgspec
import pytest

from tap_voicegain.records.fields import CALL_FIELDS as FIELDS
from tap_voicegain.records.reader import CallReader
from tap_voicegain.records.typed import Unfit
from tests.singer_output import run_tap
from voicegain_sim import VoicegainSimulator

GOLDEN = Path(__file__).parent / "golden"


def golden_calls() -> list[dict[str, t.Any]]:
    return json.loads((GOLDEN / "calls.json").read_text(encoding="utf-8"))


def body_of(calls: list[t.Any]) -> bytes:
    return msgspec.json.encode(calls)


class Counting(CallReader):
    """A reader that counts the calls it reads value by value."""

    per_value = 0

    def _per_value(self, raw: dict[str, t.Any]) -> dict[str, t.Any]:
        self.per_value += 1
        return super()._per_value(raw)


class PerValueOnly(CallReader):
    """A reader that reads every call value by value: the reference."""

    def _typed(self, call: msgspec.Struct) -> dict[str, t.Any]:
        raise Unfit


def per_value_calls(body: bytes) -> int:
    """How many calls of a page are read value by value."""
    reader = Counting()
    reader.page(body, "json")
    return reader.per_value


def outcome(
    body: bytes, *, typed_path: bool, **options: t.Any
) -> tuple[str, t.Any, t.Any]:
    """Records as JSON text (key order, 1 vs 1.0), or the error; what was counted."""
    kind = CallReader if typed_path else PerValueOnly
    reader = kind(logger=logging.getLogger("test_typed"), **options)
    try:
        records = reader.page(body, "json")
    except ValueError as exc:
        return "error", str(exc), None
    counts = (sorted(reader.unknown_fields), reader.raw.take_counts())
    return "records", json.dumps(records, ensure_ascii=False), counts


# The normaliser's settings that change records: defaults, strict, flattening.
OPTIONS = [{}, {"strict_values": True}, {"keep_unknown": False, "empty_nested": True}]


def test_golden_pages_take_the_typed_path():
    assert per_value_calls(body_of(golden_calls())) == 0


@pytest.mark.parametrize(
    "options",
    [{}, {"strict_values": True}, {"keep_unknown": False, "empty_nested": True}],
)
def test_golden_records_are_the_same_on_both_paths(options):
    body = body_of(golden_calls())
    fast = outcome(body, typed_path=True, **options)
    assert fast[0] == "records"
    assert fast == outcome(body, typed_path=False, **options)


def test_callid_as_number_or_text_takes_the_typed_path():
    calls = golden_calls()[:4]
    calls[0]["callId"] = int(calls[0]["callId"])
    calls[1]["originatingCallId"] = 9999
    calls[2]["originatingCallId"] = "9998"
    assert per_value_calls(body_of(calls)) == 0
    records = CallReader().page(body_of(calls), "json")
    assert [r["callId"] for r in records] == [int(c["callId"]) for c in calls]
    assert records[1]["originatingCallId"] == 9999
    assert records[2]["originatingCallId"] == 9998


# Values of every kind, the awkward ones above all: each is put in each field.
ODD_VALUES: list[t.Any] = [
    "",
    " ",
    "x",
    "12",
    " 12",
    "-3",
    "\u0663",  # ARABIC-INDIC DIGIT THREE
    "null",
    0,
    -1,
    7,
    2**63,
    10**400,
    1.5,
    2.0,
    -0.0,
    True,
    False,
    None,
    [],
    [""],
    ["a", "b|c"],
    ["a", 1],
    [None],
    {},
    {"k": 1},
    {"agentId": "", "name": "n"},
    "2024-02-29T23:59:59Z",
    "2023-02-29T10:00:00Z",
    "2024-05-12T24:00:00Z",
    "2024-05-12T14:00:60Z",
    "2024-05-12t14:00:00z",
    "2024-05-12 14:00:00",
    "2024-05-12T14:00:00+00:00",
    "2024-05-12T14:00:00.123456789+02:00",
    "\u0662024-05-12T14:00:00Z",
    "a|b",
]

# Values of the list and nested columns, in and out of the model's layout.
LAYOUTS: dict[str, list[t.Any]] = {
    "markers": [
        [{"time": 5, "type": "HOLD", "note": "n"}],
        [{"time": 5, "type": "HOLD"}],
        [{"time": 5, "type": "HOLD", "note": None}],
        [{"time": 5, "type": "HOLD", "note": ""}],
        [{"time": "5", "type": "HOLD", "note": "n"}],
        [{"time": 5, "type": "", "note": "n"}],
        [{"time": 5, "type": "HOLD", "note": "n", "by": "x"}],
        [{"type": "HOLD"}],
        ["5,HOLD,n"],
        "5,HOLD,null|7,X,a|b",
    ],
    "wordCloud": [
        [{"phrase": "a", "freq": 2}],
        [{"phrase": "a", "freq": 2, "x": 1}],
        [{"phrase": "a"}],
        [{"word": "a", "count": 2}],
        [{"phrase": "", "freq": 2}],
        [{"phrase": "a", "freq": 2.0}],
        ["a", ["b", 3]],
        "a,2|b",
    ],
    "dtmfEvents": [
        [{"dtmf": "5", "timestamp": 10, "channel": "left"}],
        [{"dtmf": "5", "timestamp": 10}],
        [{"dtmf": "5", "timestamp": 10, "channel": "left", "x": 1}],
        [{"digit": "5", "time": 10, "channel": "left"}],
        [{"dtmf": "5", "timestamp": "10", "channel": "left"}],
        ["5,10,left"],
        "5,10,left|#,11",
    ],
    "sentiments": [
        [{"speaker": "caller", "average": 1, "final": -0.5, "trend": 0.0}],
        [{"speaker": "caller"}],
        [{"speaker": "", "average": 0.1}],
        [{"speaker": 3, "average": "0.1"}],
        [{"speaker": "caller", "average": 0.1, "extra": 1}],
        [{"speaker": "caller", "average": True}],
        [{"speaker": "caller", "average": 10**400}],
        ["caller"],
    ],
    "agent": [
        {"agentId": "007", "name": "A"},
        {"agentId": 7},
        {"agentId": "", "email": ""},
        {"agentId": "7", "team": "x"},
        {"id": "7"},
        {"agentId": None},
        [],
        "007",
    ],
    "queue": [{"queueId": "q"}, {"queueId": "q", "name": ""}, {"queueId": 5}],
    "segments": [[{"a": 1}], [1], [[]]],
    "aivrVars": [{"a": {"b": [1]}}],
}


def variants() -> list[tuple[str, t.Any]]:
    keys = [field.json_key for field in FIELDS if field.json_key is not None]
    cases = [(key, value) for key in keys for value in ODD_VALUES]
    cases += [(key, value) for key, values in LAYOUTS.items() for value in values]
    cases += [("brandNewField", 1), ("isCallResolved", True), ("agent.agentId", "x")]
    return cases


@pytest.mark.parametrize(
    "options",
    [{}, {"strict_values": True}, {"keep_unknown": False, "empty_nested": True}],
)
def test_any_odd_value_gives_the_same_records_or_error_on_both_paths(options):
    base = golden_calls()[:2]
    differ = []
    for key, value in variants():
        calls = copy.deepcopy(base)
        calls[1][key] = value
        body = body_of(calls)
        fast = outcome(body, typed_path=True, **options)
        slow = outcome(body, typed_path=False, **options)
        if fast != slow:
            differ.append((key, value, fast, slow))
    assert differ == []


def test_an_unknown_field_is_learned_and_read_on_the_typed_path():
    calls = golden_calls()[:5]
    for call in calls[1:]:
        call["brandNewField"] = {"n": 1}
    reader = Counting()
    records = reader.page(body_of(calls), "json")
    assert reader.per_value == 0
    assert [r["_extra"] for r in records] == [None] + [{"brandNewField": {"n": 1}}] * 4
    assert reader.unknown_fields == {"brandNewField"}
    assert reader.page(body_of(calls), "json") == records  # the next page: typed
    assert reader.per_value == 0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("notes", ""),  # empty string: null
        ("duration", "12"),  # numeric text: read as an integer
        ("sentiment", "high"),  # misfit: kept raw
        ("startTime", "2023-02-29T10:00:00Z"),  # not on the calendar
        ("callId", "-0"),  # not plain digits
        ("markers", [{"time": 1, "type": "X", "by": "me"}]),  # unknown item key
        ("agent", {"agentId": "1", "team": "x"}),  # unknown sub-key
    ],
)
def test_only_the_call_that_does_not_fit_takes_the_per_value_path(key, value):
    calls = golden_calls()[:3]
    calls[1][key] = value
    assert per_value_calls(body_of(calls)) == 1


@pytest.mark.parametrize(
    "body",
    [b"", b"[", b"{}", b'{"message": "no"}', b"[1]", b"[[]]", b"[{}]", b"\xff[]"],
)
def test_bodies_that_are_not_pages_of_calls_get_the_same_errors(body):
    fast = outcome(body, typed_path=True)
    assert fast == outcome(body, typed_path=False)
    assert fast[0] == ("records" if body == b"" else "error")


def fallback_calls() -> list[dict[str, t.Any]]:
    """The golden calls, with one page per way out of the typed path (per_page 20)."""
    calls = golden_calls()
    calls[3]["brandNewField"] = {"nested": [1, 2]}  # page 1: an unknown field
    calls[25]["reviewNotes"] = ""  # page 2: an empty string
    calls[47]["duration"] = "about 9 minutes"  # page 3: a misfit, kept raw
    return calls  # page 4 fits the model: the typed path


def test_fallback_pages_match_the_golden_file_byte_for_byte():
    calls = fallback_calls()
    pages_of_20 = [calls[i : i + 20] for i in range(0, len(calls), 20)]
    # The unknown field is learned; the empty string and the misfit: one call each.
    assert [per_value_calls(body_of(page)) for page in pages_of_20] == [0, 1, 1, 0]
    with VoicegainSimulator(calls, token="t") as sim:
        run = run_tap({"jwt_token": "t", "api_url": sim.url, "per_page": 20})
    lines = [json.dumps(r, ensure_ascii=False) for r in run.records]
    want = (GOLDEN / "records_json_fallback.jsonl").read_text(encoding="utf-8")
    assert len(lines) == 80
    assert lines == want.splitlines()
    assert run.records[3]["_extra"] == {"brandNewField": {"nested": [1, 2]}}
    assert run.records[25]["reviewNotes"] is None
    assert run.records[47]["duration"] is None
    assert run.records[47]["_extra"] == {"duration": "about 9 minutes"}
