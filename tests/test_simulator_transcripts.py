"""Transcripts (``/sa/{saSessionId}/transcript``) and one call (``/sa/call/{id}``)."""

from __future__ import annotations

import pytest
import requests

from voicegain_sim import (
    VoicegainSimulator,
    make_calls,
    make_transcript,
    transcript_text,
)

TOKEN = "transcript-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WORD_KEYS = {
    "utterance",
    "start",
    "duration",
    "confidence",
    "spk",
    "dtmf",
    "alternatives",
}


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def sim():
    with VoicegainSimulator(make_calls(60, seed=21), token=TOKEN) as server:
        yield server


def transcript(http, sim, session, headers=AUTH, **params) -> requests.Response:
    return http.get(
        f"{sim.url}/sa/{session}/transcript", headers=headers, params=params
    )


def done(sim) -> list[dict]:
    return [c for c in sim.calls if c["progressPhase"] == "DONE" and "saSessionId" in c]


def test_some_generated_calls_have_no_session_id():
    calls = make_calls(400, seed=5)
    without = [c for c in calls if "saSessionId" not in c]
    assert 3 <= len(without) <= 25
    sessions = [c["saSessionId"] for c in calls if "saSessionId" in c]
    assert len(set(sessions)) == len(sessions)
    assert {len(s) for s in sessions} == {20}


