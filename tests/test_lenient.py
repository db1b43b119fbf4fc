"""Undocumented layouts are read leniently; a value that does not fit is kept raw."""

from __future__ import annotations

import logging

import pytest

from tap_voicegain.errors import RecordError
from tap_voicegain.records.misfits import WARNINGS_PER_FIELD
from tap_voicegain.records.reader import CallReader
from tests.conftest import TOKEN
from tests.singer_output import bookmark, run_tap
from voicegain_sim import VoicegainSimulator, make_calls


def csv_records(text: str, **kwargs) -> list[dict]:
    return list(CallReader(**kwargs).page(text.encode(), "csv"))


def csv_cell(column: str, cell: str, **kwargs) -> dict:
    quoted = '"' + cell.replace('"', '""') + '"'
    (record,) = csv_records(f"callId,{column}\r\n5,{quoted}\r\n", **kwargs)
    return record


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# --- A: word cloud and DTMF cells in any reasonable layout ---


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        (
            "refund|cancel|billing issue",
            [("refund", None), ("cancel", None), ("billing issue", None)],
        ),
        ("billing, late fee,3", [("billing, late fee", 3)]),
        ("billing, late fee", [("billing, late fee", None)]),
        (
            "refund,3|cancel|late fee,12",
            [("refund", 3), ("cancel", None), ("late fee", 12)],
        ),
        ("refund, 3", [("refund", 3)]),
        ("911", [("911", None)]),
    ],
)
def test_word_cloud_cells_with_or_without_frequencies_lose_no_word(cell, words):
    record = csv_cell("wordCloud", cell)
    assert record["wordCloud"] == [{"phrase": p, "freq": f} for p, f in words]
    assert record["_extra"] is None


@pytest.mark.parametrize(
    ("cell", "events"),
    [
        ("1,1000,left", [("1", 1000, "left")]),
        ("1000,1,left", [("1", 1000, "left")]),  # time first, as markers have it
        ("left,#,2500", [("#", 2500, "left")]),
        ("#,2500", [("#", 2500, None)]),
        ("2500,#", [("#", 2500, None)]),
        ("5,3", [("5", 3, None)]),  # two single digits: the model's order
        ("*", [("*", None, None)]),
        ("D,left", [("D", None, "left")]),
        ("*72,1000,right", [("*72", 1000, "right")]),
        ("5,,left", [("5", None, "left")]),
        ("5, 1000, left", [("5", 1000, "left")]),
        ("1,1000,left|2000,#,right", [("1", 1000, "left"), ("#", 2000, "right")]),
    ],
)
def test_dtmf_cells_are_read_in_either_order_with_or_without_channel(cell, events):
    record = csv_cell("dtmfEvents", cell)
    assert record["dtmfEvents"] == [
        {"dtmf": d, "timestamp": ts, "channel": ch} for d, ts, ch in events
    ]
    assert record["_extra"] is None


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("wordCloud", "refund||cancel"),
        ("dtmfEvents", "1000,2000,left"),  # no key
        ("dtmfEvents", "1,1000,left,extra"),
        ("dtmfEvents", "1|"),
    ],
)
@pytest.mark.parametrize("strict", [False, True])
def test_a_cell_of_an_unknown_layout_is_kept_raw_and_never_stops_the_run(
    column, cell, strict, caplog
):
    header = f"callId,{column},duration"
    rows = "".join(f'{n},"{cell}",60\r\n' for n in (5, 6))
    with caplog.at_level(logging.WARNING):
        records = csv_records(f"{header}\r\n{rows}", strict_values=strict)
    assert [r[column] for r in records] == [None, None]
    assert [r["_extra"] for r in records] == [{column: cell}, {column: cell}]
    assert [r["duration"] for r in records] == [60, 60]
    # One WARNING per column and run, naming it and showing the cell's shape.
    (message,) = warnings_of(caplog)
    assert f"'{column}'" in message
    assert "callId 5" in message
    assert "left" not in message  # the shape, not the content


def test_the_example_of_a_huge_unknown_cell_is_cut(caplog):
    cell = "|".join(f"{n},{n + 1},left" for n in range(1000, 3000))
    with caplog.at_level(logging.WARNING):
        record = csv_cell("dtmfEvents", cell)
    assert record["_extra"] == {"dtmfEvents": cell}
    (message,) = warnings_of(caplog)
    assert len(message) < 500
    assert f"({len(cell)} characters)" in message


