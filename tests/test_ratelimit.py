"""The tap paces itself by the API's rate-limit headers and never gets a 429."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading

import pytest
import requests

from tap_voicegain.http.ratelimit import RateLimiter, RateLimits, parse_headers
from tap_voicegain.tap import TapVoicegain
from tests.oracle import exported
from tests.singer_output import run_tap
from voicegain_sim import VoicegainSimulator, make_calls, make_jwt

LOGGER = logging.getLogger("tests.ratelimit")


class FakeClock:
    """A clock that moves only when the limiter sleeps; sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)

    def sleep_and_move(self, seconds: float) -> None:
        self.sleep(seconds)
        self.now += seconds


def answer(**headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers.update(headers)
    return response


@pytest.fixture
def sim():
    with VoicegainSimulator(
        make_calls(150, seed=91),
        token="rate-limited-token",
        rate_limits=((4, 1.0), (1000, 3600.0)),
    ) as server:
        yield server


def rate_refusals(sim: VoicegainSimulator) -> int:
    return sum(1 for r in sim.requests if r.throttled == "rate")


def config_for(sim: VoicegainSimulator, **extra):
    return {
        "jwt_token": "rate-limited-token",
        "api_url": sim.url,
        "per_page": 10,
        "retry_wait_base": 0.1,
        "retry_wait_max": 0.5,
        "max_retries": 10,
        **extra,
    }


def test_a_run_under_a_tight_limit_exports_everything_without_one_429(sim, caplog):
    with caplog.at_level(logging.INFO):
        run = run_tap(config_for(sim))
    assert run.call_ids == [int(c["callId"]) for c in exported(sim.calls)]
    assert sim.throttled_count == 0  # no request was over the limit
    assert len(sim.requests) == 17  # 15 full pages, the empty one, the final peek
    waits = [
        r.getMessage() for r in caplog.records if "Rate limit: wait" in r.getMessage()
    ]
    assert len(waits) >= 3  # 17 requests at 4 a window: at least 5 windows
    assert "rate-limit window of 4 requests per 1 s is spent" in waits[0]
    assert not [r for r in caplog.records if r.getMessage().startswith("Retrying")]
    summary = [r for r in caplog.records if "exported 150 calls" in r.getMessage()]
    assert f"0 retries and {len(waits)} rate-limit waits" in summary[0].getMessage()
    assert summary[0].__dict__["rate_limit_waits"] == len(waits)


@pytest.mark.parametrize("style", ["missing", "malformed"])
def test_without_usable_headers_429s_are_retried_and_the_export_is_exact(
    sim, style, caplog
):
    sim.ratelimit_headers = style
    with caplog.at_level(logging.INFO):
        run = run_tap(config_for(sim))
    assert run.call_ids == [int(c["callId"]) for c in exported(sim.calls)]
    refused = rate_refusals(sim)
    assert refused > 0  # nothing told the tap to wait: it was refused
    retried = [r for r in caplog.records if r.getMessage().startswith("Retrying")]
    # Each refused page is retried; the end-of-pass peek, if refused, is not.
    assert refused - 1 <= len(retried) <= refused
    assert "HTTP 429" in retried[0].getMessage()
    assert not [r for r in caplog.records if "Rate limit: wait" in r.getMessage()]


def test_concurrency_429s_are_retried_by_their_retry_after(caplog):
    with VoicegainSimulator(make_calls(60, seed=92), token="rate-limited-token") as sim:
        sim.inject("concurrency", times=2, after=1, retry_after=1)
        with caplog.at_level(logging.INFO):
            run = run_tap(config_for(sim, retry_wait_max=2))
        assert run.call_ids == [int(c["callId"]) for c in exported(sim.calls)]
    retried = [r.getMessage() for r in caplog.records if "Retrying" in r.getMessage()]
    assert len(retried) == 2
    # Retry-After, not the backoff (0.1 s, then 0.2 s, at these settings).
    assert all("HTTP 429" in m and "waiting 1.0 s" in m for m in retried)
    assert not [r for r in caplog.records if "Rate limit: wait" in r.getMessage()]


def test_a_concurrency_429_does_not_mark_the_window_spent():
    clock = FakeClock()
    limiter = RateLimiter(None, LOGGER, clock=clock, sleep=clock.sleep_and_move)
    refusal = answer(
        **{
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": "30",
            "Retry-After": "2",
            "X-ResourceLimit-Type": "concurrency",
            "X-ResourceLimit-Limit": "4",
        }
    )
    refusal.status_code = 429
    limiter.observe(refusal)
    limiter.acquire()
    assert clock.sleeps == []
    limiter.observe(answer(**{"RateLimit-Remaining": "0", "RateLimit-Reset": "30"}))
    limiter.acquire()
    assert clock.sleeps == [30]
    assert limiter.waits == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {
                "RateLimit-Limit": "75, 75;window=60, 2000;window=3600",
                "RateLimit-Remaining": "1",
                "RateLimit-Reset": "7",
            },
            (1, 7.0, 75, 60.0),
        ),
        (
            {
                "RateLimit-Limit": "2000, 75;window=60, 2000;window=3600",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": "1800",
            },
            (0, 1800.0, 2000, 3600.0),
        ),
        (
            {
                "RateLimit-Limit": "75",
                "RateLimit-Remaining": "3",
                "RateLimit-Reset": "2",
            },
            (3, 2.0, 75, None),
        ),
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "2.5"}, (0, 2.5, None, None)),
        ({}, None),
        ({"RateLimit-Remaining": "0"}, None),  # no reset: when would it end?
        ({"RateLimit-Remaining": "-3.5", "RateLimit-Reset": "soon"}, None),
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "inf"}, None),
        ({"RateLimit-Remaining": "x", "RateLimit-Reset": "5"}, None),
    ],
)
def test_rate_limit_headers_are_read_in_their_multi_window_form(headers, expected):
    state = parse_headers(requests.structures.CaseInsensitiveDict(headers))
    if expected is None:
        assert state is None
    else:
        assert state is not None
        assert (state.remaining, state.reset, state.limit, state.window) == expected


