"""The vendor's whole call: segments as their own stream, the six newer filters."""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_voicegain.tap import TapVoicegain
from tests.helpers import TOKEN, east_and_west, run_tap
from tests.transcript_support import catalog
from voicegain_sim import VoicegainSimulator, make_calls


def segment_records(run: t.Any) -> list[dict[str, t.Any]]:
    return [
        m["record"]
        for m in run.messages
        if m["type"] == "RECORD" and m["stream"] == "call_segments"
    ]


def run_streams(config: dict[str, t.Any], *streams: str, state: t.Any = None) -> t.Any:
    # The catalog selects the streams; discovered without maps, as Meltano does.
    plain = {k: v for k, v in config.items() if k != "stream_maps"}
    return run_tap(config, state, catalog=catalog(plain, *streams))


def expected_segments(sim: VoicegainSimulator, calls: list[dict]) -> list[tuple]:
    """(callId, segmentSeq, type) of every segment the API holds for ``calls``."""
    from voicegain_sim.segments import make_segments  # noqa: PLC0415

    return [
        (int(call["callId"]), seg["segmentSeq"], seg["type"])
        for call in calls
        if call.get("progressPhase") in {"DONE", "ERROR"}
        for seg in make_segments(call)
    ]


# ------------------------------------------------------------------ segments


def test_segments_are_one_record_each_keyed_by_project_call_and_number():
    calls = make_calls(40, seed=901)
    with VoicegainSimulator(calls, token=TOKEN, segments=True) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 15}
        run = run_streams(config, "call_segments")
        asked = [r.params for r in sim.requests if r.path.endswith("/sa/call")]
    records = segment_records(run)
    got = [(r["callId"], r["segmentSeq"], r["type"]) for r in records]
    assert got == expected_segments(sim, calls)
    assert len(
        {(r["contextId"], r["callId"], r["segmentSeq"]) for r in records}
    ) == len(records)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")
    assert schema["key_properties"] == ["contextId", "callId", "segmentSeq"]
    assert all(p.get("inclSegments") == ["true"] for p in asked)
    # Typed: times in UTC, agents as objects, every column of the schema.
    first = next(r for r in records if r["agent"])
    assert first["startTime"].endswith("+00:00")
    assert set(first["agent"]) == {"id", "email", "name", "userId", "channel"}
    assert list(first) == list(schema["schema"]["properties"])
    # Several agents in one call (a transfer), a bot then an agent.
    by_call: dict[int, list[str]] = {}
    for record in records:
        by_call.setdefault(record["callId"], []).append(record["type"])
    assert any(types[:2] == ["bot", "agent"] for types in by_call.values())


def test_the_calls_stream_never_asks_for_segments(sim, config):
    run = run_tap(config)
    assert run.records
    assert all("inclSegments" not in r.params for r in sim.requests)
    assert all(r["segments"] is None for r in run.records)


def test_segments_follow_the_bookmark_and_the_refresh_window():
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    calls = make_calls(30, seed=902, start=start)
    with VoicegainSimulator(calls, token=TOKEN, segments=True) as sim:
        config = {
            "jwt_token": TOKEN,
            "api_url": sim.url,
            "per_page": 10,
            "refresh_window_days": 7,
        }
        first = run_streams(config, "call_segments")
        once = [(r["callId"], r["segmentSeq"]) for r in segment_records(first)]
        assert len(once) == len(set(once))  # the refresh skips this run's calls
        second = run_streams(config, "call_segments", state=first.last_state)
    again = [(r["callId"], r["segmentSeq"]) for r in segment_records(second)]
    assert sorted(again) == sorted(once)  # re-emitted with their calls
    mark = first.last_state["bookmarks"]["call_segments"]["partitions"][0]
    assert mark["replication_key_value"] == int(calls[-1]["callId"])


def test_segments_with_calls_and_with_several_projects():
    east, west = make_calls(12, seed=903), make_calls(12, seed=904)
    with east_and_west(east, west, per_page=5) as (sim, config):
        sim.segments = True
        run = run_streams(config, "calls", "call_segments")
    calls = [
        m["record"]
        for m in run.messages
        if m["type"] == "RECORD" and m["stream"] == "calls"
    ]
    segments = segment_records(run)
    assert len(calls) == 24
    assert {r["project"] for r in segments} == {"east", "west"}
    keys = {(c["contextId"], c["callId"]) for c in calls}
    assert {(s["contextId"], s["callId"]) for s in segments} <= keys


def test_segments_stream_maps_and_flattening():
    calls = make_calls(10, seed=905)
    with VoicegainSimulator(calls, token=TOKEN, segments=True) as sim:
        config = {
            "jwt_token": TOKEN,
            "api_url": sim.url,
            "stream_maps": {"call_segments": {"notes": "__NULL__"}},
            "flattening_enabled": True,
            "flattening_max_depth": 1,
        }
        run = run_streams(config, "call_segments")
    records = segment_records(run)
    assert records
    assert all("notes" not in r for r in records)
    assert any(r.get("agent__name") for r in records)


def test_segment_batch_files_hold_what_record_messages_would(tmp_path):
    from tests.test_batch import batch_config, batched_records  # noqa: PLC0415

    calls = make_calls(30, seed=911)
    with VoicegainSimulator(calls, token=TOKEN, segments=True) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 10}
        plain = segment_records(run_streams(config, "call_segments"))
        batched = run_streams(
            {**config, "batch_config": batch_config(tmp_path)}, "call_segments"
        )
    assert segment_records(batched) == []
    assert plain
    assert batched_records(batched) == plain


