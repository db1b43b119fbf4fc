"""BATCH files hold what RECORD messages would: maps, selection, flattening."""

from __future__ import annotations

import gzip
import json
import sys

from tests.helpers import bookmark, calls_entry, run_tap


def batch_config(root) -> dict:
    return {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{root}", "prefix": "calls-"},
        "batch_size": 40,
    }


def batched_records(run) -> list[dict]:
    records = []
    for message in run.messages:
        if message["type"] == "BATCH":
            for url in message["manifest"]:
                path = url.removeprefix("file://")
                with gzip.open(path, "rt", encoding="utf-8") as lines:
                    records += [json.loads(line) for line in lines]
    return records


def test_batch_files_hold_what_the_schema_says_maps_and_selection_applied(
    sim, config, tmp_path
):
    from tap_voicegain.tap import TapVoicegain  # noqa: PLC0415

    catalog = TapVoicegain(config=config).catalog_dict
    for entry in calls_entry(catalog)["metadata"]:
        if entry["breadcrumb"] == ["properties", "agent"]:
            entry["metadata"]["selected"] = False
    batch_settings = {
        **config,
        "batch_config": batch_config(tmp_path),
        "stream_maps": {"calls": {"notes": "__NULL__"}},
    }
    run = run_tap(batch_settings, catalog=catalog)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]
    records = batched_records(run)
    assert [r["callId"] for r in records] == [int(c["callId"]) for c in sim.calls]
    assert "notes" not in schema["properties"]
    assert "agent" not in schema["properties"]
    for record in records:
        assert set(record) <= set(schema["properties"]), record["callId"]
        assert "notes" not in record
        assert "agent" not in record
    # No STATE runs ahead of the batch files announced before it.
    announced = 0
    for message in run.messages:
        if message["type"] == "BATCH":
            announced += 40
        elif message["type"] == "STATE" and bookmark(message["value"]) is not None:
            position = min(announced, len(records)) - 1
            assert position >= 0, "a bookmark before any batch file"
            assert bookmark(message["value"]) <= records[position]["callId"]


def test_batch_files_are_flattened_like_records(sim, config, tmp_path):
    run = run_tap(
        {
            **config,
            "batch_config": batch_config(tmp_path),
            "flattening_enabled": True,
            "flattening_max_depth": 1,
        }
    )
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]
    records = batched_records(run)
    assert "agent__name" in schema["properties"]
    assert all("agent" not in r and "agent__name" in r for r in records)


def test_batch_with_a_map_that_copies_the_stream_is_refused_before_any_request(
    sim, config, tmp_path
):
    run = run_tap(
        {
            **config,
            "batch_config": batch_config(tmp_path),
            "stream_maps": {"calls_copy": {"__source__": "calls"}},
        },
        expect_error=True,
    )
    assert "batch_config cannot be combined with stream maps" in str(run.error)
    assert "calls, calls_copy" in str(run.error)
    assert sim.requests == []
    assert run.messages == []


def test_parquet_batches_without_pyarrow_are_refused_naming_the_extra(
    sim, config, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    settings = {**config, "batch_config": batch_config(tmp_path)}
    settings["batch_config"]["encoding"] = {"format": "parquet"}
    run = run_tap(settings, expect_error=True)
    assert "pip install 'tap-voicegain[parquet]'" in str(run.error)
    assert sim.requests == []


def test_transcript_batch_files_honour_maps_and_selection(sim, config, tmp_path):
    from tap_voicegain.tap import TapVoicegain  # noqa: PLC0415

    catalog = TapVoicegain(config=config).catalog_dict
    chosen = {
        ("calls", ()): False,
        ("transcripts", ()): True,
        ("transcripts", ("properties", "sections")): False,
    }
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            key = (stream["tap_stream_id"], tuple(entry["breadcrumb"]))
            if key in chosen:
                entry["metadata"]["selected"] = chosen[key]
    settings = {
        **config,
        "batch_config": batch_config(tmp_path),
        "stream_maps": {"transcripts": {"text": "__NULL__"}},
    }
    run = run_tap(settings, catalog=catalog)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]
    records = batched_records(run)
    assert records
    assert {"text", "sections"}.isdisjoint(schema["properties"])
    for record in records:
        assert set(record) <= set(schema["properties"])
    # No STATE covers a transcript that is not yet in an announced batch file.
    ids = [r["callId"] for r in records]
    announced = 0
    for message in run.messages:
        if message["type"] == "BATCH":
            announced += 40
        elif message["type"] == "STATE":
            stream_state = message["value"]["bookmarks"].get("transcripts", {})
            for partition in stream_state.get("partitions", []):
                mark = partition.get("replication_key_value")
                if mark is not None:
                    covered = sum(1 for call_id in ids if call_id <= mark)
                    assert covered <= announced, (mark, covered, announced)
