"""Nothing the API sends is dropped or sent in a form a warehouse refuses (19: 10 17).

New keys inside list items go to ``_extra`` like new top-level fields; a value
a warehouse cannot hold (an integer beyond 64 bits, a NUL character in text)
is kept raw in ``_extra`` and its column is null, with a WARNING naming the
callId and the field.
"""

from __future__ import annotations

import logging
import typing as t

import pytest

from tests.failure_support import TOKEN, at_least, naming, records_of, sync
from voicegain_sim import VoicegainSimulator, make_calls


def export(
    call_changes: dict[str, t.Any], fmt: str = "json"
) -> tuple[dict[str, t.Any], int]:
    """Export 3 calls, the middle one changed; its record and callId."""
    calls = make_calls(3, seed=501)
    calls[1].update(call_changes)
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        run = sync({"jwt_token": TOKEN, "api_url": sim.url, "format": fmt})
    assert run.error is None
    call_id = int(calls[1]["callId"])
    (record,) = [r for r in records_of(run, "calls") if r["callId"] == call_id]
    return record, call_id


def kept(record: dict[str, t.Any], field: str, key: str) -> list[t.Any]:
    """Values kept in ``_extra`` under a path inside ``field`` ending in ``key``."""
    extra = record.get("_extra") or {}
    return [v for k, v in extra.items() if k.startswith(field) and k.endswith(key)]


# ----------------------------------------------- 10: keys inside list items

ITEMS = {
    "markers": {"time": 5000, "type": "HOLD", "note": "on hold", "holdReason": "x-7"},
    "sentiments": {
        "speaker": "agent",
        "average": 0.1,
        "final": 0.2,
        "trend": 0.3,
        "holdReason": "x-7",
    },
}


@pytest.mark.parametrize("field", list(ITEMS))
def test_a_new_key_inside_a_list_item_is_kept_in_extra(caplog, field):
    with caplog.at_level(logging.INFO):
        record, _ = export({field: [ITEMS[field]]})
    (item,) = record[field]  # the known keys, in their columns
    assert "holdReason" not in item
    assert kept(record, field, "holdReason") == ["x-7"]
    assert [m for m in at_least(caplog, logging.WARNING) if "holdReason" in m]


# ------------------------------------------- 17: values a warehouse refuses


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1], ids=["2**64", "-2**63-1"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_integer_beyond_64_bits_is_kept_raw_and_its_column_null(caplog, value, fmt):
    with caplog.at_level(logging.INFO):
        record, call_id = export({"duration": value}, fmt)
    assert record["duration"] is None
    assert [str(v) for v in kept(record, "duration", "duration")] == [str(value)]
    assert [m for m in naming(caplog, call_id) if "duration" in m]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_nul_character_in_text_is_kept_raw_and_its_column_null(caplog, fmt):
    with caplog.at_level(logging.INFO):
        record, call_id = export({"notes": "Call\x00summary"}, fmt)
    assert record["notes"] is None
    # Kept with the NUL written as the text \u0000: PostgreSQL refuses a NUL in
    # jsonb too, so the raw value itself could not be loaded either.
    assert kept(record, "notes", "notes") == ["Call\\u0000summary"]
    assert [m for m in naming(caplog, call_id) if "notes" in m]
