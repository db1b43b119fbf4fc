"""One call's own request failing never stops the others (issue 19: 1 2 4 6 7 12 15).

A remembered call (``GET /sa/call/{callId}``) or a transcript
(``GET /sa/{saSessionId}/transcript``) that fails is skipped for this run with
one WARNING (callId, path, status; never the body), remembered with its
attempts, asked again by later runs, and given up after a bound
(design.md, "Per-call requests").
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import typing as t

import pytest

from tests.failure_support import (
    BODY_MARKER,
    MARKED_BODY,
    ONE_RETRY,
    TOKEN,
    FakeClock,
    asked_sessions,
    at_least,
    clocked_tap,
    detail,
    error_lines,
    hours_ago,
    ids,
    ids_of,
    looked_up,
    naming,
    part,
    records_of,
    remembered,
    run_cli,
    sync,
)
from tests.helpers import tap_command, tap_env, wait_for, write_json
from tests.transcript_support import catalog, with_transcript
from voicegain_sim import VoicegainSimulator, make_calls

if t.TYPE_CHECKING:
    from pathlib import Path


def config_for(sim: VoicegainSimulator, **settings: t.Any) -> dict[str, t.Any]:
    return {"jwt_token": TOKEN, "api_url": sim.url, **ONE_RETRY, **settings}


def no_body_text(caplog: pytest.LogCaptureFixture, *runs: t.Any) -> None:
    assert BODY_MARKER not in caplog.text
    for run in runs:
        assert BODY_MARKER not in json.dumps(run.messages)


# ------------------------------------------------ 1: a remembered call's answer

# kind and options of the fault on GET /sa/call/{id}; the facts its WARNING names.
CALL_ANSWERS = {
    "lasting 500": ({"fault": "status", "code": 500, "body": MARKED_BODY}, ("500",)),
    "400": ({"fault": "status", "code": 400, "body": MARKED_BODY}, ("400",)),
    "410": ({"fault": "status", "code": 410, "body": MARKED_BODY}, ("410",)),
    "403": ({"fault": "status", "code": 403, "body": MARKED_BODY}, ("403",)),
    "451": ({"fault": "status", "code": 451, "body": MARKED_BODY}, ("451",)),
    "HTML 200": ({"fault": "html"}, ("not a call",)),
    "empty list": (
        {"fault": "raw", "body": "[]", "content_type": "application/json"},
        ("not a call",),
    ),
}


def _answer_without_call_id(call: dict[str, t.Any]) -> str:
    return json.dumps({k: v for k, v in call.items() if k != "callId"})


def _answer_with_bad_call_id(call: dict[str, t.Any]) -> str:
    return json.dumps({**call, "callId": "abc"})


@pytest.mark.parametrize(
    "answer",
    [*CALL_ANSWERS, "no callId", "bad callId"],
)
def test_a_remembered_call_whose_answer_fails_is_skipped_and_new_calls_flow(
    caplog, answer
):
    calls = make_calls(25, seed=101)
    stuck, new = int(calls[2]["callId"]), ids(calls[5:])
    if answer in CALL_ANSWERS:
        options, why = CALL_ANSWERS[answer]
        options = dict(options)
    else:
        body = (
            _answer_without_call_id(calls[2])
            if answer == "no callId"
            else _answer_with_bad_call_id(calls[2])
        )
        options = {"fault": "raw", "body": body, "content_type": "application/json"}
        why = ("not a call",)
    state = remembered(int(calls[4]["callId"]), [stuck])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        sim.inject(options.pop("fault"), times=5, endpoint="call", **options)
        with caplog.at_level(logging.INFO):
            run = sync(config_for(sim), state)
    assert run.error is None
    assert ids_of(run) == new  # every new call, none lost to the bad answer
    (warned,) = naming(caplog, stuck)  # one WARNING for the call
    assert f"/sa/call/{stuck}" in warned
    assert any(fact in warned for fact in why)
    assert at_least(caplog, logging.ERROR) == []
    no_body_text(caplog, run)
    # Remembered with its attempt, asked again by the next run.
    assert stuck in part(run.last_state).get("stuck_call_ids", [])
    kept = detail(run.last_state, stuck)
    assert kept.get("attempts") == 1
    assert "since" in kept
    assert any(fact in str(kept.get("last")) for fact in why)
    assert part(run.last_state)["replication_key_value"] == new[-1]


# ---------------------------------------------------- 2: a transcript's answer

TRANSCRIPT_ANSWERS = {
    "null": ({"fault": "raw", "body": "null", "content_type": "application/json"}, 1),
    "empty object": (
        {"fault": "raw", "body": "{}", "content_type": "application/json"},
        1,
    ),
    "a string": (
        {"fault": "raw", "body": '"Hello"', "content_type": "application/json"},
        1,
    ),
    "plain text": (
        {
            "fault": "raw",
            "body": "Hello, you are through",
            "content_type": "text/plain",
        },
        1,
    ),
    "204": ({"fault": "raw", "code": 204, "body": ""}, 1),
    "202": (
        {
            "fault": "raw",
            "code": 202,
            "body": '{"status": "ACCEPTED"}',
            "content_type": "application/json",
        },
        1,
    ),
    "410": ({"fault": "status", "code": 410, "body": MARKED_BODY}, 1),
    "403": ({"fault": "status", "code": 403, "body": MARKED_BODY}, 1),
    "422": ({"fault": "status", "code": 422, "body": MARKED_BODY}, 1),
    "lasting 500": ({"fault": "status", "code": 500, "body": MARKED_BODY}, 2),
    # Deeper than the tap's bound (500), which every Python decodes: refused
    # the same on each (msgspec's own limit differs by Python version).
    "nested 600 deep": (
        {
            "fault": "raw",
            "body": "[" * 600 + "]" * 600,
            "content_type": "application/json",
        },
        1,
    ),
}


def _why(answer: str) -> tuple[str, ...]:
    """What the WARNING and the state say about the answer: status or shape."""
    last = answer.rsplit(maxsplit=1)[-1]
    return (last, "not a transcript") if last.isdigit() else ("not a transcript",)


@pytest.mark.parametrize("answer", list(TRANSCRIPT_ANSWERS))
def test_a_transcript_whose_answer_fails_is_skipped_and_none_is_sent_twice(
    caplog, answer
):
    options, times = TRANSCRIPT_ANSWERS[answer]
    options = dict(options)
    calls = make_calls(12, seed=102)
    wanted = ids(with_transcript(calls))
    bad = wanted[5]
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = config_for(sim)
        sim.inject(
            options.pop("fault"), times=times, after=5, endpoint="transcript", **options
        )
        with caplog.at_level(logging.INFO):
            first = sync(config, streams=("transcripts",))
        assert first.error is None
        assert ids_of(first, "transcripts") == [i for i in wanted if i != bad]
        (warned,) = naming(caplog, bad)
        assert "transcript" in warned
        assert any(fact in warned for fact in _why(answer))
        assert at_least(caplog, logging.ERROR) == []
        no_body_text(caplog, first)
        # The bookmark moved past it; the call is remembered in its partition.
        kept = part(first.last_state, "transcripts")
        assert kept["replication_key_value"] == int(calls[-1]["callId"])
        assert bad in kept.get("stuck_call_ids", [])
        assert detail(first.last_state, bad, "transcripts").get("attempts") == 1

        sim.faults.clear()
        second = sync(config, first.last_state, streams=("transcripts",))
    assert second.error is None
    assert ids_of(second, "transcripts") == [bad]  # asked again; none re-sent
    assert bad not in part(second.last_state, "transcripts").get("stuck_call_ids", [])


# ------------------------------------------------ 4: 404, and another callId


def test_one_404_does_not_forget_a_remembered_call(caplog):
    calls = make_calls(20, seed=103)
    stuck = int(calls[3]["callId"])
    state = remembered(int(calls[-1]["callId"]), [stuck])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = config_for(sim)
        sim.inject("status", code=404, endpoint="call")
        with caplog.at_level(logging.INFO):
            first = sync(config, state)
        assert first.error is None
        assert ids_of(first) == []
        assert stuck in part(first.last_state).get("stuck_call_ids", [])
        assert detail(first.last_state, stuck).get("attempts") == 1
        assert "404" in str(detail(first.last_state, stuck).get("last"))
        second = sync(config, first.last_state)
    assert ids_of(second) == [stuck]  # exported once it answers
    assert stuck not in part(second.last_state).get("stuck_call_ids", [])


def test_an_answer_about_another_call_is_an_error_for_the_remembered_one(caplog):
    calls = make_calls(20, seed=104)
    stuck, other = int(calls[3]["callId"]), calls[7]
    state = remembered(int(calls[-1]["callId"]), [stuck])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = config_for(sim)
        body = json.dumps(other)
        sim.inject("raw", body=body, content_type="application/json", endpoint="call")
        with caplog.at_level(logging.INFO):
            first = sync(config, state)
        assert first.error is None
        assert ids_of(first) == []  # not the other call's record
        (warned,) = naming(caplog, stuck)
        assert f"/sa/call/{stuck}" in warned
        assert stuck in part(first.last_state).get("stuck_call_ids", [])
        assert detail(first.last_state, stuck).get("attempts") == 1
        second = sync(config, first.last_state)
    assert ids_of(second) == [stuck]


def test_a_404_that_persists_past_the_bound_gives_the_call_up(caplog):
    calls = make_calls(20, seed=105)
    stuck = int(calls[3]["callId"])
    since = {"since": hours_ago(200), "attempts": 2, "last": "HTTP 404"}
    state = remembered(int(calls[-1]["callId"]), [stuck], details={stuck: since})
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        sim.delete_call(stuck)
        with caplog.at_level(logging.INFO):
            run = sync(config_for(sim, give_up_after_hours=24), state)
    assert run.error is None
    kept = part(run.last_state)
    assert stuck not in kept.get("stuck_call_ids", [])
    assert str(stuck) not in kept.get("stuck_calls", {})
    assert stuck in kept.get("given_up_call_ids", [])
    assert len(naming(caplog, stuck)) == 1


# --------------------------------------- 6: a transcript that stays not ready


@pytest.mark.parametrize(
    ("since_hours", "attempts", "given_up"),
    [(72, 2, True), (72, 0, False), (2, 5, False)],
    ids=["long-and-3-asks", "long-but-first-ask", "many-asks-but-recent"],
)
def test_a_transcript_that_keeps_answering_400_is_given_up_by_the_rule(
    caplog, since_hours, attempts, given_up
):
    calls = make_calls(12, seed=106)
    pending = with_transcript(calls)[3]
    call_id, session = int(pending["callId"]), pending["saSessionId"]
    details = {
        call_id: {"since": hours_ago(since_hours), "attempts": attempts, "last": "x"}
    }
    state = remembered(
        int(calls[-1]["callId"]), [call_id], stream="transcripts", details=details
    )
    with VoicegainSimulator(calls, token=TOKEN, transcripts_pending=[session]) as sim:
        config = config_for(sim, give_up_after_hours=24)
        with caplog.at_level(logging.INFO):
            first = sync(config, state, streams=("transcripts",))
        assert first.error is None
        assert records_of(first, "transcripts") == []
        assert set(looked_up(sim)) <= {call_id}
        assert asked_sessions(sim) == [session]  # asked once
        kept = part(first.last_state, "transcripts")
        if not given_up:
            assert call_id in kept.get("stuck_call_ids", [])
            assert detail(first.last_state, call_id, "transcripts").get("attempts") == (
                attempts + 1
            )
            assert call_id not in kept.get("given_up_call_ids", [])
            return
        assert call_id not in kept.get("stuck_call_ids", [])
        assert call_id in kept.get("given_up_call_ids", [])
        assert len(naming(caplog, call_id)) == 1  # one WARNING names it
        summaries = [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.INFO and "given up" in r.getMessage()
        ]
        assert summaries  # counted in the summary
        before = len(sim.requests)
        second = sync(config, first.last_state, streams=("transcripts",))
        assert second.error is None
        again = [r.path for r in sim.requests[before:] if r.endpoint != "calls"]
        assert again == []  # never asked again


# ------------------------------------------------ 7: budgets bound requests


def test_transcripts_per_run_bounds_transcript_requests_not_records():
    calls = make_calls(40, seed=107)
    with VoicegainSimulator(
        calls, token=TOKEN, transcripts_missing_fraction=0.8
    ) as sim:
        run = sync(config_for(sim, transcripts_per_run=5), streams=("transcripts",))
        sent = len(sim.requests_to("transcript"))
    assert run.error is None
    assert len(records_of(run, "transcripts")) <= 5
    assert sent <= 5


def test_transcripts_per_run_bounds_the_requests_for_remembered_transcripts():
    calls = make_calls(50, seed=108)
    pending = with_transcript(calls)[:40]
    state = remembered(int(calls[-1]["callId"]), ids(pending), stream="transcripts")
    with VoicegainSimulator(
        calls, token=TOKEN, transcripts_pending=[c["saSessionId"] for c in pending]
    ) as sim:
        run = sync(
            config_for(sim, transcripts_per_run=1), state, streams=("transcripts",)
        )
        sent = len(sim.requests_to("transcript"))
    assert run.error is None
    assert records_of(run, "transcripts") == []
    assert sent <= 1
    assert set(part(run.last_state, "transcripts")["stuck_call_ids"]) == set(
        ids(pending)
    )


def test_max_rechecks_per_run_asks_the_oldest_remembered_calls_first():
    calls = make_calls(30, seed=109, processing_at=range(20))
    stuck = ids(calls[:20])
    # Remembered at different times, not in callId order.
    since = {call_id: ((i * 7) % 20) + 1 for i, call_id in enumerate(stuck)}
    details = {
        call_id: {"since": hours_ago(hours), "attempts": 1, "last": "PROCESSING"}
        for call_id, hours in since.items()
    }
    oldest = sorted(stuck, key=lambda call_id: -since[call_id])[:5]
    state = remembered(int(calls[-1]["callId"]), stuck, details=details)
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        run = sync(config_for(sim, max_rechecks_per_run=5), state)
        asked = looked_up(sim)
    assert run.error is None
    assert sorted(asked) == sorted(oldest)
    assert part(run.last_state)["stuck_call_ids"] == stuck  # the rest kept


def test_by_default_at_most_50_remembered_calls_are_asked_per_run():
    calls = make_calls(70, seed=110, processing_at=range(60))
    stuck = ids(calls[:60])
    state = remembered(int(calls[-1]["callId"]), stuck)
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        run = sync(config_for(sim), state)
        asked = looked_up(sim)
    assert run.error is None
    assert len(asked) == 50
    assert part(run.last_state)["stuck_call_ids"] == stuck


# --------------------------------------------- 12: a key part that is missing


def test_with_projects_and_no_context_id_no_record_has_a_null_key():
    east = make_calls(6, seed=111)
    west = make_calls(6, seed=112, first_id=50_000)
    for call in east + west:
        call.pop("contextId")
    tokens = {"east-plain-token": east, "west-plain-token": west}  # not JWTs
    with VoicegainSimulator(None, token="unused", projects=tokens) as sim:
        config = {
            "projects": [
                {"name": "east", "jwt_token": "east-plain-token"},
                {"name": "west", "jwt_token": "west-plain-token"},
            ],
            "api_url": sim.url,
            **ONE_RETRY,
        }
        run = sync(config, streams=("calls", "transcripts"))
    emitted = records_of(run, "calls") + records_of(run, "transcripts")
    assert [r["callId"] for r in emitted if r.get("contextId") is None] == []
    assert run.error is not None
    assert "contextId" in str(run.error)


# ------------------------------------------------ 15: what the log says


def test_the_api_text_of_a_transcript_400_is_not_logged(caplog):
    calls = make_calls(12, seed=113)
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        sim.inject("status", code=400, body=MARKED_BODY, after=3, endpoint="transcript")
        config = config_for(sim, max_processing_hours=10**6)  # not stepped over
        with caplog.at_level(logging.DEBUG):
            run = sync(config, streams=("transcripts",))
    assert run.error is None
    assert len(records_of(run, "transcripts")) == 3  # the pass ended at the 400
    no_body_text(caplog, run)


def test_a_5xx_out_of_retries_names_its_request():
    with VoicegainSimulator(make_calls(10, seed=114), token=TOKEN) as sim:
        sim.inject("status", code=500, times=5)
        run = sync(config_for(sim))
    assert run.error is not None
    assert "500" in str(run.error)
    assert "/sa/call" in str(run.error)
    assert "afterCallId" in str(run.error)


def test_a_403_on_one_transcript_is_that_transcripts_failure(caplog):
    calls = make_calls(10, seed=115)
    wanted = ids(with_transcript(calls))
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        sim.inject("status", code=403, after=2, endpoint="transcript")
        with caplog.at_level(logging.INFO):
            run = sync(config_for(sim), streams=("transcripts",))
    assert run.error is None
    assert ids_of(run, "transcripts") == [i for i in wanted if i != wanted[2]]
    (warned,) = naming(caplog, wanted[2])
    assert "403" in warned
    assert not [m for m in at_least(caplog, logging.WARNING) if "token" in m.lower()]


def test_after_sigterm_the_transcripts_summary_says_it_was_stopped(tmp_path: Path):
    calls = make_calls(12, seed=116)
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = config_for(sim)
        sim.inject("delay", seconds=30, after=2, endpoint="transcript")
        command = tap_command(write_json(tmp_path / "config.json", config))
        chosen = write_json(tmp_path / "catalog.json", catalog(config, "transcripts"))
        command += ["--catalog", str(chosen)]
        with (tmp_path / "err").open("wb") as err, (tmp_path / "out").open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=err, env=tap_env())
        try:
            wait_for(lambda: len(sim.requests_to("transcript")) >= 3, "3 transcripts")
            os.kill(process.pid, signal.SIGTERM)
            code = process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    stderr = (tmp_path / "err").read_text(encoding="utf-8")
    assert code == 128 + signal.SIGTERM
    summaries = [
        line
        for line in stderr.splitlines()
        if "ended because" in line and "transcripts from" in line
    ]
    assert summaries, stderr[-2000:]
    assert all("SIGTERM" in line for line in summaries)
    assert "ended because an error" not in stderr


def test_transcript_progress_lines_count_the_rate_limit_wait_so_far(
    caplog, monkeypatch
):
    # A progress line after every call, not every 15 s.
    monkeypatch.setattr("tap_voicegain.streams.progress.LOG_EVERY_SECONDS", 0.0)
    clock = FakeClock()
    calls = make_calls(12, seed=117)
    with (
        VoicegainSimulator(
            calls, token=TOKEN, rate_limits=((3, 10.0),), clock=clock
        ) as sim,
        caplog.at_level(logging.INFO),
    ):
        run = sync(
            config_for(sim), streams=("transcripts",), tap_class=clocked_tap(clock)
        )
    assert run.error is None
    assert len(records_of(run, "transcripts")) == len(with_transcript(calls))
    waits = [
        r.rate_limit_wait_seconds
        for r in caplog.records
        if hasattr(r, "rate_limit_wait_seconds") and not hasattr(r, "ended_because")
    ]
    (summary,) = [r for r in caplog.records if getattr(r, "pass", "") == "transcripts"]
    assert summary.rate_limit_wait_seconds > 0  # the run did wait
    assert waits
    assert max(waits) > 0  # and the progress lines said so while it ran


def test_a_failure_prints_one_error_line(tmp_path: Path):
    with VoicegainSimulator(make_calls(10, seed=118), token=TOKEN) as sim:
        sim.inject("status", code=500, times=5)
        done = run_cli(tmp_path, config_for(sim))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = error_lines(done.stderr)
    assert len(lines) == 1, lines
    (line,) = lines
    assert "500" in line
    assert "/sa/call" in line
