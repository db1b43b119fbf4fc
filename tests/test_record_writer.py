"""Golden tests: records stay byte for byte; the one record writer writes what the
SDK's own path writes, with and without its shortcut for records nothing maps."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
from singer_sdk.streams.core import Stream

from tap_voicegain.records.fields import CALL_FIELDS as FIELDS
from tap_voicegain.records.schema import calls_schema
from tap_voicegain.sdk import RecordWriter, StreamSeam, sdk_covered
from tests.singer_output import run_tap
from voicegain_sim import VoicegainSimulator

GOLDEN = Path(__file__).parent / "golden"


def golden_calls() -> list[dict[str, t.Any]]:
    return json.loads((GOLDEN / "calls.json").read_text(encoding="utf-8"))


def without_time(messages: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return [{k: v for k, v in m.items() if k != "time_extracted"} for m in messages]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_records_match_the_golden_file_byte_for_byte(fmt):
    with VoicegainSimulator(golden_calls(), token="t") as sim:
        run = run_tap(
            {"jwt_token": "t", "api_url": sim.url, "per_page": 30, "format": fmt}
        )
    lines = [json.dumps(r, ensure_ascii=False) for r in run.records]
    want = (GOLDEN / f"records_{fmt}.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(want) == 80
    for got, expected in zip(lines, want, strict=True):
        assert got == expected


@pytest.mark.parametrize(
    "extra",
    [
        {"format": "json"},
        {"format": "csv"},
        {"format": "json", "refresh_window_days": 100000},
    ],
)
def test_the_record_writer_writes_exactly_what_the_sdk_path_writes(monkeypatch, extra):
    assert sdk_covered(), "the shortcut is on for the installed SDK"

    def run(path: str) -> list[dict[str, t.Any]]:
        with monkeypatch.context() as patch:
            if path == "mapped":
                patch.setattr(RecordWriter, "identity", False)
            elif path == "sdk":  # the SDK's own code, as if the seam were not there
                patch.setattr(
                    StreamSeam, "_write_record_message", Stream._write_record_message
                )
            with VoicegainSimulator(golden_calls(), token="t") as sim:
                config = {"jwt_token": "t", "api_url": sim.url, "per_page": 30, **extra}
                return without_time(run_tap(config).messages)

    shortcut, mapped, sdk = run("shortcut"), run("mapped"), run("sdk")
    assert [m["type"] for m in shortcut].count("RECORD") >= 80
    assert [m["type"] for m in shortcut].count("STATE") >= 3
    assert shortcut == sdk
    assert mapped == sdk


def test_the_shortcut_is_off_on_sdk_versions_the_golden_test_does_not_cover():
    assert sdk_covered("0.54.9")
    assert not sdk_covered("0.55.0")
    assert not sdk_covered("1.0.0")


def test_record_keys_are_the_schema_properties():
    with VoicegainSimulator(golden_calls()[:5], token="t") as sim:
        run = run_tap({"jwt_token": "t", "api_url": sim.url})
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]
    assert list(schema["properties"]) == [field.name for field in FIELDS]
    assert schema == calls_schema()
    for record in run.records:
        assert list(record) == list(schema["properties"])


@pytest.mark.parametrize("depth", [1, 3])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_every_column_survives_flattening(depth, fmt):
    calls = golden_calls()[:20]
    calls[0]["aivrVars"] = {"intent": "billing", "slots": {"account": "12"}}
    calls[0]["inboundRtpQuality"] = {"jitter": 3.5, "MOS": 4.1}
    calls[0]["brandNewField"] = {"nested": {"deeper": 1}}
    with VoicegainSimulator(calls, token="t") as sim:
        config = {
            "jwt_token": "t",
            "api_url": sim.url,
            "format": fmt,
            "flattening_enabled": True,
            "flattening_max_depth": depth,
        }
        run = run_tap(config)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]
    properties = set(schema["properties"])
    assert run.records
    for record in run.records:
        assert set(record) <= properties, set(record) - properties
    first = run.records[0]
    if fmt == "json":
        assert json.loads(first["aivrVars"]) == calls[0]["aivrVars"]
        assert json.loads(first["inboundRtpQuality"]) == {"jitter": 3.5, "MOS": 4.1}
        assert json.loads(first["_extra"]) == {
            "brandNewField": {"nested": {"deeper": 1}}
        }
    assert "agent__id" in properties
