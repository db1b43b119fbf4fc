"""The transcripts stream: opt-in, one request per finished call, its own bookmark."""

from __future__ import annotations

import json
import logging
import typing as t

import pytest

from tap_voicegain.records.transcripts import clock
from tap_voicegain.tap import TapVoicegain
from tests.helpers import east_and_west
from tests.singer_output import run_tap
from tests.transcript_support import (
    FAST,
    bookmark_of,
    catalog,
    expected_text,
    session_of,
    transcript_records,
    with_transcript,
)
from voicegain_sim import VoicegainSimulator, make_calls, make_transcript

TRANSCRIPT_PATH = "/sa/{saSessionId}/transcript"

if t.TYPE_CHECKING:
    from collections.abc import Iterator

TOKEN = "transcripts-token"


@pytest.fixture
def calls() -> list[dict[str, t.Any]]:
    found = make_calls(120, seed=11)
    # Every case in one list: an ERROR call and a call without a session.
    found[3]["progressPhase"] = "ERROR"
    found[5].pop("saSessionId", None)
    return found


@pytest.fixture
def sim(calls: list[dict[str, t.Any]]) -> Iterator[VoicegainSimulator]:
    with VoicegainSimulator(calls, token=TOKEN) as server:
        yield server


@pytest.fixture
def config(sim: VoicegainSimulator) -> dict[str, t.Any]:
    return {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 25, **FAST}


def run_transcripts(config, state=None, *, streams=("transcripts",), **kw):
    return run_tap(config, state, catalog=catalog(config, *streams), **kw)


def summaries(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if getattr(r, "pass", None) == "transcripts" and hasattr(r, "ended_because")
    ]


# ------------------------------------------------------------ selection


def test_without_a_catalog_transcripts_are_not_read(sim, config):
    run = run_tap(config)
    assert sim.requests_to("transcript") == []
    streams = {m.get("stream") for m in run.messages if m["type"] != "STATE"}
    assert streams == {"calls"}  # no SCHEMA, no RECORD of transcripts
    assert "transcripts" not in run.last_state["bookmarks"]


def test_the_discovered_catalog_leaves_transcripts_unselected(sim, config):
    found = TapVoicegain(config=config).catalog_dict
    entry = next(s for s in found["streams"] if s["tap_stream_id"] == "transcripts")
    root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
    assert root["metadata"]["selected-by-default"] is False
    run = run_tap(config, catalog=found)  # passed back as discovered
    assert sim.requests_to("transcript") == []
    assert {m.get("stream") for m in run.messages if m["type"] == "SCHEMA"} == {"calls"}


def test_selected_it_writes_one_record_per_done_call_with_a_session(sim, config, calls):
    run = run_transcripts(config, streams=("calls", "transcripts"))
    wanted = with_transcript(calls)
    records = transcript_records(run.messages)
    assert [r["callId"] for r in records] == [int(c["callId"]) for c in wanted]
    asked = [session_of(r.path) for r in sim.requests_to("transcript")]
    assert asked == [c["saSessionId"] for c in wanted]  # ERROR, no session: none
    assert calls[3]["saSessionId"] not in asked
    first = records[0]
    assert first["saSessionId"] == wanted[0]["saSessionId"]
    assert first["contextId"] == calls[0]["contextId"]
    assert first["project"] == "default"
    assert first["startTime"].startswith(wanted[0]["startTime"][:19])
    assert first["words"] is None  # transcript_words is off by default
    # Both streams, each with its own bookmark at the last call.
    last = int(calls[-1]["callId"])
    assert bookmark_of(run.last_state, "transcripts") == last
    assert bookmark_of(run.last_state, "calls") == last


def test_text_matches_the_words_in_order(sim, config, calls):
    run = run_transcripts({**config, "transcript_words": True})
    by_id = {int(c["callId"]): c for c in calls}
    records = transcript_records(run.messages)
    assert len(records) > 100
    for record in records:
        call = by_id[record["callId"]]
        sections = make_transcript(call)
        assert record["text"] == expected_text(call)
        assert [s["text"] for s in record["sections"]] == [
            " ".join(w["utterance"] for w in s["words"]) for s in sections
        ]
        words = [w for s in sections for w in s["words"]]
        assert [w["utterance"] for w in record["words"]] == [
            w["utterance"] for w in words
        ]
        assert [(w["start"], w["spk"], w["dtmf"]) for w in record["words"]] == [
            (w["start"], w["spk"], w["dtmf"]) for w in words
        ]
        assert record["sectionCount"] == len(sections)
        assert record["wordCount"] == len(words)
        talk = {
            spk: round(sum(s["duration"] for s in sections if s["spk"] == spk), 1)
            for spk in {s["spk"] for s in sections}
        }
        assert {s["spk"]: s["talkMs"] for s in record["speakers"]} == talk
    # The generated data does exercise non-ASCII words and key presses.
    assert any("Zoë" in r["text"] or "niño" in r["text"] for r in records)
    assert any(w["dtmf"] for r in records for w in r["words"])