def test_transcript_json_shape_and_timing(sim, http):
    call = done(sim)[0]
    response = transcript(http, sim, call["saSessionId"], format="json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    sections = response.json()
    assert 2 <= len(sections) <= 8
    assert [s["spk"] for s in sections][:2] == [1, 2]
    end_of_call = call["duration"] * 1000
    previous_end = 0.0
    for section in sections:
        assert set(section) == {"start", "duration", "spk", "words"}
        assert isinstance(section["start"], int)
        assert section["start"] >= previous_end
        previous_end = section["start"] + section["duration"]
        assert previous_end <= end_of_call
        assert section["words"]
        for word in section["words"]:
            assert set(word) == WORD_KEYS
            assert isinstance(word["start"], int)
            assert isinstance(word["duration"], float)
            assert section["start"] <= word["start"] <= previous_end
            assert 0 <= word["confidence"] <= 1
            assert word["spk"] == section["spk"]
            assert isinstance(word["dtmf"], bool)
            assert isinstance(word["alternatives"], list)
    assert sections == make_transcript(call)
    assert transcript(http, sim, call["saSessionId"]).content == response.content


def test_transcripts_differ_by_call_and_hold_non_ascii_words(sim, http):
    texts = [
        transcript(http, sim, c["saSessionId"], format="text").text for c in done(sim)
    ]
    assert len(set(texts)) == len(texts)
    words = " ".join(texts).split()
    assert any(not word.isascii() for word in words)
    assert {"Zoë", "niño", "über"} & set(words)
    assert any("🙂" in text for text in texts)


def test_text_format(sim, http):
    call = done(sim)[1]
    response = transcript(http, sim, call["saSessionId"], format="text")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == transcript_text(make_transcript(call))
    assert response.text.startswith("Speaker 1: thank you for calling")
    assert transcript(http, sim, call["saSessionId"], format="xml").status_code == 400


def test_auth_and_unknown_sessions(http):
    mine, theirs = make_calls(3, seed=1), make_calls(3, seed=2, first_id=50_000)
    projects = {TOKEN: mine, "other": theirs}
    with VoicegainSimulator(projects=projects) as sim:
        session = next(c["saSessionId"] for c in mine if "saSessionId" in c)
        bad = transcript(http, sim, session, headers={"Authorization": "Bearer x"})
        assert bad.status_code == 401
        assert bad.json()["status"] == 401
        assert transcript(http, sim, session, headers={}).status_code == 401
        other = transcript(
            http, sim, session, headers={"Authorization": "Bearer other"}
        )
        assert other.status_code == 404
        unknown = transcript(http, sim, "nope")
        assert unknown.status_code == 404
        assert unknown.json() == {
            "status": 404,
            "message": "Speech Analytics session nope not found",
        }
        assert sim.transcript_state("nope") == "unknown"


def test_error_calls_have_no_transcript_and_unfinished_ones_are_in_progress(sim, http):
    error_call, processing_call = done(sim)[2], done(sim)[3]
    sim.set_phase(int(error_call["callId"]), "ERROR")
    sim.set_phase(int(processing_call["callId"]), "PROCESSING")
    failed = transcript(http, sim, error_call["saSessionId"])
    assert failed.status_code == 404
    assert "ERROR" in failed.json()["message"]
    pending = transcript(http, sim, processing_call["saSessionId"])
    assert pending.status_code == 400
    assert "in progress" in pending.json()["message"]
    assert sim.transcript_state(processing_call["saSessionId"]) == "pending"
    sim.set_phase(int(processing_call["callId"]), "DONE")
    assert transcript(http, sim, processing_call["saSessionId"]).status_code == 200


def test_pending_and_missing_transcripts_by_list_and_by_mark(http):
    calls = [c for c in make_calls(20, seed=3) if "saSessionId" in c]
    for call in calls:
        call["progressPhase"] = "DONE"
    first, second, third = (c["saSessionId"] for c in calls[:3])
    with VoicegainSimulator(
        calls,
        token=TOKEN,
        transcripts_pending=[first],
        transcripts_missing=[second],
    ) as sim:
        assert [
            transcript(http, sim, s).status_code for s in (first, second, third)
        ] == [
            400,
            404,
            200,
        ]
        assert transcript(http, sim, second).json()["message"] == (
            f"Transcript of session {second} not found"
        )
        sim.set_transcript(first, "ready")
        sim.set_transcript(third, "pending")
        assert transcript(http, sim, first).status_code == 200
        assert transcript(http, sim, third).status_code == 400
        sim.set_transcript(third, "missing")
        assert transcript(http, sim, third).status_code == 404
        with pytest.raises(ValueError, match="transcript state"):
            sim.set_transcript(third, "gone")


def test_fractions_pick_the_same_sessions_every_time(http):
    calls = [c for c in make_calls(200, seed=4) if "saSessionId" in c]
    for call in calls:
        call["progressPhase"] = "DONE"
    options = {"transcripts_pending_fraction": 0.3, "transcripts_missing_fraction": 0.2}
    with (
        VoicegainSimulator(calls, token=TOKEN, **options) as sim,
        VoicegainSimulator(calls, token=TOKEN, **options) as again,
    ):
        sessions = [c["saSessionId"] for c in calls]
        codes = [transcript(http, sim, s).status_code for s in sessions]
        assert codes == [transcript(http, again, s).status_code for s in sessions]
        assert 40 <= codes.count(400) <= 80
        assert 20 <= codes.count(404) <= 60
        expected = {"ready": 200, "pending": 400, "missing": 404}
        assert codes == [expected[sim.transcript_state(s)] for s in sessions]
    with pytest.raises(ValueError, match="fractions"):
        VoicegainSimulator(
            calls, transcripts_pending_fraction=0.8, transcripts_missing_fraction=0.3
        )


def test_transcript_requests_are_recorded_and_take_their_own_faults(sim, http):
    session = done(sim)[0]["saSessionId"]
    sim.inject("status", code=503, endpoint="transcript")
    assert http.get(f"{sim.url}/sa/call", headers=AUTH).status_code == 200
    assert transcript(http, sim, session).status_code == 503
    assert transcript(http, sim, session).status_code == 200
    recorded = sim.requests_to("transcript")
    assert [r.status for r in recorded] == [503, 200]
    assert {r.path for r in recorded} == {f"/v1/sa/{session}/transcript"}
    assert [r.endpoint for r in sim.requests] == ["calls", "transcript", "transcript"]
    sim.inject("reset", endpoint="any")
    with pytest.raises(requests.ConnectionError):
        transcript(http, sim, session)
    with pytest.raises(ValueError, match="endpoint"):
        sim.inject("reset", endpoint="data")


# ------------------------------------------------------------- one call


def test_one_call_is_the_list_item(sim, http):
    listed = http.get(f"{sim.url}/sa/call", headers=AUTH, params={"per_page": 5}).json()
    for item in listed:
        one = http.get(f"{sim.url}/sa/call/{item['callId']}", headers=AUTH)
        assert one.status_code == 200
        assert one.headers["Content-Type"] == "application/json"
        assert one.json() == item
    assert sim.requests_to("call")[0].path == f"/v1/sa/call/{listed[0]['callId']}"


def test_one_call_errors_and_live_changes(sim, http):
    call_id = int(sim.calls[4]["callId"])
    url = f"{sim.url}/sa/call/{call_id}"
    assert http.get(url, headers={"Authorization": "Bearer x"}).status_code == 401
    missing = http.get(f"{sim.url}/sa/call/1", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json() == {"status": 404, "message": "Call 1 not found"}
    assert http.get(f"{sim.url}/sa/call/abc", headers=AUTH).status_code == 400
    sim.set_phase(call_id, "PROCESSING")
    assert http.get(url, headers=AUTH).json()["progressPhase"] == "PROCESSING"


def test_one_call_follows_callid_as(http):
    with VoicegainSimulator(make_calls(3), token=TOKEN, callid_as="number") as sim:
        call_id = sim.calls[0]["callId"]
        body = http.get(f"{sim.url}/sa/call/{call_id}", headers=AUTH).json()
        assert body["callId"] == int(call_id)
