"""The simulator's rate and concurrency limits, as the API reference describes them."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from voicegain_sim import VoicegainSimulator, make_calls

TOKEN = "limit-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


class FakeClock:
    """Seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limited(
    clock: FakeClock, *limits: tuple[int, float], **options
) -> VoicegainSimulator:
    calls = make_calls(20, seed=11)
    return VoicegainSimulator(
        calls, token=TOKEN, rate_limits=limits, clock=clock, **options
    )


def get(http, sim, path="/sa/call", headers=AUTH, **kwargs) -> requests.Response:
    return http.get(f"{sim.url}{path}", headers=headers, **kwargs)


def limits_of(response: requests.Response) -> tuple[str, str, str]:
    return tuple(response.headers.get(name) for name in RATE_HEADERS)


def test_no_rate_limit_and_no_headers_by_default(http):
    with VoicegainSimulator(make_calls(5), token=TOKEN) as sim:
        responses = [get(http, sim) for _ in range(100)]
    assert {r.status_code for r in responses} == {200}
    assert all(limits_of(r) == (None, None, None) for r in responses)
    assert sim.throttled_count == 0


def test_headers_count_down_then_429_with_retry_after(http, clock):
    with limited(clock, (2000, 3600), (3, 60)) as sim:
        first = get(http, sim)
        assert limits_of(first) == ("3, 3;window=60, 2000;window=3600", "2", "60")
        clock.now += 15.2
        assert limits_of(get(http, sim))[1:] == ("1", "45")
        assert limits_of(get(http, sim))[1:] == ("0", "45")
        refused = get(http, sim)
        assert refused.status_code == 429
        assert refused.json()["status"] == 429
        assert limits_of(refused) == ("3, 3;window=60, 2000;window=3600", "0", "45")
        assert refused.headers["Retry-After"] == "45"
        clock.now += 44.7  # 59.9 s after the first request: still the same window
        assert get(http, sim).headers["Retry-After"] == "1"
        clock.now += 0.1
        fresh = get(http, sim)
        assert fresh.status_code == 200
        assert limits_of(fresh)[1:] == ("2", "60")
    assert sim.throttled_count == 2
    assert [r.throttled for r in sim.requests] == ["", "", "", "rate", "rate", ""]
    assert [r.status for r in sim.requests] == [200, 200, 200, 429, 429, 200]
    assert sim.requests[3].response_headers["Retry-After"] == "45"


def test_the_window_closest_to_exhaustion_is_reported(http, clock):
    with limited(clock, (3, 1), (5, 3600)) as sim:
        for _ in range(3):
            get(http, sim)
        clock.now += 1
        fourth = get(http, sim)
        # 2 left this second, 1 this hour: the hour binds.
        assert limits_of(fourth) == ("5, 3;window=1, 5;window=3600", "1", "3599")
        fifth = get(http, sim)
        assert limits_of(fifth) == ("5, 3;window=1, 5;window=3600", "0", "3599")
        refused = get(http, sim)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "3599"
        clock.now += 3599
        assert get(http, sim).status_code == 200


def test_every_api_answer_counts_and_carries_the_headers(http, clock):
    with limited(clock, (10, 60)) as sim:
        call = sim.calls[0]
        answers = [
            get(http, sim, headers={"Authorization": "Bearer wrong"}),
            get(http, sim, params={"per_page": "0"}),
            get(http, sim, "/sa/nothing"),
            get(http, sim, f"/sa/call/{call['callId']}"),
            get(http, sim, "/sa/call/1"),
            get(http, sim, f"/sa/{call['saSessionId']}/transcript"),
            get(http, sim, "/sa/no-such-session/transcript"),
        ]
        assert [r.status_code for r in answers] == [401, 400, 404, 200, 404, 200, 404]
        assert [r.headers["RateLimit-Remaining"] for r in answers] == [
            str(n) for n in range(9, 2, -1)
        ]
        # Outside the API: the control endpoint and other paths are not counted.
        base = f"http://{sim.host}:{sim.port}"
        assert http.post(f"{base}/_sim/add?count=1").status_code == 200
        outside = http.get(f"{base}/favicon.ico")
        assert outside.status_code == 404
        assert "RateLimit-Remaining" not in outside.headers
        assert get(http, sim).headers["RateLimit-Remaining"] == "2"