def test_clock_of_a_section_start():
    assert [clock(0), clock(61_999), clock(3_725_000), clock(None)] == [
        "00:00",
        "01:01",
        "1:02:05",
        "--:--",
    ]


# -------------------------------------------------------------- answers


def test_a_404_is_passed_logged_without_content_and_not_asked_again(
    config, calls, caplog
):
    gone = calls[10]
    with VoicegainSimulator(
        calls, token=TOKEN, transcripts_missing=[gone["saSessionId"]]
    ) as sim:
        config = {**config, "api_url": sim.url}
        with caplog.at_level(logging.INFO):
            run = run_transcripts(config)
        ids = [r["callId"] for r in transcript_records(run.messages)]
        assert int(gone["callId"]) not in ids
        assert len(ids) == len(with_transcript(calls)) - 1
        line = next(r for r in caplog.records if "HTTP 404" in r.getMessage())
        assert line.getMessage() == (
            f"Project default: callId {gone['callId']} has no transcript "
            "(HTTP 404); passed"
        )
        assert gone["saSessionId"] not in caplog.text  # not even the API's words
        (summary,) = summaries(caplog)
        assert summary.missing == 1
        # The bookmark passed it: the next run asks for nothing.
        asked = len(sim.requests_to("transcript"))
        again = run_transcripts(config, run.last_state)
        assert transcript_records(again.messages) == []
        assert len(sim.requests_to("transcript")) == asked


def test_a_400_ends_the_pass_just_before_that_call(config, calls, caplog):
    pending = with_transcript(calls)[30]
    with VoicegainSimulator(
        calls, token=TOKEN, transcripts_pending=[pending["saSessionId"]]
    ) as sim:
        # The simulator's calls are from 2024: a recent call's transcript waits.
        config = {**config, "api_url": sim.url, "max_processing_hours": 10**6}
        with caplog.at_level(logging.INFO):
            run = run_transcripts(config)
        ids = [r["callId"] for r in transcript_records(run.messages)]
        before = [int(c["callId"]) for c in with_transcript(calls)[:30]]
        assert ids == before
        position = calls.index(pending)
        assert bookmark_of(run.last_state) == int(calls[position - 1]["callId"])
        (summary,) = summaries(caplog)
        assert summary.ended_because.startswith(
            f"the transcript of callId {pending['callId']} is not ready (HTTP 400"
        )
        # Nothing after the pending call was asked for.
        asked = [session_of(r.path) for r in sim.requests_to("transcript")]
        assert asked[-1] == pending["saSessionId"]

        sim.set_transcript(pending["saSessionId"], "ready")
        caplog.clear()
        resumed = run_transcripts(config, run.last_state)
        more = [r["callId"] for r in transcript_records(resumed.messages)]
        assert more[0] == int(pending["callId"])
        assert ids + more == [int(c["callId"]) for c in with_transcript(calls)]


def test_a_transcript_not_ready_for_too_long_is_stepped_over_and_read_later(
    config, calls, caplog
):
    pending = with_transcript(calls)[5]
    with VoicegainSimulator(
        calls, token=TOKEN, transcripts_pending=[pending["saSessionId"]]
    ) as sim:
        config = {**config, "api_url": sim.url}  # calls from 2024: > 24 h ago
        with caplog.at_level(logging.WARNING):
            run = run_transcripts(config)
        ids = [r["callId"] for r in transcript_records(run.messages)]
        everyone = [int(c["callId"]) for c in with_transcript(calls)]
        assert ids == [i for i in everyone if i != int(pending["callId"])]
        partition = run.last_state["bookmarks"]["transcripts"]["partitions"][0]
        assert partition["stuck_call_ids"] == [int(pending["callId"])]
        assert any(
            f"callId {pending['callId']}" in r.getMessage()
            and "max_processing_hours" in r.getMessage()
            for r in caplog.records
        )
        again = run_transcripts(config, run.last_state)  # still not ready
        assert transcript_records(again.messages) == []
        sim.set_transcript(pending["saSessionId"], "ready")
        last = run_transcripts(config, again.last_state)
        assert [r["callId"] for r in transcript_records(last.messages)] == [
            int(pending["callId"])
        ]
        final = last.last_state["bookmarks"]["transcripts"]["partitions"][0]
        assert "stuck_call_ids" not in final