@pytest.mark.parametrize(
    ("value", "column", "kept"),
    [
        (
            ["refund", "billing, late fee"],
            [
                {"phrase": "refund", "freq": None},
                {"phrase": "billing, late fee", "freq": None},
            ],
            None,
        ),
        (
            [{"word": "refund", "count": 3}, {"phrase": "cancel"}],
            [{"phrase": "refund", "freq": 3}, {"phrase": "cancel", "freq": None}],
            None,
        ),
        ([["refund", 3]], [{"phrase": "refund", "freq": 3}], None),
        (
            "refund,3|cancel",
            [{"phrase": "refund", "freq": 3}, {"phrase": "cancel", "freq": None}],
            None,
        ),
        (
            [{"phrase": "refund", "freq": 3, "sentiment": -0.4}],
            [{"phrase": "refund", "freq": 3}],
            [{"phrase": "refund", "freq": 3, "sentiment": -0.4}],
        ),
        ([{"score": 1}], None, [{"score": 1}]),
        (
            [{"phrase": "refund", "freq": 2.5}],
            None,
            [{"phrase": "refund", "freq": 2.5}],
        ),
        (7, None, 7),
    ],
)
@pytest.mark.parametrize("strict", [False, True])
def test_json_word_clouds_of_other_shapes_are_mapped_and_what_is_not_is_kept(
    value, column, kept, strict
):
    record = CallReader(strict_values=strict).json_call(
        {"callId": 5, "wordCloud": value}
    )
    assert record["wordCloud"] == column
    assert record["_extra"] == (None if kept is None else {"wordCloud": kept})


@pytest.mark.parametrize(
    ("value", "column", "kept"),
    [
        (
            ["1", "2500,#,right"],
            [
                {"dtmf": "1", "timestamp": None, "channel": None},
                {"dtmf": "#", "timestamp": 2500, "channel": "right"},
            ],
            None,
        ),
        (
            [{"digit": "5", "time": 100}],
            [{"dtmf": "5", "timestamp": 100, "channel": None}],
            None,
        ),
        (
            [{"dtmf": "5", "timestamp": 100, "channel": "left", "durationMs": 80}],
            [{"dtmf": "5", "timestamp": 100, "channel": "left"}],
            [{"dtmf": "5", "timestamp": 100, "channel": "left", "durationMs": 80}],
        ),
        (
            [{"dtmf": "5", "timestamp": "soon"}],
            None,
            [{"dtmf": "5", "timestamp": "soon"}],
        ),
        ([12], None, [12]),
        ({"dtmf": "5"}, None, {"dtmf": "5"}),
    ],
)
def test_json_dtmf_events_of_other_shapes_are_mapped_and_what_is_not_is_kept(
    value, column, kept
):
    record = CallReader(strict_values=True).json_call(
        {"callId": 5, "dtmfEvents": value}
    )
    assert record["dtmfEvents"] == column
    assert record["_extra"] == (None if kept is None else {"dtmfEvents": kept})


# --- C: markers with "|" in a note ---


def test_a_marker_note_holding_a_bar_is_joined_back():
    record = csv_cell("markers", "201897,CC_HOLD,see A|B|179162,CC_ANSWER,null")
    assert record["markers"] == [
        {"time": 201897, "type": "CC_HOLD", "note": "see A|B"},
        {"time": 179162, "type": "CC_ANSWER", "note": None},
    ]
    assert record["_extra"] is None


def test_a_markers_cell_that_does_not_start_with_a_marker_is_kept_raw():
    record = csv_cell("markers", "see A|201897,CC_HOLD,null")
    assert record["markers"] is None
    assert record["_extra"] == {"markers": "see A|201897,CC_HOLD,null"}


# --- C: the bad-value policy ---


