"""Prefetch of the next page: same messages, same requests, same failures."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import signal
import threading
import time
import typing as t

import pytest
import requests

from tap_voicegain.http import prefetch
from tests.helpers import (
    FAST_RETRIES,
    parse_messages,
    run_tap,
    start_tap,
    wait_for,
    wait_for_requests,
    write_json,
)
from tests.test_process import records_and_bookmark, resume_from_last_state
from voicegain_sim import VoicegainSimulator, make_calls

FAST = FAST_RETRIES


def without_time(messages: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return [{k: v for k, v in m.items() if k != "time_extracted"} for m in messages]


@pytest.fixture
def taken(monkeypatch) -> dict[str, int]:
    """Counts prefetched answers the stream took (``used``) and dropped."""
    counts = {"used": 0, "dropped": 0}
    take, close = prefetch.Prefetch.take, prefetch.Prefetch.close

    def counting_take(self, request):
        before = self.used
        try:
            return take(self, request)
        finally:
            counts["used"] += self.used - before

    def counting_close(self, *, wait=True):
        before = self.dropped
        close(self, wait=wait)
        counts["dropped"] += self.dropped - before

    monkeypatch.setattr(prefetch.Prefetch, "take", counting_take)
    monkeypatch.setattr(prefetch.Prefetch, "close", counting_close)
    return counts


def run_both(monkeypatch, sim_factory, config, **kwargs):
    """The run with prefetch (on every page) and without; each on a fresh simulator."""
    out = {}
    for mode, pays_after in (("prefetch", 0.0), ("plain", math.inf)):
        monkeypatch.setattr(prefetch, "PAYS_AFTER_S", pays_after)
        with sim_factory() as sim:
            run = run_tap({**config, "api_url": sim.url}, **kwargs)
            # fromTime of a refresh pass is "N days before now": it moves.
            requested = [
                ({k: v for k, v in r.params.items() if k != "fromTime"}, r.status)
                for r in sim.requests
            ]
            if run.error is not None:  # messages name the simulator's URL
                run.error.args = (str(run.error).replace(sim.url, "API"),)
        out[mode] = (run, requested)
    return out["prefetch"], out["plain"]


# ------------------------------------------------------------ the body's tail


@pytest.mark.parametrize("callid_as", ["string", "number"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_page_tail_gives_the_count_and_the_last_call_id_of_a_page(fmt, callid_as):
    calls = make_calls(120, seed=61)
    with VoicegainSimulator(calls, token="t", callid_as=callid_as) as sim:
        response = requests.get(
            f"{sim.url}/sa/call",
            params={"format": fmt, "afterCallId": 0, "page": 1, "per_page": 50},
            headers={"Authorization": "Bearer t"},
            timeout=10,
        )
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert any("\n" in value for row in rows for value in row.values() if value)
    else:
        rows = response.json()
    assert prefetch.page_tail(response.content, fmt) == (50, int(rows[-1]["callId"]))


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        (b"[]", "json"),
        (b'{"error": "callId missing"}', "json"),
        (b'[{"callId": "abc"}]', "json"),
        (b"<html><body>Sign in</body></html>", "json"),
        (b"accountId,contextId,callId\r\n", "csv"),
        (b"accountId,contextId\r\na,b\r\n", "csv"),
        (b"accountId,contextId,callId\r\na,b,x\r\n", "csv"),
        (b"", "csv"),
    ],
)
def test_page_tail_says_nothing_of_a_body_without_a_readable_last_call_id(body, fmt):
    assert prefetch.page_tail(body, fmt) is None


def test_page_tail_reads_a_csv_page_that_starts_with_a_bom():
    body = b"\xef\xbb\xbfaccountId,contextId,callId\r\na,b,7\r\na,b,9\r\n"
    assert prefetch.page_tail(body, "csv") == (2, 9)


# -------------------------------------------------------- same output, same API


@pytest.mark.parametrize(
    "extra",
    [{"format": "json"}, {"format": "csv"}, {"refresh_window_days": 100000}],
)
def test_prefetch_writes_the_same_messages_after_the_same_requests(
    monkeypatch, taken, extra
):
    calls = make_calls(230, seed=62)
    config = {"jwt_token": "t", "per_page": 40, **extra}
    (fetched, asked), (plain, plain_asked) = run_both(
        monkeypatch, lambda: VoicegainSimulator(calls, token="t"), config
    )
    assert taken["used"] >= 5  # pages 2..6 of the export came prefetched
    assert taken["dropped"] == 0  # and no request was made in vain
    assert asked == plain_asked
    assert without_time(fetched.messages) == without_time(plain.messages)
    assert fetched.call_ids[:230] == [int(c["callId"]) for c in calls]


def test_prefetch_with_several_projects_uses_each_projects_token(monkeypatch, taken):
    sales = make_calls(90, seed=63)
    support = make_calls(70, seed=64, first_id=20_000)
    config = {
        "per_page": 20,
        "projects": [
            {"name": "sales", "jwt_token": "tok-sales"},
            {"name": "support", "jwt_token": "tok-support"},
        ],
    }

    def sim():
        return VoicegainSimulator(projects={"tok-sales": sales, "tok-support": support})

    (fetched, asked), (plain, plain_asked) = run_both(monkeypatch, sim, config)
    assert taken["used"] >= 6
    assert asked == plain_asked
    assert all(status == 200 for _, status in asked)
    assert without_time(fetched.messages) == without_time(plain.messages)


def test_a_slow_api_gets_the_next_request_while_the_page_is_written(taken):
    calls = make_calls(150, seed=65)
    with VoicegainSimulator(calls, token="t") as sim:
        # Latency above PAYS_AFTER_S: the default policy prefetches.
        sim.on_request = lambda index, params: time.sleep(2 * prefetch.PAYS_AFTER_S)
        run = run_tap({"jwt_token": "t", "api_url": sim.url, "per_page": 30})
        after = [r.params["afterCallId"][0] for r in sim.requests if r.params]
    assert taken["used"] == 5  # pages 2-6 (the empty one that ends the pass)
    assert run.call_ids == [int(c["callId"]) for c in calls]
    assert after[:6] == ["0", *(str(run.call_ids[i]) for i in (29, 59, 89, 119, 149))]


def test_an_api_faster_than_pays_after_is_not_prefetched(monkeypatch, taken):
    monkeypatch.setattr(prefetch, "PAYS_AFTER_S", 5.0)
    calls = make_calls(100, seed=66)
    with VoicegainSimulator(calls, token="t") as sim:
        run = run_tap({"jwt_token": "t", "api_url": sim.url, "per_page": 20})
    assert run.call_ids == [int(c["callId"]) for c in calls]
    assert taken == {"used": 0, "dropped": 0}


def test_a_wrong_guess_is_dropped_and_the_right_request_sent(monkeypatch, taken):
    tail = prefetch.page_tail

    def off_by_one(body, fmt):
        found = tail(body, fmt)
        return None if found is None else (found[0], found[1] - 1)

    monkeypatch.setattr(prefetch, "page_tail", off_by_one)
    calls = make_calls(100, seed=67)
    (fetched, asked), (plain, plain_asked) = run_both(
        monkeypatch,
        lambda: VoicegainSimulator(calls, token="t"),
        {"jwt_token": "t", "per_page": 25},
    )
    assert taken["used"] == 0
    assert taken["dropped"] >= 3
    assert without_time(fetched.messages) == without_time(plain.messages)
    # The dropped prefetches were extra requests; the stream's own all went out,
    # in the same order.
    extra = iter(asked)
    assert all(any(mine == theirs for mine in extra) for theirs in plain_asked)
    assert len(asked) > len(plain_asked)


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize("code", [500, 429])
def test_a_prefetch_that_fails_is_retried_like_the_request_it_stands_for(
    monkeypatch, taken, code, caplog
):
    calls = make_calls(120, seed=68)

    def sim():
        server = VoicegainSimulator(calls, token="t")
        server.inject("status", times=2, after=2, code=code)  # the 3rd page
        return server

    (fetched, asked), (plain, plain_asked) = run_both(
        monkeypatch, sim, {"jwt_token": "t", "per_page": 30, **FAST}
    )
    assert taken["used"] >= 3
    assert asked == plain_asked
    assert [s for _, s in asked][:5] == [200, 200, code, code, 200]
    assert without_time(fetched.messages) == without_time(plain.messages)
    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert len(retries) == 4  # two per run, each logged once


def test_a_prefetch_whose_retries_run_out_fails_the_run_where_the_request_would(
    monkeypatch, taken
):
    calls = make_calls(120, seed=69)

    def sim():
        server = VoicegainSimulator(calls, token="t")
        server.inject("status", times=10, after=2, code=503)
        return server

    config = {"jwt_token": "t", "per_page": 30, **FAST}
    (fetched, _), (plain, _) = run_both(monkeypatch, sim, config, expect_error=True)
    assert taken["used"] == 2
    assert type(fetched.error) is type(plain.error)
    assert str(fetched.error) == str(plain.error)
    assert "Gave up after 4 attempts" in str(fetched.error)
    # Two pages written, and the STATE after them covers exactly those.
    assert without_time(fetched.messages) == without_time(plain.messages)
    assert fetched.call_ids == [int(c["callId"]) for c in calls[:60]]


def test_a_rejected_token_on_a_prefetch_fails_the_run_with_the_same_message(
    monkeypatch,
):
    calls = make_calls(120, seed=70)

    def sim():
        server = VoicegainSimulator(calls, token="t")
        server.inject("status", after=1, code=401)
        return server

    (fetched, _), (plain, _) = run_both(
        monkeypatch, sim, {"jwt_token": "t", "per_page": 30}, expect_error=True
    )
    assert str(fetched.error) == str(plain.error)
    assert "rejected the token" in str(fetched.error)
    assert without_time(fetched.messages) == without_time(plain.messages)


# ------------------------------------------------------------------ the thread


def test_the_prefetch_thread_takes_no_signal_the_main_thread_must_handle():
    blocked: list[set[int]] = []
    ready = threading.Event()

    def send_once(request, context):
        blocked.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
        ready.set()
        return "answer"

    fetcher = prefetch.Prefetch(send_once, lambda func: func)
    request = requests.Request("GET", "http://127.0.0.1:9/v1/sa/call").prepare()
    fetcher.start(request, None)
    assert fetcher.take(request) == "answer"
    assert ready.is_set()
    assert {signal.SIGTERM, signal.SIGINT, signal.SIGALRM} <= blocked[0]
    # The main thread's own mask is untouched.
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_a_dropped_prefetch_sends_nothing_after_it_was_dropped():
    sent: list[str] = []
    on_the_wire = threading.Event()
    release = threading.Event()

    def send_once(request, context):
        sent.append(request.url)
        on_the_wire.set()
        release.wait(5)
        raise requests.ConnectionError

    def retrying(func):
        def call(request, context):
            for _ in range(2):
                with contextlib.suppress(requests.ConnectionError):
                    return func(request, context)
            return func(request, context)

        return call

    fetcher = prefetch.Prefetch(send_once, retrying)
    first = requests.Request("GET", "http://127.0.0.1:9/v1/sa/call?a=1").prepare()
    other = requests.Request("GET", "http://127.0.0.1:9/v1/sa/call?a=2").prepare()
    fetcher.start(first, None)
    assert on_the_wire.wait(5)
    threading.Timer(0.05, release.set).start()
    # Not the request prefetched: dropped, once the attempt on the wire ended.
    assert fetcher.take(other) is None
    sent_when_dropped = len(sent)
    for thread in threading.enumerate():
        if thread.name == "tap-voicegain-prefetch":
            thread.join(5)
    assert sent == [first.url] * sent_when_dropped  # its retries never went out


# ------------------------------------------------------- a stopped process


def test_sigterm_while_a_prefetch_is_in_flight_leaves_the_state_of_written_records(
    tmp_path,
):
    calls = make_calls(200, seed=72)
    with VoicegainSimulator(calls, token="t") as sim:
        # Slow enough that every page is prefetched; page 4's answer hangs, so
        # the tap writes pages 1-3 and then waits for the prefetched page 4.
        sim.on_request = lambda index, params: time.sleep(3 * prefetch.PAYS_AFTER_S)
        sim.inject("delay", after=3, seconds=8)
        config = write_json(
            tmp_path / "config.json",
            {"jwt_token": "t", "api_url": sim.url, "per_page": 20, **FAST},
        )
        process = start_tap(config, output=tmp_path)
        wait_for_requests(sim, 4)
        wait_for(
            lambda: (tmp_path / "stdout").read_bytes().count(b'"type":"STATE"') >= 3,
            "the STATE after page 3",
        )
        assert sim.requests[3].params["afterCallId"] == [calls[59]["callId"]]
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        messages = parse_messages((tmp_path / "stdout").read_bytes())
        ids, mark = records_and_bookmark(messages)
        assert process.returncode == 128 + signal.SIGTERM
        assert ids == [int(c["callId"]) for c in calls[:60]]
        assert mark == ids[-1]  # the STATE covers what was written, not page 4
        more = resume_from_last_state(tmp_path, config, messages)
    assert ids + more == [int(c["callId"]) for c in calls]


def test_no_prefetch_on_an_sdk_version_the_tests_do_not_cover(monkeypatch, taken):
    monkeypatch.setattr("tap_voicegain.streams.walk.sdk.sdk_covered", lambda: False)
    monkeypatch.setattr(prefetch, "PAYS_AFTER_S", 0.0)
    calls = make_calls(100, seed=73)
    with VoicegainSimulator(calls, token="t") as sim:
        run = run_tap({"jwt_token": "t", "api_url": sim.url, "per_page": 20})
        requests_made = len(sim.requests)
    assert run.call_ids == [int(c["callId"]) for c in calls]
    assert taken == {"used": 0, "dropped": 0}
    assert requests_made == 7  # 5 full pages, the empty one, the closing peek