def test_a_429_is_retried_and_its_wait_counted(sim, config, calls, caplog):
    sim.inject("status", code=429, retry_after="1", times=2, endpoint="transcript")
    with caplog.at_level(logging.INFO):
        run = run_transcripts(config)
    ids = [r["callId"] for r in transcript_records(run.messages)]
    assert ids == [int(c["callId"]) for c in with_transcript(calls)]
    (summary,) = summaries(caplog)
    # Two waits of Retry-After 1 s, each capped at retry_wait_max (0.05 s).
    assert summary.rate_limit_wait_seconds == 0.1
    assert summary.requests == len(ids) + 2


def test_a_bad_transcript_body_is_skipped_and_remembered_without_quoting_it(
    sim, config, caplog
):
    sim.inject(
        "raw",
        endpoint="transcript",
        body='[{"start": 0, "words": [{"utterance": "Private-Word-Zoë"',
        content_type="application/json",
    )
    with caplog.at_level(logging.INFO):
        run = run_transcripts(config)
    first = int(with_transcript(sim.calls)[0]["callId"])
    ids = [r["callId"] for r in transcript_records(run.messages)]
    assert ids == [int(c["callId"]) for c in with_transcript(sim.calls)][1:]
    partition = run.last_state["bookmarks"]["transcripts"]["partitions"][0]
    assert partition["stuck_call_ids"] == [first]
    (warning,) = [
        r for r in caplog.records if f"callId {first} skipped" in r.getMessage()
    ]
    assert "JSON that does not parse" in warning.getMessage()
    assert "Private-Word" not in caplog.text


def test_a_value_that_does_not_fit_is_kept_raw_and_named(sim, config, caplog):
    sim.inject(
        "raw",
        endpoint="transcript",
        body='[{"start": "soon", "duration": 5, "spk": 1,'
        ' "words": [{"utterance": "Private-Word", "start": 1}]}]',
        content_type="application/json",
    )
    with caplog.at_level(logging.WARNING):
        run = run_transcripts(config)
    first = transcript_records(run.messages)[0]
    assert first["sections"] == [
        {"start": None, "duration": 5.0, "spk": 1, "text": "Private-Word"}
    ]
    assert first["text"] == "[--:--] Speaker 1: Private-Word"
    assert first["_extra"] == {"sections[0].start": "soon"}
    assert "sections[0].start" in caplog.text
    assert "soon" not in caplog.text
    assert "Private-Word" not in caplog.text


# ------------------------------------------------------- budget and state


def test_transcripts_per_run_ends_the_pass_and_the_next_run_continues(
    sim, config, calls, caplog
):
    wanted = [int(c["callId"]) for c in with_transcript(calls)]
    limited = {**config, "transcripts_per_run": 7}
    with caplog.at_level(logging.INFO):
        first = run_transcripts(limited)
    assert [r["callId"] for r in transcript_records(first.messages)] == wanted[:7]
    assert len(sim.requests_to("transcript")) == 7
    mark = bookmark_of(first.last_state)
    assert wanted[6] <= mark < wanted[7]
    (summary,) = summaries(caplog)
    assert summary.ended_because.startswith("transcripts_per_run (7) was reached")
    second = run_transcripts(limited, first.last_state)
    assert [r["callId"] for r in transcript_records(second.messages)] == wanted[7:14]


def test_state_follows_every_ten_calls(sim, config, calls):
    run = run_transcripts(config)
    marks = []
    written = 0
    for message in run.messages:
        if message["type"] == "RECORD":
            written += 1
        elif message["type"] == "STATE":
            marks.append((written, bookmark_of(message["value"])))
    ids = [int(c["callId"]) for c in calls]
    # A STATE after the 10th, 20th, ... call walked, at that call.
    assert (8, ids[9]) in marks  # calls[3] and calls[5] got no record
    assert (18, ids[19]) in marks
    assert marks[-1] == (len(with_transcript(calls)), ids[-1])


