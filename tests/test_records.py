"""The record normaliser on hand-made JSON objects and CSV text."""

from __future__ import annotations

import pytest

from tap_voicegain.errors import RecordError
from tap_voicegain.records.reader import CallReader

HEADER = (
    "callId,startTime,agent.id,agent.name,queue.id,tags,markers,wordCloud,dtmfEvents"
)


def csv_records(text: str, **kwargs) -> list[dict]:
    return list(CallReader(**kwargs).page(text.encode(), "csv"))


def test_csv_cells_become_typed_values():
    row = (
        '14603,05-12-2024 6:15:45 PM,0436828,"Núñez, José ""JJ""",873490,'
        "C_Member|NEW_TAG,"
        '"201897,CC_AGENT_ANSWER,null|179162,CC_ANSWER,on hold, again",'
        '"refund,3|late fee,2","1,1000,left|#,2500,right"'
    )
    (record,) = csv_records(f"{HEADER}\r\n{row}\r\n")
    assert record["callId"] == 14603
    assert record["startTime"] == "2024-05-12T18:15:45+00:00"
    assert record["agent"] == {
        "id": "0436828",
        "name": 'Núñez, José "JJ"',
        "email": None,
        "userId": None,
        "channel": None,
    }
    assert record["queue"] == {"id": "873490", "name": None}
    assert record["tags"] == ["C_Member", "NEW_TAG"]
    assert record["markers"] == [
        {"time": 201897, "type": "CC_AGENT_ANSWER", "note": None},
        {"time": 179162, "type": "CC_ANSWER", "note": "on hold, again"},
    ]
    assert record["wordCloud"] == [
        {"phrase": "refund", "freq": 3},
        {"phrase": "late fee", "freq": 2},
    ]
    assert record["dtmfEvents"] == [
        {"dtmf": "1", "timestamp": 1000, "channel": "left"},
        {"dtmf": "#", "timestamp": 2500, "channel": "right"},
    ]


def test_csv_empty_cells_are_null_and_calls_without_agent_have_no_agent_object():
    (record,) = csv_records(f"{HEADER}\r\n7,,,,,,,,\r\n")
    assert record["callId"] == 7
    assert record["agent"] is None
    assert record["queue"] is None
    assert record["tags"] is None
    assert record["startTime"] is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("12-31-2024 12:00:00 AM", "2024-12-31T06:00:00+00:00"),
        ("12-31-2024 12:00:00 PM", "2024-12-31T18:00:00+00:00"),
        ("07-04-2024 1:05:09 PM", "2024-07-04T18:05:09+00:00"),
    ],
)
def test_csv_times_use_the_twelve_hour_clock_in_the_given_zone(cell, expected):
    # The same cells twice: the parser remembers days and clock readings.
    records = csv_records(
        f"callId,startTime\r\n1,{cell}\r\n2,{cell}\r\n",
        csv_timezone="America/Chicago",
    )
    assert [r["startTime"] for r in records] == [expected, expected]


def test_utc_csv_times_match_the_calendar():
    cells = [
        "02-29-2024 11:59:59 PM",
        "12-31-2023 12:00:00 AM",
        "05-12-2024 6:15:45 PM",
    ]
    text = "callId,startTime\r\n" + "".join(f"{i},{c}\r\n" for i, c in enumerate(cells))
    assert [r["startTime"] for r in csv_records(text)] == [
        "2024-02-29T23:59:59+00:00",
        "2023-12-31T00:00:00+00:00",
        "2024-05-12T18:15:45+00:00",
    ]


