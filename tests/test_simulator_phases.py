"""Progress phases: all 11 of the vendor's, STOPPED, RECOMPUTING, imported calls."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from voicegain_sim import VoicegainSimulator, make_calls
from voicegain_sim.data import PROGRESS_PHASES, imported_calls
from voicegain_sim.times import parse_rfc3339

TOKEN = "phases-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UNFINISHED = [p for p in PROGRESS_PHASES if p not in {"DONE", "ERROR"}]


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def get(http, sim, path="/sa/call", **params) -> requests.Response:
    return http.get(f"{sim.url}{path}", headers=AUTH, params=params, timeout=10)


def ids(response: requests.Response) -> list[int]:
    return [int(call["callId"]) for call in response.json()]


def test_the_eleven_phases_of_the_vendor_model():
    assert len(PROGRESS_PHASES) == 11
    assert set(UNFINISHED) == {
        "INPUT_READY",
        "ACCEPTED",
        "WAITING",
        "QUEUED",
        "FETCHING",
        "FETCHED",
        "PROCESSING",
        "STOPPED",
        "RECOMPUTING",
    }


def test_phases_change_nothing_else_in_the_generated_data():
    plain = make_calls(30, seed=12)
    phased = make_calls(30, seed=12, phases={3: "STOPPED", 7: "RECOMPUTING"})
    assert phased[3]["progressPhase"] == "STOPPED"
    assert phased[7]["progressPhase"] == "RECOMPUTING"
    assert phased[7]["recomputePhase"] == "processing"
    del phased[7]["recomputePhase"]
    for index, (a, b) in enumerate(zip(plain, phased, strict=True)):
        if index not in {3, 7}:
            assert a == b
        else:
            assert {k: v for k, v in a.items() if k != "progressPhase"} == {
                k: v for k, v in b.items() if k != "progressPhase"
            }


def test_unknown_phase_is_refused():
    with pytest.raises(ValueError, match="DONE_ISH"):
        make_calls(3, phases={0: "DONE_ISH"})
    with pytest.raises(ValueError, match="unknown phase"):
        imported_calls(make_calls(2), 2, phase="done")


@pytest.mark.parametrize("phase", UNFINISHED)
def test_consecutive_stops_at_every_phase_but_done_and_error(http, phase):
    calls = make_calls(10, seed=13, phases={2: "ERROR", 5: phase})
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        got = ids(get(http, sim, consecutive="true"))
        everything = ids(get(http, sim))
    assert got == [int(c["callId"]) for c in calls[:5]]
    assert len(everything) == 10


def test_a_stopped_call_never_finishes_and_has_no_transcript(http):
    calls = make_calls(6, seed=14, phases={1: "STOPPED"})
    session = calls[1]["saSessionId"]
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        assert len(ids(get(http, sim, consecutive="true"))) == 1
        assert get(http, sim, f"/sa/{session}/transcript").status_code == 404
        assert sim.transcript_state(session) == "failed"


def test_a_recomputing_call_holds_back_consecutive_then_completes(http):
    calls = make_calls(6, seed=15)
    target = int(calls[2]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        sim.set_phase(target, "RECOMPUTING")
        one = get(http, sim, f"/sa/call/{target}").json()
        assert one["progressPhase"] == "RECOMPUTING"
        assert one["recomputePhase"] == "processing"
        assert len(ids(get(http, sim, consecutive="true"))) == 2
        # the old transcript stays readable while sentiment etc. are recomputed
        session = calls[2]["saSessionId"]
        assert get(http, sim, f"/sa/{session}/transcript").status_code == 200
        sim.set_phase(target, "DONE")
        done = get(http, sim, f"/sa/call/{target}").json()
        assert done["recomputePhase"] == "completed"
        assert len(ids(get(http, sim, consecutive="true"))) == 6


def test_imported_calls_have_new_ids_and_old_start_times():
    existing = make_calls(20, seed=16)
    now = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
    new = imported_calls(existing, 5, age=timedelta(days=30), now=now)
    assert len(new) == 5
    top = max(int(c["callId"]) for c in existing)
    assert [int(c["callId"]) for c in new] == sorted(int(c["callId"]) for c in new)
    assert min(int(c["callId"]) for c in new) > top
    starts = [parse_rfc3339(c["startTime"]) for c in new]
    assert starts[0] == now - timedelta(days=30)
    assert all(now - s > timedelta(days=29) for s in starts)
    assert {c["progressPhase"] for c in new} == {"QUEUED"}
    assert {c["contextId"] for c in new} == {existing[0]["contextId"]}
    assert imported_calls(existing, 5, age=timedelta(days=30), now=now) == new


def test_imported_backlog_holds_back_consecutive_until_done(http):
    calls = make_calls(10, seed=17)
    for call in calls:
        call["progressPhase"] = "DONE"
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        backlog = sim.add_imported(4, age=timedelta(days=12), phase="PROCESSING")
        later = sim.add_generated(3)
        newest_start = max(parse_rfc3339(c["startTime"]) for c in calls)
        for call in backlog:
            assert newest_start - parse_rfc3339(call["startTime"]) >= timedelta(days=11)
        assert len(ids(get(http, sim, consecutive="true"))) == 10
        by_time = ids(get(http, sim, sort_by="time"))
        assert by_time[:4] == [int(c["callId"]) for c in backlog]  # oldest calls
        for call in backlog:
            sim.set_phase(int(call["callId"]), "DONE")
        flowing = ids(get(http, sim, consecutive="true"))
    assert flowing[-7:] == [int(c["callId"]) for c in backlog + later]