def test_the_bookmark_is_independent_of_the_calls_bookmark(sim, config, calls):
    state = {
        "bookmarks": {
            "calls": {
                "partitions": [
                    {
                        "context": {"project": "default"},
                        "replication_key": "callId",
                        "replication_key_value": int(calls[-1]["callId"]),
                    }
                ]
            }
        }
    }
    run = run_transcripts(config, state, streams=("calls", "transcripts"))
    assert [r["callId"] for r in transcript_records(run.messages)] == [
        int(c["callId"]) for c in with_transcript(calls)
    ]
    assert run.records and all("text" in r for r in run.records)  # no new calls


def test_filters_apply_to_the_call_list_it_walks(sim, config, calls):
    agent = calls[0]["agent"]["agentId"]
    run = run_transcripts({**config, "agent_ids": [agent]})
    walked = sim.requests_to("calls")
    assert all(r.params.get("agentId") == [agent] for r in walked)
    *pages, peek = walked
    assert all(r.params.get("consecutive") == ["true"] for r in pages)
    # After the short page, one look at what follows, processing or not
    # (README "Stuck calls"): without consecutive, with the filters.
    assert "consecutive" not in peek.params
    assert peek.params.get("per_page") == ["1"]
    assert transcript_records(run.messages)


# ------------------------------------------------------------- projects


def test_each_project_has_its_own_bookmark_and_the_budget_spans_them():
    first_calls = make_calls(30, seed=31)
    second_calls = make_calls(30, seed=32)
    settings = {"per_page": 10, **FAST}
    with east_and_west(first_calls, second_calls, **settings) as (sim, config):
        run = run_transcripts(config)
        records = transcript_records(run.messages)
        by_project = {
            name: [
                (r["contextId"], r["callId"]) for r in records if r["project"] == name
            ]
            for name in ("east", "west")
        }
        assert by_project == {
            "east": [
                (c["contextId"], int(c["callId"])) for c in with_transcript(first_calls)
            ],
            "west": [
                (c["contextId"], int(c["callId"]))
                for c in with_transcript(second_calls)
            ],
        }
        schema = next(
            m
            for m in run.messages
            if m["type"] == "SCHEMA" and m["stream"] == "transcripts"
        )
        assert schema["key_properties"] == ["contextId", "callId"]
        assert bookmark_of(run.last_state, project="east") == int(
            first_calls[-1]["callId"]
        )
        assert bookmark_of(run.last_state, project="west") == int(
            second_calls[-1]["callId"]
        )

        # A budget of 40 requests reads east whole and west in part, both
        # resumable.
        east = len(with_transcript(first_calls))
        asked = len(sim.requests_to("transcript"))
        limited = run_transcripts({**config, "transcripts_per_run": 40})
        west = [
            r for r in transcript_records(limited.messages) if r["project"] == "west"
        ]
        assert len(sim.requests_to("transcript")) - asked == 40
        assert len(transcript_records(limited.messages)) == 40
        assert len(west) == 40 - east
        assert bookmark_of(limited.last_state, project="west") >= west[-1]["callId"]


def test_under_a_tight_rate_limit_it_waits_instead_of_being_throttled(calls, caplog):
    # 4 requests a second, about 20 transcripts: the window is spent several times.
    with VoicegainSimulator(calls[:24], token=TOKEN, rate_limits=((4, 1.0),)) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 50}
        with caplog.at_level(logging.INFO):
            run = run_transcripts(config)
        assert sim.throttled_count == 0
        asked = len(sim.requests_to("transcript"))
    assert len(transcript_records(run.messages)) == asked > 4
    (summary,) = summaries(caplog)
    assert summary.rate_limit_wait_seconds > 1
    assert "waiting for the rate limit)" in summary.getMessage()


def test_every_transcript_request_is_timed_in_the_sdks_metric(sim, config, caplog):
    with caplog.at_level(logging.INFO, logger="singer_sdk.metrics"):
        run_transcripts(config)
    timed = [
        json.loads(r.getMessage().removeprefix("METRIC: "))
        for r in caplog.records
        if "http_request_duration" in r.getMessage()
    ]
    transcript = [m for m in timed if m["tags"]["endpoint"] == TRANSCRIPT_PATH]
    assert len(transcript) == len(sim.requests_to("transcript"))
    # The endpoint's template, never a session id.
    sessions = {c["saSessionId"] for c in sim.calls if c.get("saSessionId")}
    assert not any(s in json.dumps(m) for m in transcript for s in sessions)