def test_refused_requests_do_not_use_up_the_window_or_faults(http, clock):
    with limited(clock, (1, 10)) as sim:
        sim.inject("status", code=503)
        get(http, sim)  # takes the fault
        sim.inject("html")
        assert get(http, sim).status_code == 429
        assert get(http, sim).status_code == 429
        clock.now += 10
        html = get(http, sim)  # the fault waited for an admitted request
        assert html.headers["Content-Type"].startswith("text/html")
        assert html.headers["RateLimit-Remaining"] == "0"


def test_fractional_window_reports_whole_seconds(http, clock):
    with limited(clock, (2, 0.5)) as sim:
        assert get(http, sim).headers["RateLimit-Limit"] == "2, 2;window=0.5"
        get(http, sim)
        refused = get(http, sim)
        assert refused.status_code == 429
        assert limits_of(refused)[1:] == ("0", "1")
        assert refused.headers["Retry-After"] == "1"
        clock.now += 0.5
        assert get(http, sim).status_code == 200


def test_short_windows_on_the_real_clock(http):
    with VoicegainSimulator(make_calls(5), token=TOKEN, rate_limits=[(2, 1)]) as sim:
        assert [get(http, sim).status_code for _ in range(3)] == [200, 200, 429]
        wait = int(sim.requests[-1].response_headers["Retry-After"])
        assert wait == 1
        time.sleep(wait)
        assert get(http, sim).status_code == 200
        sim.reset_rate_limits()
        assert get(http, sim).headers["RateLimit-Remaining"] == "1"


def test_bad_rate_limits_are_rejected():
    with pytest.raises(ValueError, match="rate limit"):
        VoicegainSimulator(make_calls(1), rate_limits=[(0, 60)])
    with pytest.raises(ValueError, match="rate limit"):
        VoicegainSimulator(make_calls(1), rate_limits=[(5, 0)])
    with pytest.raises(ValueError, match="max_in_flight"):
        VoicegainSimulator(make_calls(1), max_in_flight=0)


# ------------------------------------------------------------ concurrency


def test_concurrency_limit_answers_429_with_growing_retry_after(http):
    with VoicegainSimulator(make_calls(5), token=TOKEN, max_in_flight=1) as sim:
        sim.inject("delay", seconds=0.8)
        held: list[int] = []
        slow = threading.Thread(target=lambda: held.append(get(http, sim).status_code))
        slow.start()
        deadline = time.monotonic() + 5
        while sim.limiter.in_flight < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        with requests.Session() as other:
            refused = [get(other, sim) for _ in range(3)]
        slow.join()
        assert held == [200]
        assert [r.status_code for r in refused] == [429, 429, 429]
        assert {r.headers["X-ResourceLimit-Type"] for r in refused} == {"concurrency"}
        assert {r.headers["X-ResourceLimit-Limit"] for r in refused} == {"1"}
        assert [r.headers["Retry-After"] for r in refused] == ["1", "2", "4"]
        assert get(http, sim).status_code == 200
        assert sim.throttled_count == 3
        assert [r.throttled for r in sim.requests[1:4]] == ["concurrency"] * 3


def test_concurrency_fault_answers_the_same_429(http):
    with VoicegainSimulator(make_calls(5), token=TOKEN) as sim:
        sim.inject("concurrency", limit=4, retry_after=7, endpoint="transcript")
        assert get(http, sim).status_code == 200  # the list is not affected
        session = sim.calls[0]["saSessionId"]
        refused = get(http, sim, f"/sa/{session}/transcript")
        assert refused.status_code == 429
        assert refused.headers["X-ResourceLimit-Type"] == "concurrency"
        assert refused.headers["X-ResourceLimit-Limit"] == "4"
        assert refused.headers["Retry-After"] == "7"
        assert refused.json()["status"] == 429
        assert sim.throttled_count == 1


