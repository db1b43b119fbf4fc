"""Pages are decoded alike in both formats: UTF-8 bytes, no BOM, named errors."""

from __future__ import annotations

import csv
import logging

import pytest

from tap_voicegain.records.reader import CallReader
from tests.conftest import TOKEN
from tests.singer_output import run_tap
from voicegain_sim import VoicegainSimulator, make_calls


def read(body: bytes, content_type: str, wanted: str, **kwargs) -> list[dict]:
    """Records of a page's bytes; the Content-Type plays no part (UTF-8 always)."""
    assert content_type
    return CallReader(**kwargs).page(body, wanted)


CSV = "accountId,callId,agent.name,tags\r\n{bom}acc-1,5,Núñez José,Señor|Ärger\r\n"


def test_csv_without_charset_is_read_as_utf8_not_latin1():
    body = CSV.format(bom="").encode("utf-8")
    (record,) = read(body, "text/csv", "csv")
    assert record["agent"]["name"] == "Núñez José"
    assert record["tags"] == ["Señor", "Ärger"]


@pytest.mark.parametrize("content_type", ["text/csv", "text/csv; charset=utf-8"])
def test_a_byte_order_mark_does_not_rename_the_first_csv_column(content_type):
    body = b"\xef\xbb\xbf" + CSV.format(bom="").encode("utf-8")
    (record,) = read(body, content_type, "csv")
    assert record["accountId"] == "acc-1"
    assert record["_extra"] is None


def test_a_byte_order_mark_before_json_is_dropped():
    body = b'\xef\xbb\xbf[{"callId": 5, "notes": "d\xc3\xa9j\xc3\xa0 vu"}]'
    (record,) = read(body, "application/json", "json")
    assert record["notes"] == "déjà vu"


@pytest.mark.parametrize(
    ("body", "wanted", "content_type"),
    [
        (b"callId,notes\r\n5,caf\xe9\r\n", "csv", "text/csv"),
        (b"\xef\xbb\xbfcallId,notes\r\n5,caf\xe9\r\n", "csv", "text/csv"),
        (b'[{"callId": 5, "notes": "caf\xe9"}]', "json", "application/json"),
        (
            b'\xef\xbb\xbf[{"callId": 5, "notes": "caf\xe9"}]',
            "json",
            "application/json",
        ),
    ],
)
def test_bytes_that_are_not_utf8_are_a_page_error_with_their_offset(
    body, wanted, content_type
):
    offset = body.index(b"\xe9")
    with pytest.raises(ValueError) as caught:  # noqa: PT011 - the message is checked
        read(body, content_type, wanted)
    message = str(caught.value)
    assert f"not UTF-8 at byte offset {offset} of {len(body)}" in message


def test_a_duplicate_csv_column_is_kept_in_extra_and_named_once(caplog):
    text = "callId,score,notes,score\r\n5,80.5,a,0.9\r\n6,70,b,\r\n"
    with caplog.at_level(logging.WARNING):
        first, second = read(text.encode(), "text/csv", "csv")
    assert first["score"] == 80.5
    assert first["_extra"] == {"score#2": "0.9"}
    assert second["score"] == 70.0
    assert second["_extra"] is None
    (warning,) = [r.getMessage() for r in caplog.records if "header" in r.getMessage()]
    assert "'score'" in warning
    assert "score#2" in warning


@pytest.mark.parametrize("call_id", ["9223372036854775808", "1e30", "\u0669\u0663"])
def test_a_call_id_out_of_range_is_a_named_page_error_in_csv(call_id):
    body = f"callId,notes\r\n{call_id},x\r\n".encode()
    with pytest.raises(ValueError, match=r"expected an integer in 0\.\."):
        read(body, "text/csv", "csv")


@pytest.mark.parametrize("call_id", [b"9223372036854775808", b"1e30", b"1e19"])
def test_a_call_id_out_of_range_is_a_named_page_error_in_json(call_id):
    body = b'[{"callId": ' + call_id + b"}]"
    with pytest.raises(ValueError, match=r"expected an integer in 0\.\."):
        read(body, "application/json", "json")


def test_the_largest_call_id_is_accepted():
    (record,) = read(b'[{"callId": "9223372036854775807"}]', "application/json", "json")
    assert record["callId"] == 2**63 - 1


def test_a_large_cell_is_read_and_the_process_limit_left_as_it_was():
    limit = csv.field_size_limit()
    body = b"callId,notes\r\n5," + b"x" * (limit + 10) + b"\r\n"
    (record,) = read(body, "text/csv", "csv")
    assert len(record["notes"]) == limit + 10
    assert csv.field_size_limit() == limit


def test_a_bar_inside_a_tag_survives_in_json_only():
    # Documented limitation (README): in CSV "|" is the list separator.
    (record,) = read(
        b'[{"callId": 5, "tags": ["A|B", "C"]}]', "application/json", "json"
    )
    assert record["tags"] == ["A|B", "C"]
    (record,) = read(b"callId,tags\r\n5,A|B|C\r\n", "text/csv", "csv")
    assert record["tags"] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("fmt", "fault", "opts"),
    [
        ("csv", "no_charset", {}),
        ("csv", "bom", {}),
        ("csv", "bom", {"no_charset": True}),
        ("json", "bom", {}),
    ],
)
def test_pages_with_a_bom_or_without_a_charset_give_the_same_records(fmt, fault, opts):
    calls = make_calls(9, seed=5)
    calls[1]["notes"] = "Café déjà vu — Ärger über die Rechnung"
    calls[2]["accountId"] = "acc-ü"
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 4, "format": fmt}
        clean = run_tap(config)
        sim.inject(fault, times=10, **opts)
        hostile = run_tap(config)
    assert hostile.records == clean.records
    assert hostile.records[1]["notes"] == calls[1]["notes"]
    assert [r["accountId"] for r in hostile.records] == [c["accountId"] for c in calls]
