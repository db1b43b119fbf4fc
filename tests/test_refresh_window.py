"""The refresh window: calls reviewed after their export reach the warehouse."""

from __future__ import annotations

import datetime as dt

from tests.helpers import bookmark, run_tap
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
