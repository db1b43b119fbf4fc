"""The tap works whichever way the API reads what its documents leave open (issue 18).

The vendor's guide describes ``afterCallId`` only "in conjunction with
consecutive=true"; an API that ignores it otherwise (``ignored``) reads its
documents as faithfully as one that honours it (``honoured``). Each scenario
whose outcome could depend on that runs under both readings, against the
simulator (voicegain_sim.readings), with the tap in-process. The tests look at
what a user sees: the records, the STATE, the requests the API received, the
log (never a whole sentence).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import typing as t

import pytest

from tests.failure_support import part, sync
from tests.helpers import FAST_RETRIES, bookmark, east_and_west, run_tap
from tests.readings_support import (
    DOCUMENTED_ALONE,
    FINISHED,
    IN_PROGRESS,
    READINGS,
    after_without_consecutive,
    ago,
    assert_no_repeats,
    at_least,
    config_for,
    emitted,
    export_pages,
    fetched,
    ids,
    lines_naming,
    list_requests,
    names,
    record_of,
    refresh_pages,
    reversed_windows,
    rfc3339,
    simulator,
    since,
    stuck,
)
from tests.transcript_support import with_transcript
from voicegain_sim import make_calls

if t.TYPE_CHECKING:
    from tests.helpers import TapRun

EMPTY_ANSWERS = ("204", "empty", "null")
NOT_THE_EXPORT = ("maintenance", "error_object")


@pytest.fixture(params=READINGS)
def reading(request: pytest.FixtureRequest) -> str:
    """Each reading of afterCallId without consecutive=true."""
    return t.cast("str", request.param)


def a_reviewed_call(run: TapRun, among: list[int]) -> int:
    """A callId of ``among`` (the middle one) to review after its export."""
    assert among, "no call to review"
    call_id = among[len(among) // 2]
    assert call_id in emitted(run)
    return call_id


# --- 1. the refresh window ---


def test_the_refresh_window_re_emits_a_call_reviewed_after_its_export(reading):
    calls = make_calls(300, seed=181, start=ago(days=3))  # all inside the window
    every = ids(calls)
    with simulator(calls, reading) as sim:
        config = config_for(sim, per_page=50, refresh_window_days=7)
        first = run_tap(config)
        assert emitted(first) == every
        reviewed = a_reviewed_call(first, every)
        sim.update_call(reviewed, score=97.5, reviewStatus="reviewed")
        new = ids(sim.add_generated(20))
        second = run_tap(config, first.last_state)
    got = emitted(second)
    # The new calls and the refreshed ones, each once; the review reached the target.
    assert_no_repeats(got)
    assert set(got) == set(every) | set(new)
    assert record_of(second, reviewed)["score"] == 97.5
    assert record_of(second, reviewed)["reviewStatus"] == "reviewed"
    assert bookmark(second.last_state) == new[-1]


def test_the_refresh_pass_sends_only_documented_parameters(reading):
    calls = make_calls(200, seed=182, start=ago(days=2))
    with simulator(calls, reading) as sim:
        config = config_for(sim, per_page=30, refresh_window_days=7)
        first = run_tap(config)
        sim.add_generated(5)
        second = run_tap(config, first.last_state)
        sent = list(sim.requests)
    assert second.error is None
    refresh = refresh_pages(sent)
    assert refresh, "no refresh page was asked for"
    for request in refresh:
        assert set(request.params) <= DOCUMENTED_ALONE, request.params
    # afterCallId without consecutive=true only in looks whose answer the tap
    # checks: never in a page the refresh or the export emits from.
    for request in after_without_consecutive(sent):
        assert request not in refresh
        assert request not in export_pages(sent)


# --- 2. a call stuck in processing for days ---


def test_a_call_stuck_for_days_is_stepped_over_named_and_emitted_once_done(
    reading, caplog
):
    calls = make_calls(120, seed=183, processing_at=[40])  # started in 2024
    blocked = int(calls[40]["callId"])
    others = [c for c in ids(calls) if c != blocked]
    with simulator(calls, reading) as sim:
        config = config_for(sim, per_page=25)  # max_processing_hours: 24
        with caplog.at_level(logging.INFO):
            first = run_tap(config)
        # Stepped over at once; the calls after it flow in the same run.
        assert emitted(first) == others
        assert stuck(first.last_state) == [blocked]
        assert lines_naming(caplog, blocked, logging.WARNING)
        second = run_tap(config, first.last_state)  # still processing
        assert emitted(second) == []
        assert stuck(second.last_state) == [blocked]
        sim.set_phase(blocked, "DONE")
        third = run_tap(config, second.last_state)
        mark = len(sim.requests)
        fourth = run_tap(config, third.last_state)
        later = since(sim, mark)
    assert emitted(third) == [blocked]
    assert stuck(third.last_state) == []
    assert emitted(fourth) == []
    assert fetched(later) == []
    everything = emitted(first) + emitted(second) + emitted(third) + emitted(fourth)
    assert sorted(everything) == ids(calls)


def test_the_refresh_leaves_a_remembered_call_alone_until_it_finishes(reading):
    calls = make_calls(80, seed=200, start=ago(days=3), processing_at=[30])
    blocked = int(calls[30]["callId"])
    with simulator(calls, reading) as sim:
        config = config_for(sim, per_page=25, refresh_window_days=7)
        first = run_tap(config)
        second = run_tap(config, first.last_state)  # still processing
        sim.set_phase(blocked, "DONE")
        third = run_tap(config, second.last_state)
    assert blocked not in emitted(first)
    assert stuck(second.last_state) == [blocked]
    assert blocked not in emitted(second)
    assert emitted(third).count(blocked) == 1
    assert record_of(third, blocked)["progressPhase"] == "DONE"


@pytest.mark.parametrize(
    "reading",
    [
        "honoured",
        "ignored",
    ],
)
def test_a_stuck_call_far_behind_the_newest_calls_is_stepped_over(reading, caplog):
    calls = make_calls(2_000, seed=184, processing_at=[50])  # 1,949 calls after it
    blocked = int(calls[50]["callId"])
    with simulator(calls, reading) as sim, caplog.at_level(logging.INFO):
        run = run_tap(config_for(sim, per_page=100))
    assert emitted(run) == [c for c in ids(calls) if c != blocked]
    assert stuck(run.last_state) == [blocked]
    assert lines_naming(caplog, blocked, logging.WARNING)


# --- 3. a page size capped by the API ---


def test_a_capped_page_size_still_exports_every_call_in_one_run(reading):
    calls = make_calls(1_000, seed=185)
    with simulator(calls, reading, per_page_cap=100) as sim:
        config = config_for(sim, per_page=1_000)
        first = run_tap(config)
        second = run_tap(config, first.last_state)
    assert emitted(first) == ids(calls)
    assert emitted(second) == []
    assert bookmark(second.last_state) == ids(calls)[-1]


@pytest.mark.parametrize(
    "reading",
    [
        "honoured",
        "ignored",
    ],
)
def test_a_stuck_call_behind_a_capped_page_size_is_stepped_over(reading):
    calls = make_calls(1_000, seed=186, processing_at=[150])  # started in 2024
    blocked = int(calls[150]["callId"])
    with simulator(calls, reading, per_page_cap=100) as sim:
        run = run_tap(config_for(sim, per_page=1_000))
    assert emitted(run) == [c for c in ids(calls) if c != blocked]
    assert stuck(run.last_state) == [blocked]


# --- 4. an empty list as 204, an empty body, null ---


@pytest.mark.parametrize("style", EMPTY_ANSWERS)
def test_an_empty_list_in_any_form_ends_the_run_cleanly(reading, style):
    # 160 calls in pages of 40: the end of the list is an empty answer, in the
    # export and in the refresh pass alike.
    calls = make_calls(160, seed=187, start=ago(days=3))
    with simulator(calls, reading, empty_answer=style) as sim:
        config = config_for(sim, per_page=40, refresh_window_days=7)
        first = run_tap(config)
        second = run_tap(config, first.last_state)
        third = run_tap(config, second.last_state)
    assert emitted(first) == ids(calls)
    assert bookmark(first.last_state) == ids(calls)[-1]
    # Later runs: the refresh re-emits, the export finds nothing new; no error.
    for later in (second, third):
        assert_no_repeats(emitted(later))
        assert set(emitted(later)) == set(ids(calls))
        assert bookmark(later.last_state) == ids(calls)[-1]


@pytest.mark.parametrize(
    ("style", "fmt"),
    [*((style, "json") for style in EMPTY_ANSWERS), ("204", "csv"), ("empty", "csv")],
)
def test_an_empty_list_in_any_form_exports_nothing_twice(reading, style, fmt):
    calls = make_calls(160, seed=188)
    with simulator(calls, reading, empty_answer=style) as sim:
        config = config_for(sim, per_page=40, format=fmt)
        first = run_tap(config)
        second = run_tap(config, first.last_state)
    assert emitted(first) == ids(calls)
    assert emitted(second) == []
    assert bookmark(second.last_state) == ids(calls)[-1]


# --- 5. to_time before the refresh window ---


def test_to_time_before_the_refresh_window_sends_no_reversed_window(reading):
    calls = make_calls(100, seed=189, start=ago(days=30))
    to_time = rfc3339(ago(days=20))  # after every call, before the window
    with simulator(calls, reading, refuse_reversed_times=True) as sim:
        config = config_for(sim, per_page=30, refresh_window_days=7, to_time=to_time)
        first = run_tap(config)
        second = run_tap(config, first.last_state)
        sent = list(sim.requests)
    assert emitted(first) == ids(calls)
    assert emitted(second) == []
    assert reversed_windows(sent) == []
    assert all(r.status != 400 for r in sent)


# --- 6. a 200 that is not the export ---


@pytest.mark.parametrize("kind", NOT_THE_EXPORT)
def test_a_passing_non_export_200_is_retried_like_a_5xx(reading, kind, caplog):
    calls = make_calls(120, seed=190)
    with simulator(calls, reading) as sim:
        sim.inject(kind, times=2, after=1)  # the second and third list requests
        with caplog.at_level(logging.INFO):
            run = run_tap(config_for(sim, per_page=25))
        left = len(sim.faults)
    assert left == 0  # both answers were sent
    assert emitted(run) == ids(calls)
    assert bookmark(run.last_state) == ids(calls)[-1]
    assert len([r for r in caplog.records if hasattr(r, "attempt")]) == 2


@pytest.mark.parametrize(
    ("kind", "shown"),
    [("maintenance", "html"), ("error_object", r"json (object|dict)")],
)
def test_a_lasting_non_export_200_fails_the_run_naming_it(kind, shown):
    with simulator(make_calls(50, seed=191), "honoured") as sim:
        sim.inject(kind, times=None)
        run = run_tap(config_for(sim, per_page=20), expect_error=True)
        asked = len(list_requests(sim.requests))
    text = str(run.error).lower()
    assert re.search(shown, text)  # what came instead of the export
    assert "/sa/call" in text  # the request
    assert asked == FAST_RETRIES["max_retries"] + 1  # retried like a 5xx


@pytest.mark.parametrize("kind", NOT_THE_EXPORT)
def test_a_lasting_non_export_200_names_its_status_and_content_type(kind):
    with simulator(make_calls(50, seed=192), "honoured") as sim:
        sim.inject(kind, times=None)
        run = run_tap(config_for(sim, per_page=20), expect_error=True)
    text = str(run.error).lower()
    assert re.search(r"(?<!\d)200(?!\d)", text)
    assert ("text/html" if kind == "maintenance" else "application/json") in text


# --- 7. the 11 phases ---


@pytest.mark.parametrize("age", ["recent", "old"])
@pytest.mark.parametrize("phase", FINISHED)
def test_a_finished_phase_is_emitted_once_and_never_fetched_again(reading, phase, age):
    # Recent: a STOPPED call is emitted because it is STOPPED, not because it is
    # old; old: it is not stepped over and remembered (then fetched every run).
    start = ago(hours=6) if age == "recent" else ago(days=10)
    calls = make_calls(60, seed=193, start=start, phases={20: phase})
    done = int(calls[20]["callId"])
    with simulator(calls, reading) as sim:
        config = config_for(sim, per_page=25)
        first = run_tap(config)
        second = run_tap(config, first.last_state)
        new = ids(sim.add_generated(10))
        third = run_tap(config, second.last_state)
        sent = list(sim.requests)
    assert emitted(first) == ids(calls)  # at once, in order, the later calls too
    assert record_of(first, done)["progressPhase"] == phase
    assert emitted(second) == []
    assert emitted(third) == new
    for run in (first, second, third):
        assert stuck(run.last_state) == []
    assert fetched(sent, done) == []


@pytest.mark.parametrize("phase", IN_PROGRESS)
def test_a_recent_call_in_progress_holds_the_export(reading, phase):
    calls = make_calls(60, seed=194, start=ago(hours=6), phases={20: phase})
    waiting = int(calls[20]["callId"])
    with simulator(calls, reading) as sim:
        config = config_for(sim, per_page=25)
        first = run_tap(config)
        second = run_tap(config, first.last_state)
        sim.set_phase(waiting, "DONE")
        third = run_tap(config, second.last_state)
    assert emitted(first) == ids(calls[:20])
    assert bookmark(first.last_state) == ids(calls)[19]
    assert stuck(first.last_state) == []
    assert emitted(second) == []
    assert emitted(third) == ids(calls[20:])


@pytest.mark.parametrize("phase", IN_PROGRESS)
def test_an_old_call_in_progress_is_stepped_over_and_remembered(reading, phase, caplog):
    calls = make_calls(60, seed=195, start=ago(days=10), phases={20: phase})
    old = int(calls[20]["callId"])
    with simulator(calls, reading) as sim:
        config = config_for(sim, per_page=25)
        with caplog.at_level(logging.INFO):
            first = run_tap(config)
        sim.set_phase(old, "DONE")
        second = run_tap(config, first.last_state)
        mark = len(sim.requests)
        third = run_tap(config, second.last_state)
        later = since(sim, mark)
    assert emitted(first) == [c for c in ids(calls) if c != old]
    assert stuck(first.last_state) == [old]
    assert lines_naming(caplog, old, logging.WARNING)
    assert emitted(second) == [old]
    assert stuck(second.last_state) == []
    assert emitted(third) == []
    assert fetched(later) == []


# --- 8. calls imported from old recordings ---


def test_imported_calls_give_one_summary_line_and_bounded_rechecks(reading, caplog):
    calls = make_calls(50, seed=196, start=ago(hours=12))
    with simulator(calls, reading) as sim:
        imported = ids(sim.add_imported(100, age=dt.timedelta(days=10), phase="QUEUED"))
        config = config_for(sim, per_page=25, max_rechecks_per_run=10)
        with caplog.at_level(logging.INFO):
            first = run_tap(config)
        warned = at_least(caplog, logging.WARNING)
        caplog.clear()
        mark = len(sim.requests)
        with caplog.at_level(logging.INFO):
            second = run_tap(config, first.last_state)
        rechecked = fetched(since(sim, mark))
        second_warned = at_least(caplog, logging.WARNING)
        second_lines = [r.getMessage() for r in caplog.records]
        # Once they are done, later runs emit them, 10 a run, each once.
        for call_id in imported:
            sim.set_phase(call_id, "DONE")
        state, later = second.last_state, []
        for _ in range(10):
            run = run_tap(config, state)
            later += emitted(run)
            state = run.last_state
    assert emitted(first) == ids(calls)
    assert sorted(stuck(first.last_state)) == imported
    # One summary line (a WARNING) names the calls stepped over; none per call.
    assert len(warned) == 1, [r.getMessage() for r in warned]
    assert names(warned[0].getMessage(), imported[0])
    assert "100" in warned[0].getMessage()
    # The next run asks for 10 of them again and says so in its summary.
    assert emitted(second) == []
    assert len(rechecked) == 10
    assert set(rechecked) <= set(imported)
    assert second_warned == []
    (summary,) = [m for m in second_lines if "asked for again" in m]
    assert re.search(r"(?<!\d)10(?!\d)", summary)
    assert sorted(later) == imported
    assert stuck(state) == []


# --- 9. projects and transcripts, under each reading ---


def test_two_projects_with_refresh_and_a_stuck_call(reading, caplog):
    east_calls = make_calls(80, seed=197, start=ago(days=3), processing_at=[30])
    west_calls = make_calls(60, seed=198, first_id=50_000, start=ago(days=2))
    blocked = int(east_calls[30]["callId"])
    east, west = ids(east_calls), ids(west_calls)
    settings = {"per_page": 25, "refresh_window_days": 7, **FAST_RETRIES}
    with east_and_west(east_calls, west_calls, **settings) as (sim, config):
        sim.after_call_id_reading = reading
        with caplog.at_level(logging.INFO):
            first = run_tap(config)
        reviewed = a_reviewed_call(first, west)
        sim.update_call(reviewed, score=12.5, reviewStatus="reviewed")
        sim.set_phase(blocked, "DONE")
        second = run_tap(config, first.last_state)
    assert emitted(first, project="east") == [c for c in east if c != blocked]
    assert emitted(first, project="west") == west
    assert stuck(first.last_state, "east") == [blocked]
    assert stuck(first.last_state, "west") == []
    assert lines_naming(caplog, blocked, logging.WARNING)
    # The second run: the stuck call once, the refresh re-emits, each call once.
    for project, every in (("east", east), ("west", west)):
        got = emitted(second, project=project)
        assert_no_repeats(got)
        assert set(got) == set(every)
    assert record_of(second, reviewed)["score"] == 12.5
    assert stuck(second.last_state, "east") == []
    assert bookmark(second.last_state, "east") == east[-1]
    assert bookmark(second.last_state, "west") == west[-1]


def test_transcripts_flow_past_a_stuck_call(reading, caplog):
    calls = make_calls(60, seed=199, processing_at=[20])  # started in 2024
    blocked = calls[20]
    assert blocked.get("saSessionId"), "pick a call with a transcript"
    blocked_id = int(blocked["callId"])
    others = [c for c in ids(with_transcript(calls)) if c != blocked_id]
    with simulator(calls, reading) as sim:
        config = config_for(sim, per_page=25)
        with caplog.at_level(logging.INFO):
            first = sync(config, streams=("transcripts",))
        sim.set_phase(blocked_id, "DONE")
        second = sync(config, first.last_state, streams=("transcripts",))
        third = sync(config, second.last_state, streams=("transcripts",))
    for run in (first, second, third):
        assert run.error is None
    assert emitted(first, "transcripts") == others
    assert part(first.last_state, "transcripts").get("stuck_call_ids") == [blocked_id]
    assert lines_naming(caplog, blocked_id, logging.WARNING)
    assert emitted(second, "transcripts") == [blocked_id]
    assert emitted(third, "transcripts") == []
    assert not part(third.last_state, "transcripts").get("stuck_call_ids")
