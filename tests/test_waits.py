"""Every wait has a ceiling, and budgets hold as the server counts (issue 19: 3 13 16).

The tap's rate limiter runs on a fake clock here (``clocked_tap``): its waits
are recorded and instant, so a wait of three years shows as a number, not as a
test that never ends.
"""

from __future__ import annotations

import logging
import time
import typing as t

import pytest

from tests.failure_support import (
    ONE_RETRY,
    TOKEN,
    FakeClock,
    at_least,
    clocked_tap,
    ids,
    ids_of,
    sync,
)
from voicegain_sim import VoicegainSimulator, make_calls

WINDOW = 60  # seconds of the window the API announces below
SPENT = {
    "RateLimit-Limit": f"5, 5;window={WINDOW}",
    "RateLimit-Remaining": "0",
}


def config_for(sim: VoicegainSimulator, **settings: t.Any) -> dict[str, t.Any]:
    return {"jwt_token": TOKEN, "api_url": sim.url, **ONE_RETRY, **settings}


def reset_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [m for m in at_least(caplog, logging.WARNING) if "RateLimit-Reset" in m]


# ------------------------------------------- 3: a Reset beyond the window


@pytest.mark.parametrize(
    "reset",
    ["1796244489", "99999999", "a day ahead as an epoch"],
)
def test_a_reset_beyond_the_announced_window_waits_at_most_the_window(caplog, reset):
    if reset == "a day ahead as an epoch":
        reset = str(int(time.time()) + 86_400)
    clock = FakeClock()
    calls = make_calls(5, seed=201)
    with (
        VoicegainSimulator(
            calls, token=TOKEN, ratelimit_headers={**SPENT, "RateLimit-Reset": reset}
        ) as sim,
        caplog.at_level(logging.INFO),
    ):
        run = sync(config_for(sim, per_page=2), tap_class=clocked_tap(clock))
    assert run.error is None
    assert ids_of(run) == ids(calls)
    assert clock.sleeps  # the spent window was waited for...
    assert max(clock.sleeps) <= WINDOW  # ...for at most the window
    assert reset_warnings(caplog)


def test_without_an_announced_window_a_huge_reset_waits_at_most_an_hour(caplog):
    clock = FakeClock()
    calls = make_calls(5, seed=202)
    headers = {
        "RateLimit-Limit": "5",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "99999999",
    }
    with (
        VoicegainSimulator(calls, token=TOKEN, ratelimit_headers=headers) as sim,
        caplog.at_level(logging.INFO),
    ):
        run = sync(config_for(sim, per_page=2), tap_class=clocked_tap(clock))
    assert run.error is None
    assert ids_of(run) == ids(calls)
    assert clock.sleeps
    assert max(clock.sleeps) <= 3600
    assert reset_warnings(caplog)


def test_an_epoch_reset_within_the_window_is_waited_until(caplog):
    clock = FakeClock()
    calls = make_calls(5, seed=203)
    with VoicegainSimulator(calls, token=TOKEN) as sim:

        def reset_twenty_seconds_ahead(_index: int, _params: dict) -> None:
            moment = str(int(time.time()) + 20)  # wall clock: an epoch time
            sim.ratelimit_headers = {**SPENT, "RateLimit-Reset": moment}

        sim.on_request = reset_twenty_seconds_ahead
        with caplog.at_level(logging.INFO):
            run = sync(config_for(sim, per_page=2), tap_class=clocked_tap(clock))
    assert run.error is None
    assert ids_of(run) == ids(calls)
    assert clock.sleeps
    assert 15 <= max(clock.sleeps) <= 21  # until that moment, not the 60 s cap
    assert reset_warnings(caplog)


# ------------------------------- 13: max_requests_per_minute, server-side


def test_max_requests_per_minute_holds_in_any_60_s_as_the_server_counts():
    clock = FakeClock()
    arrivals: list[float] = []

    def arrive(_index: int, _params: dict) -> None:
        if not arrivals:
            clock.now += 0.5  # the first request opens the connection: it lands late
        arrivals.append(clock.now)

    calls = make_calls(12, seed=204)
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        sim.on_request = arrive
        config = config_for(sim, per_page=2, max_requests_per_minute=4)
        run = sync(config, tap_class=clocked_tap(clock))
    assert run.error is None
    assert ids_of(run) == ids(calls)
    assert len(arrivals) > 4
    busiest = max(sum(1 for b in arrivals if a <= b < a + 60) for a in arrivals)
    assert busiest <= 4


# ---------------------------- 16: the last "why did it end" request


def test_a_finished_run_does_not_wait_out_a_spent_window_to_say_why_it_ended(caplog):
    clock = FakeClock()
    calls = make_calls(10, seed=205)
    last = int(calls[-1]["callId"])
    spent_at: list[int] = []
    with VoicegainSimulator(calls, token=TOKEN) as sim:

        def spend_at_the_end(index: int, params: dict) -> None:
            # The page after the last call (empty) spends the window for 30 s.
            after = int((params.get("afterCallId") or ["0"])[0])
            if params.get("consecutive") == ["true"] and after >= last:
                spent_at.append(index)
                sim.ratelimit_headers = {**SPENT, "RateLimit-Reset": "30"}
            else:
                sim.ratelimit_headers = "standard"

        sim.on_request = spend_at_the_end
        with caplog.at_level(logging.INFO):
            run = sync(config_for(sim, per_page=5), tap_class=clocked_tap(clock))
        sent = len(sim.requests)
    assert run.error is None
    assert ids_of(run) == ids(calls)
    assert spent_at  # the window was spent by the last page's answer
    assert [s for s in clock.sleeps if s > 5] == []  # not waited out
    assert sent == spent_at[-1]  # nothing sent after it
    assert "not checked (rate limit)" in caplog.text