def test_a_spent_window_waits_until_its_reset_and_not_before():
    clock = FakeClock()
    limiter = RateLimiter(None, LOGGER, clock=clock, sleep=clock.sleep_and_move)
    limiter.observe(answer(**{"RateLimit-Remaining": "1", "RateLimit-Reset": "9"}))
    limiter.acquire()
    assert clock.sleeps == []  # one request left: it goes at once
    limiter.observe(answer(**{"RateLimit-Remaining": "0", "RateLimit-Reset": "9"}))
    limiter.acquire()
    limiter.acquire()
    assert clock.sleeps == [9]


def test_max_requests_per_minute_holds_without_any_header():
    clock = FakeClock()
    limiter = RateLimiter(3, LOGGER, clock=clock, sleep=clock.sleep_and_move)
    sent = []
    for _ in range(7):
        limiter.acquire()
        sent.append(clock.now - 1000.0)
    # A minute and a second: the margin for the server's clock.
    assert sent == [0, 0, 0, 61, 61, 61, 122]
    assert limiter.waits == 2


def test_max_requests_per_minute_holds_across_threads():
    clock = FakeClock()  # time stands still: each wait is a reservation
    limiter = RateLimiter(5, LOGGER, clock=clock, sleep=clock.sleep)
    threads = [
        threading.Thread(target=lambda: [limiter.acquire() for _ in range(5)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(clock.sleeps) == [61] * 5 + [122] * 5 + [183] * 5


def test_max_requests_per_minute_paces_every_request_of_a_run():
    clock = FakeClock()
    calls = make_calls(150, seed=91)
    # No limit, so no headers: the setting alone paces the run.
    with VoicegainSimulator(calls, token="rate-limited-token") as sim:
        tap = TapVoicegain(config=config_for(sim, max_requests_per_minute=5))
        stream = tap.streams["calls"]
        limits = RateLimits(5, LOGGER, clock=clock, sleep=clock.sleep_and_move)
        stream.requests_session.limits = stream.rate_limits = limits
        buffer = io.BytesIO()
        out = io.TextIOWrapper(buffer, encoding="utf-8", write_through=True)
        with contextlib.redirect_stdout(out):
            tap.sync_all()
    ids = [
        json.loads(line)["record"]["callId"]
        for line in buffer.getvalue().decode().splitlines()
        if '"RECORD"' in line
    ]
    assert ids == [int(c["callId"]) for c in exported(calls)]
    # 17 requests (the end-of-pass peek included) at 5 a minute: 3 waits of 61 s.
    assert len(sim.requests) == 17
    assert not any("RateLimit-Remaining" in r.response_headers for r in sim.requests)
    assert clock.sleeps == [61, 61, 61]


def test_projects_of_one_account_share_a_limiter_and_other_accounts_do_not():
    limits = RateLimits(None, LOGGER)
    sales = make_jwt(account_id="acc-1", context_id="sales", exp=2_000_000_000)
    support = make_jwt(account_id="acc-1", context_id="support", exp=2_000_000_000)
    other = make_jwt(account_id="acc-2", context_id="x", exp=2_000_000_000)
    assert limits.for_token(sales) is limits.for_token(support)
    assert limits.for_token(sales) is not limits.for_token(other)
    assert limits.for_authorization(f"Bearer {support}") is limits.for_token(sales)


def test_every_stream_of_a_run_uses_the_taps_limiters(sim):
    tap = TapVoicegain(config=config_for(sim))
    stream = tap.streams["calls"]
    assert stream.rate_limits is tap.rate_limits
    assert stream.requests_session.limits is tap.rate_limits
