"""Reviewed calls flow in again, several projects in one run."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys

import pytest

from tap_voicegain.errors import ProjectsFailedError
from tests.helpers import FAST_RETRIES, bookmark, run_tap, calls_entry
from tests.oracle import exported
from voicegain_sim import VoicegainSimulator, make_calls


def recent_calls(n: int, seed: int, **kwargs) -> list[dict]:
    """Calls that started within the last two days (inside a refresh window)."""
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    return make_calls(n, seed=seed, start=start, **kwargs)


def test_a_call_reviewed_after_export_is_emitted_again_with_its_score():
    calls = recent_calls(80, seed=41)
    target = next(c for c in calls if c.get("score") is None)
    target_id = int(target["callId"])
    with VoicegainSimulator(calls, token="t") as sim:
        config = {
            "jwt_token": "t",
            "api_url": sim.url,
            "per_page": 25,
            "refresh_window_days": 7,
        }
        first = run_tap(config)
        # Exported once: the refresh skips what this run sent (once per run).
        assert first.call_ids.count(target_id) == 1
        assert (
            next(r for r in first.records if r["callId"] == target_id)["score"] is None
        )

        sim.update_call(target_id, score=87.5, reviewStatus="complete")
        second = run_tap(config, state=first.last_state)
    again = [r for r in second.records if r["callId"] == target_id]
    assert [r["score"] for r in again] == [87.5]
    assert again[0]["reviewStatus"] == "complete"
    # Nothing new: the export pass emitted nothing; the refresh re-sent the window.
    assert sorted(second.call_ids) == sorted(first.call_ids[: len(calls)])
    assert bookmark(second.last_state) == bookmark(first.last_state)


def test_the_refresh_never_moves_the_bookmark_nor_takes_calls_from_the_export():
    calls = recent_calls(60, seed=42, processing_at=[30])
    stuck = int(calls[30]["callId"])
    with VoicegainSimulator(calls, token="t") as sim:
        config = {
            "jwt_token": "t",
            "api_url": sim.url,
            "per_page": 20,
            "refresh_window_days": 30,
            "max_processing_hours": 1000,  # call 30 is not stuck, only slow
        }
        first = run_tap(config)
        done_ids = [int(c["callId"]) for c in calls[:30]]
        assert first.call_ids == done_ids  # the refresh skips this run's calls
        assert bookmark(first.last_state) == done_ids[-1]
        # Every STATE, refresh included, keeps the export's bookmark.
        marks = [bookmark(s) for s in first.states if bookmark(s) is not None]
        assert max(marks) == done_ids[-1]

        sim.set_phase(stuck, "DONE")
        second = run_tap(config, state=first.last_state)
    rest = [int(c["callId"]) for c in calls[30:]]
    assert second.call_ids[: len(rest)] == rest  # the export pass owns them
    assert bookmark(second.last_state) == rest[-1]


def test_the_refresh_is_off_by_default(sim, config):
    first = run_tap(config)
    assert len(first.call_ids) == len(set(first.call_ids))
    assert not [r for r in sim.requests if "sort_by" in r.params]


def test_calls_outside_the_window_are_not_read_again():
    old = make_calls(40, seed=43)  # 2024: far outside a 7-day window
    with VoicegainSimulator(old, token="t") as sim:
        run = run_tap({"jwt_token": "t", "api_url": sim.url, "refresh_window_days": 7})
        refresh_requests = [r for r in sim.requests if "sort_by" in r.params]
    assert run.call_ids == [int(c["callId"]) for c in old]
    assert len(refresh_requests) == 1
    assert refresh_requests[0].params["sort_by"] == ["documentId"]
    assert "consecutive" not in refresh_requests[0].params


@pytest.fixture
def two_projects():
    sales = make_calls(50, seed=51)
    support = make_calls(70, seed=52, first_id=20_000)
    with VoicegainSimulator(
        projects={"tok-sales": sales, "tok-support": support}
    ) as sim:
        yield sim, sales, support


def test_several_projects_each_keep_their_own_bookmark_and_tag_their_rows(two_projects):
    sim, sales, support = two_projects
    config = {
        "api_url": sim.url,
        "per_page": 30,
        "projects": [
            {"name": "sales", "jwt_token": "tok-sales"},
            {"name": "support", "jwt_token": "tok-support"},
        ],
    }
    run = run_tap(config)
    by_project = {"sales": [], "support": []}
    for record in run.records:
        by_project[record["project"]].append(record)
    assert [r["callId"] for r in by_project["sales"]] == [
        int(c["callId"]) for c in sales
    ]
    assert [r["callId"] for r in by_project["support"]] == [
        int(c["callId"]) for c in support
    ]
    assert {r["contextId"] for r in by_project["sales"]} == {sales[0]["contextId"]}
    assert {r["contextId"] for r in by_project["support"]} == {support[0]["contextId"]}
    assert bookmark(run.last_state, "sales") == int(sales[-1]["callId"])
    assert bookmark(run.last_state, "support") == int(support[-1]["callId"])
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")
    assert schema["key_properties"] == ["contextId", "callId"]

    sim.add_calls(make_calls(5, seed=53, first_id=30_000), token="tok-support")
    again = run_tap(config, state=run.last_state)
    assert [r["project"] for r in again.records] == ["support"] * 5
    assert bookmark(again.last_state, "sales") == int(sales[-1]["callId"])


def test_a_catalog_discovered_with_one_token_keeps_contextid_in_the_key(
    two_projects, caplog
):
    from tap_voicegain.tap import TapVoicegain  # noqa: PLC0415

    sim, _, _ = two_projects
    single = {"api_url": sim.url, "jwt_token": "tok-sales"}
    catalog = TapVoicegain(config=single).catalog_dict
    assert list(calls_entry(catalog)["key_properties"]) == ["callId"]
    config = {
        "api_url": sim.url,
        "projects": [
            {"name": "sales", "jwt_token": "tok-sales"},
            {"name": "support", "jwt_token": "tok-support"},
        ],
    }
    with caplog.at_level("WARNING"):
        run = run_tap(config, catalog=catalog)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")
    assert schema["key_properties"] == ["contextId", "callId"]
    assert any("Discover the catalog again" in r.getMessage() for r in caplog.records)


def test_one_failing_project_does_not_lose_the_others(two_projects):
    sim, sales, support = two_projects
    config = {
        "api_url": sim.url,
        "per_page": 30,
        **FAST_RETRIES,
        "projects": [
            {"name": "sales", "jwt_token": "tok-sales"},
            {"name": "broken", "jwt_token": "tok-revoked"},
            {"name": "support", "jwt_token": "tok-support"},
        ],
    }
    run = run_tap(config, expect_error=True)
    assert isinstance(run.error, ProjectsFailedError)
    assert "project 'broken'" in str(run.error)
    assert "tok-revoked" not in str(run.error)
    assert bookmark(run.last_state, "sales") == int(sales[-1]["callId"])
    assert bookmark(run.last_state, "support") == int(support[-1]["callId"])
    assert bookmark(run.last_state, "broken") is None
    raw = run.raw.decode()
    assert (
        "tok-sales" not in raw and "tok-support" not in raw and "tok-revoked" not in raw
    )


def test_single_project_keeps_call_id_as_its_key(sim, config):
    run = run_tap(config)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")
    assert schema["key_properties"] == ["callId"]
    assert {r["project"] for r in run.records} == {"default"}
    assert len(exported(sim.calls)) == len(run.records)


def test_the_refresh_window_starts_at_from_time_when_that_is_later():
    calls = recent_calls(20, seed=44)
    later = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).replace(
        microsecond=0
    )
    from_time = later.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
    with VoicegainSimulator(calls, token="t") as sim:
        run_tap(
            {
                "jwt_token": "t",
                "api_url": sim.url,
                "refresh_window_days": 7,
                "from_time": from_time,
            }
        )
        refresh = [r for r in sim.requests if "sort_by" in r.params]
        with_window = run_tap(
            {"jwt_token": "t", "api_url": sim.url, "refresh_window_days": 7}
        )
        plain = [r for r in sim.requests if "sort_by" in r.params][len(refresh) :]
    assert refresh[0].params["fromTime"] == [from_time]
    assert plain[0].params["fromTime"][0].endswith("Z")
    assert plain[0].params["fromTime"][0] < later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert with_window.records


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
