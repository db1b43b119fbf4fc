"""A call stuck in processing does not hold back the calls after it, and is not lost."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from tap_voicegain.streams import walk as stuck_module
from tests.helpers import TOKEN, bookmark, east_and_west, partition, run_tap
from voicegain_sim import VoicegainSimulator, make_calls


def ids(calls: list[dict]) -> list[int]:
    return [int(c["callId"]) for c in calls]


def lookups(sim: VoicegainSimulator) -> list[str]:
    """Paths of the GET /sa/call/{callId} requests the simulator received."""
    return [r.path for r in sim.requests if "/sa/call/" in r.path]


@pytest.mark.parametrize("final_phase", ["DONE", "ERROR"])
def test_a_stuck_call_is_stepped_over_and_emitted_once_it_finishes(caplog, final_phase):
    calls = make_calls(100, seed=61, processing_at=[30])  # started in 2024
    stuck = int(calls[30]["callId"])
    others = ids(calls[:30] + calls[31:])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 20}
        with caplog.at_level(logging.INFO):
            first = run_tap(config)
        # Every later call is exported, in callId order; the stuck one is kept.
        assert first.call_ids == others
        assert bookmark(first.last_state) == others[-1]
        assert partition(first.last_state)["stuck_call_ids"] == [stuck]
        # One summary line names it, at WARNING: no line per call.
        (summary,) = [r for r in caplog.records if "exported" in r.getMessage()]
        assert summary.levelno == logging.WARNING
        assert "1 stepped over as still unfinished after max_processing_hours" in (
            summary.getMessage()
        )
        assert f"callId {stuck} (PROCESSING since" in summary.getMessage()

        # Still processing: nothing emitted, one look-up, counted, still kept.
        caplog.clear()
        with caplog.at_level(logging.INFO):
            second = run_tap(config, state=first.last_state)
        assert second.call_ids == []
        assert lookups(sim) == [f"/v1/sa/call/{stuck}"]
        assert any(
            "1 of 1 remembered calls asked for again" in r.getMessage()
            and "1 still not done" in r.getMessage()
            for r in caplog.records
        )
        assert partition(second.last_state)["stuck_call_ids"] == [stuck]
        assert partition(second.last_state)["stuck_calls"][str(stuck)]["attempts"] == 1

        sim.set_phase(stuck, final_phase)
        third = run_tap(config, state=second.last_state)
    assert third.call_ids == [stuck]
    assert third.records[0]["progressPhase"] == final_phase
    assert bookmark(third.last_state) == others[-1]  # never moves back
    assert "stuck_call_ids" not in partition(third.last_state)
    everything = first.call_ids + second.call_ids + third.call_ids
    assert sorted(everything) == ids(calls)  # none lost, none twice


def test_a_stuck_call_answered_404_is_kept_for_the_next_run_with_a_warning(caplog):
    calls = make_calls(50, seed=62, processing_at=[10])
    stuck = int(calls[10]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url}
        first = run_tap(config)
        sim.delete_call(stuck)
        with caplog.at_level(logging.WARNING):
            second = run_tap(config, state=first.last_state)
    assert second.call_ids == []
    # One 404 may be a passing hiccup: given up only by the bound (give_up_after_hours).
    assert partition(second.last_state)["stuck_call_ids"] == [stuck]
    (warning,) = [
        r.getMessage()
        for r in caplog.records
        if f"callId {stuck} skipped" in r.getMessage()
    ]
    assert f"GET /sa/call/{stuck}: HTTP 404" in warning


def test_several_stuck_calls_in_a_row_are_all_stepped_over():
    calls = make_calls(90, seed=63, processing_at=[20, 21, 70])
    stuck = ids([calls[20], calls[21], calls[70]])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        run = run_tap({"jwt_token": TOKEN, "api_url": sim.url, "per_page": 25})
    assert run.call_ids == [i for i in ids(calls) if i not in stuck]
    assert partition(run.last_state)["stuck_call_ids"] == stuck
    # Every STATE written after a call was stepped over keeps it.
    remembered = [partition(s).get("stuck_call_ids", []) for s in run.states]
    first = remembered.index([stuck[0]])
    assert all(stuck[0] in r for r in remembered[first:])


def test_a_call_processing_for_less_than_the_limit_still_holds_the_export(caplog):
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    calls = make_calls(40, seed=64, start=start, processing_at=[15])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, "max_processing_hours": 24}
        with caplog.at_level(logging.INFO):
            run = run_tap(config)
    assert run.call_ids == ids(calls[:15])
    assert "stuck_call_ids" not in partition(run.last_state)
    summary = next(
        r.getMessage() for r in caplog.records if "exported" in r.getMessage()
    )
    assert f"a call still processing at callId {calls[15]['callId']}" in summary
    assert "stepped over" not in summary


def test_the_refresh_does_not_emit_a_stuck_call_before_it_is_due():
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)
    calls = make_calls(30, seed=65, start=start, processing_at=[10])
    stuck = int(calls[10]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {
            "jwt_token": TOKEN,
            "api_url": sim.url,
            "refresh_window_days": 7,
        }

        def finish_during_the_refresh(index: int, params: dict) -> None:
            if "sort_by" in params:
                sim.set_phase(stuck, "DONE")

        sim.on_request = finish_during_the_refresh
        first = run_tap(config)
        sim.on_request = None
        second = run_tap(config, state=first.last_state)
    assert stuck not in first.call_ids  # the refresh left it to the next run
    assert second.call_ids[0] == stuck  # emitted first, by the stuck-call pass
    assert "stuck_call_ids" not in partition(second.last_state)


def test_stepping_over_is_bounded_per_run_and_the_next_run_goes_on(monkeypatch):
    monkeypatch.setattr(stuck_module, "MAX_STEPS_PER_RUN", 1)
    calls = make_calls(40, seed=66, processing_at=[10, 20])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url}
        first = run_tap(config)
        second = run_tap(config, state=first.last_state)
    # One step in the first run; the second stuck call holds the rest back.
    assert first.call_ids == ids(calls[:10] + calls[11:20])
    assert partition(first.last_state)["stuck_call_ids"] == ids([calls[10]])
    assert bookmark(first.last_state) == int(calls[19]["callId"])
    assert second.call_ids == ids(calls[21:])
    assert partition(second.last_state)["stuck_call_ids"] == ids([calls[10], calls[20]])


def test_a_late_call_is_tagged_with_its_own_project():
    east_calls = make_calls(20, seed=67)
    west_calls = make_calls(20, seed=68, first_id=50_000, processing_at=[5])
    stuck = int(west_calls[5]["callId"])
    with east_and_west(east_calls, west_calls) as (sim, config):
        first = run_tap(config)
        assert partition(first.last_state, "west")["stuck_call_ids"] == [stuck]
        sim.set_phase(stuck, "DONE")
        second = run_tap(config, state=first.last_state)
    (late,) = second.records
    assert (late["callId"], late["project"]) == (stuck, "west")
    assert late["contextId"] == west_calls[0]["contextId"]
