"""The short cuts of the hot paths give what the general code gives."""

from __future__ import annotations

import logging

import pytest

from tap_voicegain.errors import BadValue
from tap_voicegain.records.reader import CallReader
from tap_voicegain.records.values import UTC, CsvTimeParser, to_datetime, utc_seconds
from tap_voicegain.settings import parse_datetime


def general_parser(value: str) -> str:
    """What to_datetime answers without its fast path."""
    return parse_datetime(value).astimezone(UTC).isoformat()


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-12T14:00:00Z",
        "2024-05-12T14:00:00+00:00",
        "2024-02-29T23:59:59Z",
        "2000-02-29T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ],
)
def test_utc_times_take_the_fast_path_and_read_as_the_general_parser_reads_them(
    value,
):
    assert utc_seconds(value) == general_parser(value)
    assert to_datetime(value) == general_parser(value)


@pytest.mark.parametrize(
    "value",
    [
        "2023-02-29T10:00:00Z",  # not on the calendar
        "1900-02-29T10:00:00Z",
        "2024-04-31T10:00:00Z",
        "2024-13-01T10:00:00Z",
        "0000-01-01T10:00:00Z",
        "2024-05-12T24:00:00Z",
        "2024-05-12T14:60:00Z",
        "2024-05-12T14:00:60Z",
        "2024-05-12T14:00:0aZ",
        "2024-05-12T14-00-00Z",
        "2024/05/12T14:00:00Z",
        "2024-05-1\u0662T14:00:00Z",  # ARABIC-INDIC DIGIT TWO
        "2024-05-12T14:00:00+00:0a",
    ],
)
def test_times_off_the_calendar_or_clock_are_refused_even_after_good_ones(value):
    assert to_datetime("2024-05-12T14:00:00Z") == "2024-05-12T14:00:00+00:00"
    assert utc_seconds(value) is None
    with pytest.raises(BadValue):
        to_datetime(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-12T14:00:00.5Z", "2024-05-12T14:00:00.500000+00:00"),
        ("2024-05-12T16:00:00+02:00", "2024-05-12T14:00:00+00:00"),
        ("2024-05-12t14:00:00z", "2024-05-12T14:00:00+00:00"),
        ("2024-05-12 14:00:00", "2024-05-12T14:00:00+00:00"),
        ("2024-05-12T14:00:00-00:00", "2024-05-12T14:00:00+00:00"),
    ],
)
def test_other_rfc3339_forms_take_the_general_parser(value, expected):
    assert utc_seconds(value) is None
    assert to_datetime(value) == expected


def test_csv_clock_readings_are_read_per_half_of_the_day():
    parser = CsvTimeParser("UTC")
    assert parser("05-12-2024 6:15:45 PM") == "2024-05-12T18:15:45+00:00"
    assert parser("05-12-2024 6:15:45 AM") == "2024-05-12T06:15:45+00:00"
    assert parser("05-13-2024 6:15:45 PM") == "2024-05-13T18:15:45+00:00"
    with pytest.raises(BadValue):
        parser("05-12-2024 13:15:45 PM")
    with pytest.raises(BadValue):
        parser("02-30-2024 6:15:45 PM")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("05-12-2024 6:5:4 pm", "2024-05-12T18:05:04+00:00"),
        ("05-12-2024 06:05:04 Am", "2024-05-12T06:05:04+00:00"),
        ("05-12-2024 12:59:59 AM", "2024-05-12T00:59:59+00:00"),
        ("05-12-2024 12:00:00 PM", "2024-05-12T12:00:00+00:00"),
    ],
)
def test_csv_clock_readings_in_any_case_and_digit_count(cell, expected):
    assert CsvTimeParser("UTC")(cell) == expected


@pytest.mark.parametrize(
    "clock",
    [
        "6:15:45  PM",
        "6:15:45 PM ",
        "6:15:45PM",
        "6:15 PM",
        "6:15:45:00 PM",
        "6::45 PM",
        "006:15:45 PM",
        "6:015:45 PM",
        "0:15:45 PM",
        "13:15:45 PM",
        "6:60:45 PM",
        "6:15:60 PM",
        "6:15:45 XM",
        "6:15:45 \u0391M",  # GREEK CAPITAL ALPHA
        "\u0666:15:45 PM",  # ARABIC-INDIC DIGIT SIX
        "+6:15:45 PM",
        " 6:15:45 PM",
    ],
)
def test_csv_clock_readings_out_of_the_layout_are_refused(clock):
    with pytest.raises(BadValue):
        CsvTimeParser("UTC")(f"05-12-2024 {clock}")


def test_csv_day_cache_stays_right_when_it_is_cleared():
    parser = CsvTimeParser("America/Chicago")
    parser.remembered = 2
    cells = [
        f"05-{day:02d}-2024 {hour}:00:00 PM"
        for day in (10, 11, 12)
        for hour in (1, 2, 3)
    ]
    got = [parser(cell) for cell in cells] * 2 + [parser(cell) for cell in cells]
    want = [
        f"2024-05-{day}T{hour + 17}:00:00+00:00"
        for day in (10, 11, 12)
        for hour in (1, 2, 3)
    ]
    assert got == want * 3
    assert len(parser._days) <= 2


def test_csv_integer_cells_that_are_not_plain_digits_are_read_one_by_one(caplog):
    text = (
        "callId,duration,incidents,version,dailyRepeatCalls,agent.name,agent.id,notes\r\n"
        "5,12,-3, 7,\u0663,Ana,,\r\n"
        "6,,,,,,,\r\n"
        "7,1,2,3,4,,x,n\r\n"
    )
    with caplog.at_level(logging.WARNING):
        records = list(CallReader().page(text.encode(), "csv"))
    first, empty, plain = records
    assert [first[k] for k in ("duration", "incidents", "version")] == [12, -3, 7]
    assert first["dailyRepeatCalls"] is None
    assert first["_extra"] == {"dailyRepeatCalls": "\u0663"}
    assert first["agent"] == {
        "id": None,
        "email": None,
        "name": "Ana",
        "userId": None,
        "channel": None,
    }
    assert first["notes"] is None
    assert "field 'dailyRepeatCalls'" in caplog.text
    assert [empty[k] for k in ("duration", "agent", "notes", "_extra")] == [None] * 4
    assert [plain[k] for k in ("duration", "incidents", "version")] == [1, 2, 3]
    assert plain["dailyRepeatCalls"] == 4
    assert plain["agent"]["id"] == "x"
    assert plain["notes"] == "n"


def test_a_json_integer_too_large_for_a_float_is_kept_raw_not_a_crash(caplog):
    huge = 10**400
    with caplog.at_level(logging.WARNING):
        record = CallReader().json_call({"callId": 5, "sentiment": huge})
    assert record["sentiment"] is None
    assert record["_extra"] == {"sentiment": huge}
    assert "expected a finite number" in caplog.text
