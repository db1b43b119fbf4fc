"""Transcripts behind a call stuck in processing: stepped over, not lost."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import typing as t

import pytest

from tap_voicegain.sdk import RecordWriter
from tap_voicegain.tap import TapVoicegain
from tests.helpers import east_and_west, run_tap
from tests.transcript_support import (
    FAST,
    bookmark_of,
    catalog,
    expected_text,
    session_of,
    transcript_records,
    with_transcript,
)
from voicegain_sim import VoicegainSimulator, make_calls

TOKEN = "stuck-transcripts-token"


def run_transcripts(config, state=None, *, streams=("transcripts",)):
    return run_tap(config, state, catalog=catalog(config, *streams))


def ids(calls: list[dict[str, t.Any]]) -> list[int]:
    return [int(c["callId"]) for c in calls]


def written(run) -> list[int]:
    return [r["callId"] for r in transcript_records(run.messages)]


def stuck_of(state: dict[str, t.Any], stream: str = "transcripts") -> list[int]:
    """The stuck callIds the default project's partition of ``stream`` holds."""
    for part in state["bookmarks"][stream]["partitions"]:
        if part["context"] == {"project": "default"}:
            return t.cast("list[int]", part.get("stuck_call_ids", []))
    return []


def lookups(sim: VoicegainSimulator) -> list[str]:
    return [r.path for r in sim.requests_to("call")]


def asked(sim: VoicegainSimulator) -> list[str]:
    return [session_of(r.path) for r in sim.requests_to("transcript")]


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "sdk-path"])
def test_a_stuck_call_is_stepped_over_and_its_transcript_emitted_once_done(
    monkeypatch, caplog, fast
):
    if not fast:  # the SDK's own path, with its sort check on the bookmark
        monkeypatch.setattr(RecordWriter, "identity", False)
    calls = make_calls(60, seed=71, processing_at=[20])  # started in 2024
    stuck = calls[20]
    stuck_id, session = int(stuck["callId"]), stuck["saSessionId"]
    others = ids(with_transcript(calls))
    last = int(calls[-1]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 25, **FAST}
        with caplog.at_level(logging.WARNING):
            first = run_transcripts(config)
        # Every later transcript is written; the stuck call is remembered.
        assert written(first) == others
        assert bookmark_of(first.last_state) == last
        assert stuck_of(first.last_state) == [stuck_id]
        assert session not in asked(sim)
        assert any(
            f"callId {stuck_id} (PROCESSING since" in r.getMessage()
            for r in caplog.records
        )

        # Still processing: one look-up, no transcript request, still kept.
        caplog.clear()
        before = len(asked(sim))
        with caplog.at_level(logging.INFO):
            second = run_transcripts(config, first.last_state)
        assert written(second) == []
        assert lookups(sim) == [f"/v1/sa/call/{stuck_id}"]
        assert len(asked(sim)) == before
        assert stuck_of(second.last_state) == [stuck_id]
        assert "1 still not done" in caplog.text

        sim.set_phase(stuck_id, "DONE")
        third = run_transcripts(config, second.last_state)
    (late,) = transcript_records(third.messages)
    assert late["callId"] == stuck_id
    assert late["saSessionId"] == session
    assert late["text"] == expected_text(stuck)
    assert bookmark_of(third.last_state) == last  # never moves back
    assert stuck_of(third.last_state) == []
    everything = written(first) + written(second) + written(third)
    assert sorted(everything) == sorted([*others, stuck_id])  # none lost or twice


def test_each_stream_keeps_its_own_stuck_calls():
    calls = make_calls(40, seed=72, processing_at=[10])
    stuck_id = int(calls[10]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, **FAST}
        both = ("calls", "transcripts")
        first = run_transcripts(config, streams=both)
        assert stuck_of(first.last_state, "calls") == [stuck_id]
        assert stuck_of(first.last_state, "transcripts") == [stuck_id]
        sim.set_phase(stuck_id, "DONE")
        second = run_transcripts(config, first.last_state, streams=both)
    late = [
        (m["stream"], m["record"]["callId"])
        for m in second.messages
        if m["type"] == "RECORD"
    ]
    assert late == [("calls", stuck_id), ("transcripts", stuck_id)]
    assert stuck_of(second.last_state, "calls") == []
    assert stuck_of(second.last_state, "transcripts") == []