def test_json_values_that_do_not_fit_are_kept_raw_and_the_call_is_emitted(caplog):
    raw = {
        "callId": 5,
        "duration": "274s",
        "score": True,
        "notes": "fine",
        "agent": {"agentId": 12.5, "name": "Ann"},
        "brandNew": 1,
    }
    with caplog.at_level(logging.WARNING):
        record = CallReader().json_call(raw)
    assert record["duration"] is None
    assert record["score"] is None
    assert record["notes"] == "fine"
    assert record["agent"]["id"] is None
    assert record["agent"]["name"] == "Ann"
    assert record["_extra"] == {
        "brandNew": 1,
        "duration": "274s",
        "score": True,
        "agent.agentId": 12.5,
    }
    messages = warnings_of(caplog)
    assert len(messages) == 3
    assert "callId 5: field 'duration' has '999a', expected an integer" in messages[0]
    assert "274s" not in " ".join(messages)


def test_csv_values_that_do_not_fit_are_kept_raw_under_their_column():
    text = "callId,duration,startTime,isCallResolved\r\n5,12.5,yesterday,maybe\r\n"
    (record,) = csv_records(text)
    assert (record["duration"], record["startTime"], record["isCallResolved"]) == (
        None,
        None,
        None,
    )
    assert record["_extra"] == {
        "duration": "12.5",
        "startTime": "yesterday",
        "isCallResolved": "maybe",
    }


def test_values_kept_raw_stay_when_unknown_fields_are_dropped():
    record = CallReader(keep_unknown=False).json_call(
        {"callId": 5, "duration": "274s", "brandNew": 1}
    )
    assert record["_extra"] == {"duration": "274s"}


def test_warnings_per_field_are_capped_and_the_rest_counted(caplog):
    calls = WARNINGS_PER_FIELD + 3
    text = "callId,duration\r\n" + "".join(f"{n},{n}s\r\n" for n in range(calls))
    normalizer = CallReader()
    with caplog.at_level(logging.WARNING):
        records = list(normalizer.page(text.encode(), "csv"))
    assert [r["_extra"] for r in records] == [
        {"duration": f"{n}s"} for n in range(calls)
    ]
    messages = warnings_of(caplog)
    assert len(messages) == WARNINGS_PER_FIELD
    assert "counted in the pass summary" in messages[-1]
    assert normalizer.raw.take_counts() == {"duration": calls}
    assert normalizer.raw.take_counts() == {}


def test_a_bad_call_id_is_never_lenient():
    with pytest.raises(ValueError, match="callId"):
        CallReader().json_call({"callId": "12a"})
    with pytest.raises(ValueError, match="callId"):
        csv_records("callId,duration\r\n1e3,5\r\n")


def test_strict_values_stops_at_the_first_value_that_does_not_fit():
    with pytest.raises(RecordError, match="callId 5: field 'duration'"):
        CallReader(strict_values=True).json_call({"callId": 5, "duration": "274s"})


# --- through the tap: the run goes on, the evidence is kept ---


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_bad_value_no_longer_blocks_the_export(fmt, caplog):
    calls = make_calls(12, seed=3)
    bad = int(calls[4]["callId"])
    calls[4]["duration"] = "about five minutes"
    calls[6]["wordCloud"] = "refund|cancel|billing issue"
    calls[7]["markers"] = [{"time": 1200, "type": "CC_HOLD", "note": "see A|B"}]
    with VoicegainSimulator(calls, token=TOKEN) as sim, caplog.at_level(logging.INFO):
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 5, "format": fmt}
        run = run_tap(config)
    assert run.call_ids == [int(c["callId"]) for c in calls]
    assert bookmark(run.last_state) == int(calls[-1]["callId"])
    record = run.records[4]
    assert record["duration"] is None
    assert record["_extra"] == {"duration": "about five minutes"}
    assert [w["phrase"] for w in run.records[6]["wordCloud"]] == [
        "refund",
        "cancel",
        "billing issue",
    ]
    assert run.records[7]["markers"][0]["note"] == "see A|B"
    text = caplog.text
    assert f"callId {bad}: field 'duration'" in text
    assert "exported 12 calls" in text
    assert "1 value kept raw in _extra (duration 1)" in text


def test_a_csv_cell_over_128_kib_is_read():
    calls = make_calls(3, seed=4)
    calls[1]["notes"] = "x" * 200_000
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        run = run_tap({"jwt_token": TOKEN, "api_url": sim.url, "format": "csv"})
    assert run.call_ids == [int(c["callId"]) for c in calls]
    assert run.records[1]["notes"] == "x" * 200_000
