"""Each call at most once per run, the refresh pass included (issue 19: 14).

The refresh pass re-reads the calls of the last days so that late QA changes
reach upserting targets; it skips what this run has already emitted (the
export pass and the late stuck calls), so an append-only target gets each call
once per run (design.md, "The API readings").
"""

from __future__ import annotations

import collections
import datetime as dt
import typing as t

from tests.failure_support import ONE_RETRY, TOKEN, ids, ids_of, part, sync
from voicegain_sim import VoicegainSimulator, make_calls

if t.TYPE_CHECKING:
    from tests.helpers import TapRun


def twice(run: TapRun) -> list[int]:
    """callIds emitted more than once in one run."""
    return sorted(i for i, n in collections.Counter(ids_of(run)).items() if n > 1)


def recent_calls(count: int, seed: int, **options: t.Any) -> list[dict[str, t.Any]]:
    """Calls that started two days ago and after: inside a 7-day refresh window."""
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    return make_calls(count, seed=seed, start=start, **options)


def config_for(sim: VoicegainSimulator) -> dict[str, t.Any]:
    return {
        "jwt_token": TOKEN,
        "api_url": sim.url,
        "refresh_window_days": 7,
        **ONE_RETRY,
    }


def test_the_refresh_skips_the_calls_this_run_exported():
    calls = recent_calls(30, seed=401)
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        run = sync(config_for(sim))
    assert run.error is None
    assert twice(run) == []
    assert sorted(ids_of(run)) == ids(calls)


def test_the_refresh_re_sends_earlier_runs_calls_once_and_new_calls_not_again():
    calls = recent_calls(30, seed=402)
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        first = sync(config_for(sim))
        new = ids(sim.add_generated(5))
        second = sync(config_for(sim), first.last_state)
    assert second.error is None
    assert twice(second) == []
    # Every earlier call once (the refresh), every new call once (the export).
    assert sorted(ids_of(second)) == sorted(ids(calls) + new)


def test_a_stuck_call_that_finishes_is_emitted_once_with_the_refresh_on():
    calls = recent_calls(30, seed=403, processing_at=[10])  # > 24 h processing
    stuck = int(calls[10]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        first = sync(config_for(sim))
        assert part(first.last_state)["stuck_call_ids"] == [stuck]
        sim.set_phase(stuck, "DONE")
        second = sync(config_for(sim), first.last_state)
    assert second.error is None
    assert stuck in ids_of(second)
    assert twice(second) == []