def _seg(**values: t.Any) -> dict[str, t.Any]:
    return {"type": "agent", "startTime": "2026-01-01T00:00:00Z", **values}


@pytest.mark.parametrize(
    ("segments", "rows", "kept"),
    [
        ([_seg(segmentSeq=2), _seg()], 2, [{"segmentSeq": 2}, None]),
        ([_seg(segmentSeq=1), _seg(segmentSeq=1)], 2, [{"segmentSeq": 1}] * 2),
        ([_seg(segmentSeq=1.5), _seg(segmentSeq=1)], 2, [{"segmentSeq": 1.5}] * 1),
        ([_seg(segmentSeq=1), "x", _seg(segmentSeq=3)], 3, [{"segments[1]": "x"}]),
        ([None, _seg(segmentSeq=2)], 2, [{"segments[0]": None}]),
        ({"segmentSeq": 1}, 1, [{"segments": {"segmentSeq": 1}}]),
    ],
    ids=["missing", "repeated", "not whole", "a string item", "a null item", "object"],
)
def test_segments_with_bad_numbers_or_items_keep_distinct_keys_and_every_value(
    caplog, segments, rows, kept
):
    calls = make_calls(3, seed=7)
    calls[1]["segments"] = segments
    calls[1]["numSegments"] = len(segments)
    with VoicegainSimulator(calls, token=TOKEN, segments=True) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url}
        with caplog.at_level(logging.WARNING):
            run = run_streams(config, "call_segments")
    assert run.error is None
    mine = [r for r in segment_records(run) if r["callId"] == int(calls[1]["callId"])]
    # Distinct keys (an upserting target keeps every row), numbered by order.
    assert [r["segmentSeq"] for r in mine] == list(range(1, rows + 1))
    extras = [r["_extra"] for r in mine]
    for value in kept:  # every value the API sent is in a row's _extra
        assert any(value is None or value.items() <= (e or {}).items() for e in extras)
    assert any(str(calls[1]["callId"]) in r.getMessage() for r in caplog.records)


def test_with_csv_format_the_segments_are_read_through_json(sim, config):
    sim.segments = True
    run = run_streams({**config, "format": "csv"}, "calls", "call_segments")
    formats = {
        (r.params["format"][0], "inclSegments" in r.params)
        for r in sim.requests
        if r.path.endswith("/sa/call") and "consecutive" in r.params
    }
    assert formats == {("csv", False), ("json", True)}
    assert segment_records(run)


def test_a_call_whose_segments_do_not_come_is_named_once(caplog):
    calls = make_calls(10, seed=906)
    with VoicegainSimulator(calls, token=TOKEN) as sim:  # segments not played
        config = {"jwt_token": TOKEN, "api_url": sim.url}
        with caplog.at_level(logging.WARNING):
            run = run_streams(config, "call_segments")
    assert segment_records(run) == []
    if any(c.get("numSegments") for c in calls):
        warned = [r for r in caplog.records if "numSegments" in r.getMessage()]
        assert len(warned) == 1


# ------------------------------------------------------------------- filters

FILTERS = [
    ("direction", "inbound", "direction", "inbound"),
    ("internal_endpoints", ["442071838750"], "internalEndpoint", "442071838750"),
    ("voicemail", False, "voicemail", "false"),
    ("recompute_phases", ["completed", "queued"], "recomputePhase", "completed,queued"),
    ("period", "last365days", "period", "last365days"),
    ("user_group_ids", ["team-east"], "userGroupIds", "team-east"),
]


@pytest.mark.parametrize(("setting", "value", "param", "sent"), FILTERS)
def test_each_newer_filter_is_sent_and_narrows_the_export(setting, value, param, sent):
    now = dt.datetime.now(dt.timezone.utc)
    calls = make_calls(60, seed=907, start=now - dt.timedelta(days=30), full_model=True)
    with VoicegainSimulator(calls, token=TOKEN, extra_filters=True) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 25}
        everything = run_tap(config)
        sim.requests.clear()
        narrowed = run_tap({**config, setting: value})
        params = [r.params for r in sim.requests if "consecutive" in r.params]
    assert params
    assert all(p[param] == [sent] for p in params)
    assert set(narrowed.call_ids) <= set(everything.call_ids)
    assert len(narrowed.call_ids) < len(everything.call_ids) or setting == "period"


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"period": "fortnight"}, "period"),
        ({"recompute_phases": ["finished"]}, "recompute_phases"),
        ({"voicemail": "maybe"}, "voicemail"),
        ({"internal_endpoints": ["1,2"]}, "internal_endpoints"),
        # An empty id would be dropped, or sent as "": every call, not a filter.
        ({"user_group_ids": [""]}, "user_group_ids"),
        ({"internal_endpoints": [""]}, "internal_endpoints"),
        ({"agent_ids": ["q", ""]}, "agent_ids"),
        ({"queue_ids": [""]}, "queue_ids"),
        ({"aivr_app_ids": [""]}, "aivr_app_ids"),
        ({"agent_ids": ["  "]}, "agent_ids"),
    ],
)
def test_a_bad_filter_is_refused_before_any_request_naming_it(
    sim, config, change, names
):
    with pytest.raises(ConfigValidationError) as caught:
        TapVoicegain(config={**config, **change})
    assert names in str(caught.value) + " ".join(caught.value.errors)
    assert sim.requests == []


def test_a_filter_set_to_null_is_unset(sim, config):
    nulls = dict.fromkeys(["direction", "period", "format", "voicemail", "agent_ids"])
    assert run_tap({**config, **nulls}).call_ids == run_tap(config).call_ids