# ------------------------------------------------- missing, broken headers


def test_missing_headers_style_drops_them_from_429s_too(http, clock):
    with limited(clock, (1, 60), ratelimit_headers="missing") as sim:
        assert limits_of(get(http, sim)) == (None, None, None)
        refused = get(http, sim)
        assert refused.status_code == 429
        assert limits_of(refused) == (None, None, None)
        assert "Retry-After" not in refused.headers
        assert sim.throttled_count == 1


def test_malformed_headers_style_garbles_every_answer(http, clock):
    with limited(clock, (1, 60)) as sim:
        sim.ratelimit_headers = "malformed"
        ok = get(http, sim)
        assert limits_of(ok) == ("seventy-five;w=1m", "-3.5", "soon")
        assert "Retry-After" not in ok.headers
        refused = get(http, sim)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "Someday, 99 Foo 20XX"
    with VoicegainSimulator(make_calls(3), token=TOKEN) as plain:
        plain.ratelimit_headers = "malformed"  # garbage even without limits
        assert limits_of(get(http, plain))[2] == "soon"


def test_header_overrides_replace_or_remove_single_headers(http, clock):
    overrides = {"RateLimit-Reset": "0", "RateLimit-Remaining": None}
    with limited(clock, (1, 60), ratelimit_headers=overrides) as sim:
        assert limits_of(get(http, sim)) == ("1, 1;window=60", None, "0")
        assert get(http, sim).headers["Retry-After"] == "60"
    with pytest.raises(ValueError, match="ratelimit_headers"):
        VoicegainSimulator(make_calls(1), ratelimit_headers="weird")


def test_ratelimit_headers_fault_hits_only_its_requests(http, clock):
    with limited(clock, (10, 60)) as sim:
        sim.inject("ratelimit_headers", style="missing", after=1)
        sim.inject("ratelimit_headers", style="malformed")
        answers = [get(http, sim) for _ in range(4)]
        assert [r.headers.get("RateLimit-Remaining") for r in answers] == [
            "9",
            None,
            "-3.5",
            "6",
        ]


@pytest.mark.parametrize("reset", ["1796244489", "99999999"])
def test_reset_as_an_epoch_or_a_huge_value_on_every_answer(http, clock, reset):
    # An API (or a gateway) that sends RateLimit-Reset as an epoch second, or a
    # wild number of seconds, and a Retry-After just as large on its 429s.
    overrides = {"RateLimit-Reset": reset, "Retry-After": reset}
    with limited(clock, (2, 60), (100, 3600), ratelimit_headers=overrides) as sim:
        answers = [get(http, sim) for _ in range(3)]
        calls_and_transcripts = [
            get(http, sim, f"/sa/call/{sim.calls[0]['callId']}"),
            get(http, sim, f"/sa/{sim.calls[1]['saSessionId']}/transcript"),
        ]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert {r.headers["RateLimit-Reset"] for r in answers} == {reset}
    assert answers[1].headers["RateLimit-Remaining"] == "0"
    assert answers[2].headers["Retry-After"] == reset
    # An override adds Retry-After to answers that had none: a test that
    # wants it only on 429s sets the Reset alone.
    assert all(r.headers["RateLimit-Reset"] == reset for r in calls_and_transcripts)


def test_epoch_reset_can_be_switched_on_mid_run(http, clock):
    with limited(clock, (5, 60)) as sim:
        assert get(http, sim).headers["RateLimit-Reset"] == "60"
        sim.ratelimit_headers = {"RateLimit-Reset": "1796244489"}
        assert get(http, sim).headers["RateLimit-Reset"] == "1796244489"
        sim.ratelimit_headers = "standard"
        assert get(http, sim).headers["RateLimit-Reset"] == "60"
