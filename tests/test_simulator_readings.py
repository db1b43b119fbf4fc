"""Readings of what the vendor's documents leave open: each one opt-in."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from voicegain_sim import VoicegainSimulator, make_calls
from voicegain_sim.__main__ import _parser, _simulator

TOKEN = "readings-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def get(http, sim, **params) -> requests.Response:
    return http.get(f"{sim.url}/sa/call", headers=AUTH, params=params, timeout=10)


def links(response: requests.Response) -> dict[str, int]:
    """``Link`` header as rel -> page number."""
    found = {}
    for part in response.headers["Link"].split(", "):
        url, rel = part.split("; ")
        query = parse_qs(urlsplit(url.strip("<>")).query)
        found[rel.split('"')[1]] = int(query["page"][0])
    return found


def rows(response: requests.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


def ids(response: requests.Response) -> list[int]:
    return [int(call["callId"]) for call in response.json()]


# ------------------------------------------------------------- afterCallId


def test_after_call_id_is_honoured_without_consecutive_by_default(http):
    calls = make_calls(30, seed=3)
    middle = int(calls[14]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        assert sim.after_call_id_reading == "honoured"
        got = ids(get(http, sim, afterCallId=middle, sort_by="documentId"))
    assert got == [int(c["callId"]) for c in calls[15:]]


def test_ignored_after_call_id_gives_the_whole_list_in_offset_pages(http):
    calls = make_calls(30, seed=3)
    every = [int(c["callId"]) for c in calls]
    middle = every[14]
    with VoicegainSimulator(calls, token=TOKEN, after_call_id_reading="ignored") as sim:
        first = get(http, sim, afterCallId=middle, sort_by="documentId", per_page=10)
        second = get(http, sim, afterCallId=middle, per_page=10, page=2)
        assert ids(first) == every[:10]
        assert ids(second) == every[10:20]
        assert first.headers["X-Total-Count"] == "30"
        assert links(first) == {"first": 1, "self": 1, "next": 2, "last": 3}


def test_ignored_after_call_id_still_sorts_as_asked(http):
    calls = make_calls(20, seed=4)
    with VoicegainSimulator(calls, token=TOKEN, after_call_id_reading="ignored") as sim:
        got = ids(get(http, sim, afterCallId=calls[-1]["callId"], sort_dir="desc"))
    assert got == sorted((int(c["callId"]) for c in calls), reverse=True)


def test_consecutive_applies_after_call_id_under_both_readings(http):
    calls = make_calls(20, seed=5)
    for call in calls:
        call["progressPhase"] = "DONE"
    middle = calls[9]["callId"]
    for reading in ("honoured", "ignored"):
        with VoicegainSimulator(
            calls, token=TOKEN, after_call_id_reading=reading
        ) as sim:
            got = ids(get(http, sim, consecutive="true", afterCallId=middle))
        assert got == [int(c["callId"]) for c in calls[10:]], reading


def test_the_reading_can_change_between_requests_even_prerendered(http):
    calls = make_calls(12, seed=6)
    after = calls[5]["callId"]
    with VoicegainSimulator(calls, token=TOKEN, prerender=True) as sim:
        assert len(ids(get(http, sim, afterCallId=after))) == 6
        sim.after_call_id_reading = "ignored"
        assert len(ids(get(http, sim, afterCallId=after))) == 12
        sim.after_call_id_reading = "honoured"
        assert len(ids(get(http, sim, afterCallId=after))) == 6


def test_unknown_reading_is_refused():
    with pytest.raises(ValueError, match="after_call_id_reading"):
        VoicegainSimulator(make_calls(2), after_call_id_reading="sometimes")
    sim = VoicegainSimulator(make_calls(2))
    with pytest.raises(ValueError, match="after_call_id_reading"):
        sim.after_call_id_reading = "Ignored"


def test_cli_flag_selects_the_reading():
    args = _parser().parse_args(["--calls", "3", "--after-call-id", "ignored"])
    assert _simulator(args).after_call_id_reading == "ignored"
    assert _simulator(_parser().parse_args([])).after_call_id_reading == "honoured"


# ------------------------------------------------------------ per_page cap


def test_capped_pages_are_never_longer_than_the_cap(http):
    calls = make_calls(25, seed=7)
    every = [int(c["callId"]) for c in calls]
    with VoicegainSimulator(calls, token=TOKEN, per_page_cap=10) as sim:
        pages = [get(http, sim, per_page=100, page=n) for n in (1, 2, 3, 4)]
    assert [len(ids(p)) for p in pages] == [10, 10, 5, 0]
    assert [call_id for p in pages for call_id in ids(p)] == every
    assert {p.headers["X-Total-Count"] for p in pages} == {"25"}
    assert links(pages[0]) == {"first": 1, "self": 1, "next": 2, "last": 3}
    assert links(pages[2]) == {"first": 1, "prev": 2, "self": 3, "last": 3}
    assert "per_page=100" in pages[0].headers["Link"]  # as asked


def test_a_smaller_per_page_than_the_cap_is_kept(http):
    with VoicegainSimulator(make_calls(25, seed=7), token=TOKEN) as sim:
        sim.per_page_cap = 10
        assert len(ids(get(http, sim, per_page=4))) == 4
        assert len(ids(get(http, sim, per_page=11))) == 10
        assert len(rows(get(http, sim, format="csv"))) == 10  # default 50
        sim.per_page_cap = None
        assert len(ids(get(http, sim, per_page=11))) == 11


def test_capped_csv_pages(http):
    with VoicegainSimulator(make_calls(9, seed=7), token=TOKEN, per_page_cap=4) as sim:
        last = rows(get(http, sim, format="csv", per_page=50, page=3))
    assert [row["callId"] for row in last] == [sim.calls[8]["callId"]]


@pytest.mark.parametrize("cap", [0, -1, 2.5, "10", True])
def test_bad_caps_are_refused(cap):
    with pytest.raises(ValueError, match="per_page_cap"):
        VoicegainSimulator(make_calls(2), per_page_cap=cap)


def test_cli_flag_caps_pages():
    args = _parser().parse_args(["--calls", "3", "--per-page-cap", "7"])
    assert _simulator(args).per_page_cap == 7


# ------------------------------------------------------------- empty answers


def test_empty_pages_are_arrays_and_csv_headers_by_default(http):
    with VoicegainSimulator(make_calls(3, seed=8), token=TOKEN) as sim:
        assert sim.empty_answer == "array"
        assert get(http, sim, page=2).content == b"[]"
        assert get(http, sim, page=2, format="csv").text.startswith("accountId,")


@pytest.mark.parametrize(
    ("style", "fmt", "status", "body"),
    [
        ("204", "json", 204, b""),
        ("204", "csv", 204, b""),
        ("empty", "json", 200, b""),
        ("empty", "csv", 200, b""),
        ("null", "json", 200, b"null"),
    ],
)
def test_empty_pages_in_each_style(http, style, fmt, status, body):
    calls = make_calls(3, seed=8)
    with VoicegainSimulator(calls, token=TOKEN, empty_answer=style) as sim:
        past_the_end = get(http, sim, page=2, format=fmt)
        nothing_matches = get(http, sim, afterCallId=calls[-1]["callId"], format=fmt)
        full = get(http, sim, format=fmt)
    for response in (past_the_end, nothing_matches):
        assert response.status_code == status
        assert response.content == body
        assert "Link" in response.headers
    assert past_the_end.headers["X-Total-Count"] == "3"
    assert nothing_matches.headers["X-Total-Count"] == "0"
    assert full.status_code == 200
    assert len(full.content) > 100
    if status == 204:
        assert "Content-Type" not in past_the_end.headers
        assert "Content-Length" not in past_the_end.headers


def test_null_style_leaves_csv_with_its_header(http):
    with VoicegainSimulator(make_calls(3), token=TOKEN, empty_answer="null") as sim:
        response = get(http, sim, page=2, format="csv")
    assert response.status_code == 200
    assert response.text.startswith("accountId,")
    assert rows(response) == []


def test_a_204_keeps_the_connection_usable(http):
    with VoicegainSimulator(make_calls(3), token=TOKEN, empty_answer="204") as sim:
        assert get(http, sim, page=2).status_code == 204
        assert len(get(http, sim).json()) == 3
        assert get(http, sim, page=5).status_code == 204
        sim.empty_answer = "array"
        assert get(http, sim, page=5).json() == []


def test_consecutive_cut_to_nothing_is_an_empty_answer_too(http):
    calls = make_calls(5, seed=9, processing_at=[0])
    with VoicegainSimulator(calls, token=TOKEN, empty_answer="null") as sim:
        response = get(http, sim, consecutive="true")
    assert response.content == b"null"


def test_unknown_empty_answer_is_refused():
    with pytest.raises(ValueError, match="empty_answer"):
        VoicegainSimulator(make_calls(2), empty_answer="none")


def test_cli_flag_sets_the_empty_answer():
    args = _parser().parse_args(["--calls", "3", "--empty-answer", "204"])
    assert _simulator(args).empty_answer == "204"


# ------------------------------------------------------------ reversed times

LATE, EARLY = "2024-05-13T00:00:00Z", "2024-05-12T18:00:00+00:00"


def test_reversed_times_select_nothing_by_default(http):
    with VoicegainSimulator(make_calls(40, seed=10), token=TOKEN) as sim:
        response = get(http, sim, fromTime=LATE, toTime=EARLY)
    assert response.status_code == 200
    assert response.json() == []


def test_reversed_times_can_be_refused_naming_both_parameters(http):
    with VoicegainSimulator(
        make_calls(40, seed=10), token=TOKEN, refuse_reversed_times=True
    ) as sim:
        refused = get(http, sim, fromTime=LATE, toTime=EARLY, format="csv")
        equal = get(http, sim, fromTime=EARLY, toTime=EARLY)
        ordered = get(http, sim, fromTime=EARLY, toTime=LATE)
        one_sided = get(http, sim, fromTime=LATE)
    assert refused.status_code == 400
    body = refused.json()
    assert body["status"] == 400
    assert "'fromTime'" in body["message"]
    assert "'toTime'" in body["message"]
    assert equal.status_code == ordered.status_code == one_sided.status_code == 200
    assert ordered.json()


def test_reversed_times_are_compared_as_instants(http):
    with VoicegainSimulator(make_calls(4), token=TOKEN) as sim:
        sim.refuse_reversed_times = True
        # 20:00+02:00 is 18:00Z: before 19:00Z, so the window is in order.
        ordered = get(
            http,
            sim,
            fromTime="2024-05-12T20:00:00+02:00",
            toTime="2024-05-12T19:00:00Z",
        )
        assert ordered.status_code == 200
        sim.refuse_reversed_times = False
        assert get(http, sim, fromTime=LATE, toTime=EARLY).status_code == 200
    with pytest.raises(ValueError, match="refuse_reversed_times"):
        sim.refuse_reversed_times = "yes"


def test_cli_flag_refuses_reversed_times():
    args = _parser().parse_args(["--calls", "3", "--refuse-reversed-times"])
    assert _simulator(args).refuse_reversed_times is True
    assert _simulator(_parser().parse_args([])).refuse_reversed_times is False