@pytest.mark.parametrize(
    ("header", "row", "field"),
    [
        ("callId,duration", "5,12.5", "duration"),
        ("callId,sentiment", "5,very happy", "sentiment"),
        ("callId,startTime", "5,2024/05/12 18:15", "startTime"),
        ("callId,startTime", "5,05-12-2024 13:15:45 PM", "startTime"),
        ("callId,startTime", "5,02-30-2024 1:15:45 PM", "startTime"),
        ("callId,startTime", "5,13-01-2024 1:15:45 PM", "startTime"),
        ("callId,startTime", "5,05-12-2024 1:61:45 PM", "startTime"),
        ("callId,endTime", "5,05-12-2024 1:15:45", "endTime"),
        ("callId,isCallResolved", "5,maybe", "isCallResolved"),
        ("callId,markers", "5,201897-CC_ANSWER", "markers"),
        ("callId,duration", "5,\u0669\u0663", "duration"),
        ("callId,duration", "5,\u00b2", "duration"),
        ("callId,sentiment", "5,\u0661\u0662", "sentiment"),
        ("callId,sentiment", "5,1_000", "sentiment"),
        ("callId,startTime", "5,\u0660\u0665-12-2024 6:15:45 PM", "startTime"),
        ("callId,startTime", "5,05-12-2024 \u0666:15:45 PM", "startTime"),
        ("callId,startTime", "5,05-12-2024 6:1_5:45 PM", "startTime"),
        ("callId,markers", '5,"\u0662\u0660,CC_ANSWER,null"', "markers"),
    ],
)
def test_with_strict_values_a_csv_value_that_does_not_fit_names_call_and_field(
    header, row, field
):
    with pytest.raises(RecordError) as caught:
        csv_records(f"{header}\r\n{row}\r\n", strict_values=True)
    assert "callId 5" in str(caught.value)
    assert f"'{field}'" in str(caught.value)


def test_csv_without_call_id_column_is_refused():
    with pytest.raises(ValueError, match="no callId column"):
        csv_records("id,startTime\r\n5,\r\n")


def test_csv_ragged_row_is_refused_with_its_line():
    with pytest.raises(ValueError, match="row 3 has 1 cells"):
        csv_records("callId,duration\r\n5,10\r\n6\r\n")


def test_unknown_csv_columns_are_kept_in_extra_or_dropped():
    text = "callId,sentimentV2\r\n5,0.7\r\n6,\r\n"
    kept = csv_records(text)
    assert kept[0]["_extra"] == {"sentimentV2": "0.7"}
    assert kept[1]["_extra"] is None
    dropped = csv_records(text, keep_unknown=False)
    assert dropped[0]["_extra"] is None


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"callId": "5", "score": True}, "score"),
        ({"callId": "5", "duration": "274s"}, "duration"),
        ({"callId": "5", "tags": "a|b"}, None),  # a string is tolerated as CSV-like
        ({"callId": "5", "agent": "Joe"}, "agent"),
        ({"callId": "5", "agent": {"agentId": 12.5}}, "agent.agentId"),
        ({"callId": "5", "notes": ["a"]}, "notes"),
        ({"callId": "5", "sentiment": "NaN"}, "sentiment"),
        ({"callId": "5", "markers": [{"time": "soon", "type": "X"}]}, "markers"),
        ({"callId": "5", "sentiment": "\u0661\u0662"}, "sentiment"),
        ({"callId": "5", "duration": "\u0669"}, "duration"),
        ({"callId": "5", "startTime": "\u0662024-05-12T18:15:45Z"}, "startTime"),
    ],
)
def test_with_strict_values_a_json_value_that_does_not_fit_names_call_and_field(
    raw, field
):
    normalizer = CallReader(strict_values=True)
    if field is None:
        assert normalizer.json_call(raw)["tags"] == ["a", "b"]
        return
    with pytest.raises(RecordError) as caught:
        normalizer.json_call(raw)
    assert "callId 5" in str(caught.value)
    assert f"'{field}'" in str(caught.value)


@pytest.mark.parametrize(
    "call_id",
    [None, "", "abc", "-3", 1.5, 2**63, "9223372036854775808", 1e30, True, "\u0669"],
)
def test_a_call_without_a_usable_call_id_is_refused(call_id):
    with pytest.raises(ValueError, match="callId"):
        CallReader().json_call({"callId": call_id})


def test_json_renames_and_nested_unknown_keys():
    record = CallReader().json_call(
        {
            "callId": 10,
            "callResolved": False,
            "queue": {"queueId": "Q1", "name": "Support", "priority": 2},
        }
    )
    assert record["isCallResolved"] is False
    assert record["queue"] == {"id": "Q1", "name": "Support"}
    assert record["_extra"] == {"queue.priority": 2}