def test_a_stuck_call_that_errs_is_forgotten_without_a_request_one_gone_is_kept(
    caplog,
):
    calls = make_calls(50, seed=73, processing_at=[10, 30])
    failed, deleted = int(calls[10]["callId"]), int(calls[30]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, **FAST}
        first = run_transcripts(config)
        assert stuck_of(first.last_state) == [failed, deleted]
        sim.set_phase(failed, "ERROR")
        sim.delete_call(deleted)
        before = asked(sim)
        with caplog.at_level(logging.WARNING):
            second = run_transcripts(config, first.last_state)
        assert asked(sim) == before  # ERROR: no transcript to ask for
    assert written(second) == []
    # A 404 may pass: the call is kept until give_up_after_hours has passed.
    assert stuck_of(second.last_state) == [deleted]
    assert f"callId {deleted} skipped for this run" in caplog.text
    assert "HTTP 404" in caplog.text
    assert bookmark_of(second.last_state) == int(calls[-1]["callId"])


def test_a_done_stuck_call_whose_transcript_is_not_ready_is_asked_again(caplog):
    calls = make_calls(30, seed=74, processing_at=[5])
    stuck_id, session = int(calls[5]["callId"]), calls[5]["saSessionId"]
    with VoicegainSimulator(calls, token=TOKEN, transcripts_pending=[session]) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, **FAST}
        first = run_transcripts(config)
        sim.set_phase(stuck_id, "DONE")
        with caplog.at_level(logging.INFO):
            second = run_transcripts(config, first.last_state)
        assert asked(sim)[-1] == session  # asked, answered 400
        assert written(second) == []
        assert stuck_of(second.last_state) == [stuck_id]
        assert "1 still not done" in caplog.text
        details = second.last_state["bookmarks"]["transcripts"]["partitions"][0]
        why = details["stuck_calls"][str(stuck_id)]["last"]
        assert why == f"the transcript of callId {stuck_id} is not ready (HTTP 400)"
        sim.set_transcript(session, "ready")
        third = run_transcripts(config, second.last_state)
    assert written(third) == [stuck_id]
    assert stuck_of(third.last_state) == []


def test_transcripts_per_run_also_counts_the_late_transcripts():
    calls = make_calls(40, seed=75, processing_at=[10, 20])
    stuck = ids([calls[10], calls[20]])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, **FAST}
        first = run_transcripts(config)
        for call_id in stuck:
            sim.set_phase(call_id, "DONE")
        limited = {**config, "transcripts_per_run": 1}
        second = run_transcripts(limited, first.last_state)
        third = run_transcripts(limited, second.last_state)
    assert written(second) == [stuck[0]]
    assert stuck_of(second.last_state) == [stuck[1]]  # over budget: next run
    assert written(third) == [stuck[1]]
    assert stuck_of(third.last_state) == []


def test_dry_run_stops_at_one_transcript_over_all_projects(caplog):
    east_calls, west_calls = make_calls(20, seed=76), make_calls(20, seed=77)
    with east_and_west(east_calls, west_calls, **FAST) as (sim, config):
        tap = TapVoicegain(config=config, state={}, setup_mapper=True)
        stream = tap.streams["transcripts"]
        stream.selected = True  # as a catalog selecting it would
        with (
            contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO())),
            caplog.at_level(logging.INFO),
        ):
            assert tap.run_sync_dry_run(dry_run_record_limit=1, streams=[stream])
        sessions = asked(sim)
    assert sessions == [with_transcript(east_calls)[0]["saSessionId"]]
    assert "Project west: not read (stopped after the first record (--test))" in (
        caplog.text
    )
    assert "aborted" not in caplog.text.lower()


def test_dry_run_ends_at_a_late_transcript_as_a_success(caplog):
    calls = make_calls(20, seed=78)
    late = calls[4]
    state = {
        "bookmarks": {
            "transcripts": {
                "partitions": [
                    {
                        "context": {"project": "default"},
                        "replication_key": "callId",
                        "replication_key_value": int(calls[10]["callId"]),
                        "stuck_call_ids": [int(late["callId"])],
                    }
                ]
            }
        }
    }
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, **FAST}
        tap = TapVoicegain(config=config, state=state, setup_mapper=True)
        tap.streams["transcripts"].selected = True  # as a catalog selecting it would
        out = io.BytesIO()
        text = io.TextIOWrapper(out, write_through=True)
        with (
            contextlib.redirect_stdout(text),
            caplog.at_level(logging.INFO),
        ):
            assert tap.run_sync_dry_run(
                dry_run_record_limit=1, streams=[tap.streams["transcripts"]]
            )
        assert asked(sim) == [late["saSessionId"]]
        assert sim.requests_to("calls") == []  # the walk was not started
    records = [
        m for m in map(json.loads, out.getvalue().splitlines()) if m["type"] == "RECORD"
    ]
    assert [m["record"]["callId"] for m in records] == [int(late["callId"])]
    (summary,) = [r for r in caplog.records if hasattr(r, "ended_because")]
    assert summary.ended_because == "stopped after the first record (--test)"
