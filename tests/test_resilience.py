"""Transient faults are retried, fatal ones stop the run with a useful message."""

from __future__ import annotations

import email.utils
import logging
import time

import pytest
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_voicegain import errors
from tap_voicegain.tap import TapVoicegain
from tests.helpers import FAST_RETRIES, TOKEN
from tests.oracle import exported
from tests.singer_output import bookmark, run_tap


@pytest.fixture
def fast(config):
    return {**config, **FAST_RETRIES}


def consecutive_requests(sim):
    return [r for r in sim.requests if "consecutive" in r.params]


@pytest.mark.parametrize(
    ("fault", "opts"),
    [
        ("status", {"code": 500}),
        ("status", {"code": 502}),
        ("status", {"code": 503}),
        ("status", {"code": 429}),
        ("status", {"code": 429, "retry_after": "0"}),
        ("reset", {}),
        ("truncate", {}),
        ("delay", {"seconds": 1.5}),
    ],
)
def test_transient_faults_are_retried_and_the_export_continues_exactly(
    sim,
    fast,
    fault,
    opts,
    caplog,
):
    # Two bad answers in the middle of the export (after two good pages).
    sim.inject(fault, times=2, after=2, **opts)
    with caplog.at_level(logging.WARNING):
        run = run_tap({**fast, "request_timeout": 1})
    assert run.call_ids == [int(c["callId"]) for c in exported(sim.calls)]
    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert len(retries) == 2  # each retry logged once
    assert "attempt 1 of 4" in retries[0].getMessage()
    assert "attempt 2 of 4" in retries[1].getMessage()
    assert "waiting" in retries[0].getMessage()
    if fault == "status":
        assert f"HTTP {opts['code']}" in retries[0].getMessage()


def test_retry_after_is_obeyed_in_seconds_and_as_an_http_date_and_capped(sim, config):
    stream = TapVoicegain(config={**config, "retry_wait_max": 30}).streams["calls"]

    def waits_for(header: str | None) -> float:
        response = requests.Response()
        response.status_code = 429
        if header is not None:
            response.headers["Retry-After"] = header
        wait_gen = stream.backoff_wait_generator()
        next(wait_gen)
        return wait_gen.send(RetriableAPIError("429", response))

    assert waits_for("7") == 7
    future = email.utils.formatdate(time.time() + 12, usegmt=True)
    assert 10 <= waits_for(future) <= 12
    assert waits_for("3600") == 30  # capped by retry_wait_max
    assert waits_for(None) <= 2.0  # no header: backoff from retry_wait_base


def test_exponential_backoff_without_retry_after(sim, config):
    stream = TapVoicegain(
        config={**config, "retry_wait_base": 1, "retry_wait_max": 100}
    ).streams["calls"]
    wait_gen = stream.backoff_wait_generator()
    next(wait_gen)
    waits = [wait_gen.send(ConnectionResetError()) for _ in range(5)]
    for attempt, wait in enumerate(waits):
        assert 2**attempt * 0.5 <= wait <= 2**attempt


def test_when_retries_run_out_the_error_counts_attempts_and_names_the_last_failure(
    sim, fast
):
    sim.inject("status", times=10, after=1, code=503, body='{"message": "maintenance"}')
    run = run_tap(fast, expect_error=True)
    message = str(run.error)
    assert "Gave up after 4 attempts" in message
    assert "HTTP 503" in message
    assert "maintenance" in message
    assert len(consecutive_requests(sim)) == 1 + 4
    # The first page was written and checkpointed; nothing beyond it.
    assert run.call_ids == [int(c["callId"]) for c in exported(sim.calls)[:40]]
    assert bookmark(run.last_state) == run.call_ids[-1]


@pytest.mark.parametrize("code", [401, 403])
def test_a_rejected_token_stops_at_once_and_says_where_tokens_come_from(
    sim, fast, code
):
    sim.inject("status", code=code, body='{"message": "invalid or expired token"}')
    run = run_tap(fast, expect_error=True)
    message = str(run.error)
    assert isinstance(run.error, errors.TokenRejectedError)
    assert f"HTTP {code}" in message
    assert "Project Settings" in message
    assert sim.url in message
    assert TOKEN not in message
    assert len(consecutive_requests(sim)) == 1  # no retry
    assert run.records == []


def test_a_wrong_token_is_rejected_by_the_api(sim, fast):
    run = run_tap({**fast, "jwt_token": "not-the-token"}, expect_error=True)
    assert isinstance(run.error, errors.TokenRejectedError)
    assert "not-the-token" not in str(run.error)


def test_other_client_errors_show_the_apis_message_and_the_parameters(sim, fast):
    sim.inject(
        "status",
        code=400,
        body='{"message": "Invalid value for parameter \'queueId\'"}',
    )
    run = run_tap(fast, expect_error=True)
    message = str(run.error)
    assert isinstance(run.error, FatalAPIError)
    assert "HTTP 400" in message
    assert "Invalid value for parameter 'queueId'" in message
    assert "afterCallId=0" in message
    assert "per_page=40" in message
    assert TOKEN not in message
    assert len(consecutive_requests(sim)) == 1


@pytest.mark.parametrize(
    ("fault", "fmt", "says"),
    [
        ("bad_json", "json", "JSON that does not parse"),
        ("no_callid_csv", "csv", "no callId column"),
    ],
)
def test_a_200_with_the_wrong_body_names_the_page_and_keeps_state_honest(
    sim,
    fast,
    fault,
    fmt,
    says,
):
    sim.inject(fault, after=2)
    run = run_tap({**fast, "format": fmt}, expect_error=True)
    message = str(run.error)
    assert isinstance(run.error, errors.BadPageError)
    assert says in message
    assert "page 3" in message
    expected = [int(c["callId"]) for c in exported(sim.calls)[:80]]
    assert run.call_ids == expected
    assert bookmark(run.last_state) == expected[-1]
    # Resuming from that state exports the rest, nothing twice.
    rest = run_tap(fast, state=run.last_state)
    assert run.call_ids + rest.call_ids == [
        int(c["callId"]) for c in exported(sim.calls)
    ]


@pytest.mark.parametrize(
    ("fault", "fmt", "says"),
    [
        ("html", "json", "an HTML page"),
        ("non_array", "json", "HTTP 200 with a JSON object"),
        ("html", "csv", "an HTML page"),
    ],
)
def test_a_200_that_is_not_the_export_is_retried_then_named(
    sim, fast, fault, fmt, says
):
    # A maintenance page that passes: every call, nothing twice.
    sim.inject(fault, after=2)
    passed = run_tap({**fast, "format": fmt})
    assert passed.call_ids == [int(c["callId"]) for c in exported(sim.calls)]
    # One that lasts: the run fails naming the request; the state stays honest.
    sim.inject(fault, times=100)
    sim.add_generated(50)
    run = run_tap({**fast, "format": fmt}, state=passed.last_state, expect_error=True)
    message = str(run.error)
    assert isinstance(run.error, errors.RetriesExhaustedError)
    assert says in message
    assert f"afterCallId={passed.call_ids[-1]}" in message
    assert run.call_ids == []
    assert bookmark(run.last_state) == passed.call_ids[-1]


def test_calls_out_of_order_are_refused(config, sim):
    sim.inject(
        "raw",
        body=b'[{"callId": "12"}, {"callId": "11"}]',
        content_type="application/json",
    )
    run = run_tap({**config, "start_after_call_id": 10}, expect_error=True)
    assert isinstance(run.error, errors.BadPageError)
    assert "callId 11 after 12" in str(run.error)
