"""The Voicegain API simulator models the vendor's API faithfully."""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import signal
import subprocess
import sys
import time
import typing as t
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from voicegain_sim import (
    CSV_COLUMNS,
    VoicegainSimulator,
    make_calls,
    make_jwt,
    render_csv,
)
from voicegain_sim.jwt import read_claims

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def sim():
    with VoicegainSimulator(make_calls(120, seed=1), token=TOKEN) as server:
        yield server


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def get(http, sim, params=None, *, headers=AUTH, **kwargs) -> requests.Response:
    return http.get(f"{sim.url}/sa/call", params=params, headers=headers, **kwargs)


def ids(response: requests.Response) -> list[int]:
    return [int(call["callId"]) for call in response.json()]


def hand_call(call_id: str, **fields: t.Any) -> dict[str, t.Any]:
    call = {
        "callId": call_id,
        "startTime": "2024-05-12T18:15:45Z",
        "endTime": "2024-05-12T18:20:30Z",
        "duration": 285,
        "progressPhase": "DONE",
    }
    call.update(fields)
    return call


# ------------------------------------------------------------------ data


def test_make_calls_is_deterministic_sorted_and_realistic():
    calls = make_calls(400, seed=5, first_id=500, processing_at=[7, 9])
    assert calls == make_calls(400, seed=5, first_id=500, processing_at=[7, 9])
    assert calls != make_calls(400, seed=6, first_id=500)
    numbers = [int(c["callId"]) for c in calls]
    assert numbers[0] == 500
    assert all(1 <= b - a <= 5 for a, b in itertools.pairwise(numbers))
    starts = [c["startTime"] for c in calls]
    assert starts == sorted(starts)
    assert all(isinstance(c["callId"], str) for c in calls)
    assert {c["progressPhase"] for i, c in enumerate(calls) if i in {7, 9}} == {
        "PROCESSING"
    }
    assert {c["progressPhase"] for c in calls} == {"DONE", "ERROR", "PROCESSING"}
    assert (
        len({c["accountId"] for c in calls})
        == len({c["contextId"] for c in calls})
        == 1
    )

    def no_nulls(value: t.Any) -> bool:
        if isinstance(value, dict):
            return all(v is not None and no_nulls(v) for v in value.values())
        if isinstance(value, list):
            return all(no_nulls(v) for v in value)
        return True

    assert all(no_nulls(c) for c in calls)
    assert 20 < sum("agent" not in c for c in calls) < 80
    assert 20 < sum("queue" not in c for c in calls) < 80
    assert 100 < sum("score" in c for c in calls) < 220
    agents = {c["agent"]["name"] for c in calls if "agent" in c}
    assert {"José Núñez", "Zoë O'Brien", "王芳", "Smith, John"} <= agents
    assert any(c["agent"]["agentId"].startswith("0") for c in calls if "agent" in c)
    phones = {c["externalEndpoint"][:2] for c in calls}
    assert {"+1", "00"} <= phones
    assert any("\n" in c.get("notes", "") and '"' in c["notes"] for c in calls)
    assert any("note" not in m for c in calls for m in c["markers"])
    assert any("note" in m for c in calls for m in c["markers"])
    for call in calls:
        for item in call["tags"] + call["keywords"] + call["topics"]:
            assert "|" not in item
        for word in call["wordCloud"]:
            assert "|" not in word["phrase"]
            assert "," not in word["phrase"]
        for marker in call["markers"]:
            assert "|" not in marker["type"]
            assert "," not in marker["type"]
            assert "|" not in marker.get("note", "")
        assert -1 <= call["sentiment"] <= 1


def test_make_jwt_carries_voicegain_claims():
    token = make_jwt(account_id="acc", context_id="ctx", exp=2_000_000_000)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = read_claims(token)
    assert claims is not None
    assert claims["accountId"] == "acc"
    assert claims["contextId"] == "ctx"
    assert claims["exp"] == 2_000_000_000
    assert "exp" not in (
        read_claims(make_jwt(account_id="a", context_id="c", exp=None)) or {}
    )


# ------------------------------------------------------------------ auth


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}]
)
def test_missing_or_unknown_token_is_401(sim, http, headers):
    response = get(http, sim, headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "message": "Unauthorized: invalid or expired token",
    }
    assert sim.requests[-1].status == 401


def test_expired_jwt_is_401_and_valid_jwt_selects_its_project(http):
    fresh = make_jwt(account_id="a", context_id="c", exp=int(time.time()) + 600)
    stale = make_jwt(account_id="a", context_id="c", exp=int(time.time()) - 1)
    projects = {
        fresh: [hand_call("1"), hand_call("2")],
        stale: [hand_call("3")],
        "other": [hand_call("4")],
    }
    with VoicegainSimulator(projects=projects) as sim:
        assert get(http, sim, headers={"Authorization": f"Bearer {fresh}"}).json()
        assert ids(get(http, sim, headers={"Authorization": f"Bearer {fresh}"})) == [
            1,
            2,
        ]
        assert (
            get(http, sim, headers={"Authorization": f"Bearer {stale}"}).status_code
            == 401
        )
        assert ids(get(http, sim, headers={"Authorization": "Bearer other"})) == [4]
        assert sim.calls_for("other")[0]["callId"] == "4"
        assert all("Authorization" not in r.headers for r in sim.requests)


# ------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "10001"}, "per_page"),
        ({"format": "xml"}, "format"),
        ({"consecutive": "true", "sort_by": "time"}, "sort_by"),
        ({"consecutive": "true", "sort_dir": "desc"}, "sort_dir"),
        ({"consecutive": "yes"}, "consecutive"),
        ({"afterCallId": "-1"}, "afterCallId"),
        ({"afterCallId": "abc"}, "afterCallId"),
        ({"afterCallId": "\u00b2"}, "afterCallId"),
        ({"page": "1.5"}, "page"),
        ({"page": "0"}, "page"),
        ({"fromTime": "2024-05-12"}, "fromTime"),
        ({"toTime": "2024-05-12T18:15:45.000000000000000Z"}, "toTime"),
        ({"sort_by": "name"}, "sort_by"),
    ],
)
def test_bad_parameter_is_400_naming_it(sim, http, params, named):
    response = get(http, sim, params)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert f"'{named}" in body["message"] or f"{named}'" in body["message"]


def test_unknown_parameters_are_ignored_and_other_paths_are_404(sim, http):
    assert get(http, sim, {"inclSegments": "x", "period": "7d"}).status_code == 200
    response = http.get(f"{sim.url}/sa/calls", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["status"] == 404


# ------------------------------------------------------- selection, paging


def test_consecutive_cuts_at_the_first_processing_call(http):
    calls = make_calls(60, seed=2, processing_at=[25, 40])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        params = {"consecutive": "true", "per_page": "100"}
        response = get(http, sim, params)
        expected = [int(c["callId"]) for c in calls[:25]]
        assert ids(response) == expected
        assert response.headers["X-Total-Count"] == "25"
        after = {**params, "afterCallId": calls[25]["callId"]}
        assert ids(get(http, sim, after)) == [int(c["callId"]) for c in calls[26:40]]
        assert len(ids(get(http, sim, {"per_page": "100"}))) == 60  # no cut
        sim.set_phase(int(calls[25]["callId"]), "ERROR")
        assert ids(get(http, sim, params)) == [int(c["callId"]) for c in calls[:40]]


def test_after_call_id_compares_integers(http):
    calls = [hand_call(i) for i in ("100", "9", "2", "11", "10")]
    with VoicegainSimulator(calls, token=TOKEN, callid_as="mixed") as sim:
        assert ids(get(http, sim)) == [2, 9, 10, 11, 100]
        assert ids(get(http, sim, {"afterCallId": "9", "consecutive": "true"})) == [
            10,
            11,
            100,
        ]
        assert ids(get(http, sim, {"afterCallId": "10"})) == [11, 100]
        raw = get(http, sim).json()
        assert [type(c["callId"]) for c in raw] == [str, int, str, int, str]


def test_offset_paging_with_total_count_and_link(sim, http):
    all_ids = [int(c["callId"]) for c in sim.calls]
    pages = [
        get(http, sim, {"per_page": "50", "page": str(n), "x": "1"})
        for n in (1, 2, 3, 4)
    ]
    assert [ids(p) for p in pages] == [all_ids[:50], all_ids[50:100], all_ids[100:], []]
    assert {p.headers["X-Total-Count"] for p in pages} == {"120"}
    first, second, third = (p.links for p in pages[:3])
    assert set(first) == {"first", "self", "next", "last"}
    assert set(second) == {"first", "prev", "self", "next", "last"}
    assert set(third) == {"first", "prev", "self", "last"}

    def query(link: dict[str, str]) -> dict[str, list[str]]:
        return parse_qs(urlsplit(link["url"]).query)

    assert query(second["next"]) == {"per_page": ["50"], "page": ["3"], "x": ["1"]}
    assert query(second["prev"])["page"] == ["1"]
    assert query(second["self"])["page"] == ["2"]
    assert query(first["last"])["page"] == ["3"]
    assert query(first["first"])["page"] == ["1"]
    following = http.get(second["next"]["url"], headers=AUTH)
    assert ids(following) == all_ids[100:]


def test_paging_is_computed_fresh_for_each_request(http):
    calls = make_calls(30, seed=3, processing_at=[10])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        params = {"consecutive": "true", "per_page": "10"}
        assert len(ids(get(http, sim, {**params, "page": "1"}))) == 10
        assert ids(get(http, sim, {**params, "page": "2"})) == []
        sim.set_phase(int(calls[10]["callId"]), "DONE")
        page2 = get(http, sim, {**params, "page": "2"})
        assert ids(page2) == [int(c["callId"]) for c in calls[10:20]]
        assert page2.headers["X-Total-Count"] == "30"


def test_agent_id_accepts_repeated_and_comma_joined_forms(sim, http):
    agents = sorted({c["agent"]["agentId"] for c in sim.calls if "agent" in c})[:2]
    expected = [
        int(c["callId"])
        for c in sim.calls
        if "agent" in c and c["agent"]["agentId"] in agents
    ]
    repeated = get(http, sim, [("agentId", a) for a in agents] + [("per_page", "500")])
    joined = get(http, sim, {"agentId": ",".join(agents), "per_page": "500"})
    assert expected
    assert ids(repeated) == ids(joined) == expected
    queue = sim.calls[0].get("queue", {}).get("queueId") or "873490"
    by_queue = ids(get(http, sim, {"queueId": queue, "per_page": "500"}))
    assert by_queue == [
        int(c["callId"])
        for c in sim.calls
        if c.get("queue", {}).get("queueId") == queue
    ]


def test_time_window_and_sorting(sim, http):
    low, high = sim.calls[10]["startTime"], sim.calls[20]["startTime"]
    window = get(http, sim, {"fromTime": low, "toTime": high, "per_page": "500"})
    assert ids(window) == [int(c["callId"]) for c in sim.calls[10:21]]
    by_score = get(
        http, sim, {"sort_by": "score", "sort_dir": "desc", "per_page": "500"}
    )
    scores = [c.get("score", -1) for c in by_score.json()]
    assert scores == sorted(scores, reverse=True)
    newest = get(http, sim, {"sort_by": "time", "sort_dir": "desc", "per_page": "3"})
    assert ids(newest) == [int(c["callId"]) for c in reversed(sim.calls[-3:])]


# --------------------------------------------------------------------- CSV

TRICKY = hand_call(
    "14603",
    accountId="f9f32f4b-845d-4110-8b9a-4f8eef06cfe5",
    externalEndpoint="+14694519385",
    internalEndpoint="0044207183875",
    agent={"agentId": "0436828", "name": 'Smith, "Joe" Zoë', "channel": "right"},
    notes='Caller said: "hi, there"\nSecond line, with comma — ünïcode',
    tags=["C_Member", "NEW_TAG"],
    markers=[
        {"time": 201897, "type": "CC_AGENT_ANSWER"},
        {"time": 179162, "type": "HOLD", "note": "on hold, checking"},
    ],
    wordCloud=[{"phrase": "claim", "freq": 7}, {"phrase": "médico", "freq": 2}],
    dtmfEvents=[{"dtmf": "1", "timestamp": 1200, "channel": "left"}],
    callResolved=False,
    sentiment=0.25,
    score=87.5,
    team="JSON only",
)


def rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert tuple(header) == CSV_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_csv_rendering_round_trips_tricky_values():
    text = render_csv([TRICKY])
    assert text.startswith("accountId,contextId,callId,startTime,")
    assert text.endswith("\r\n")
    (row,) = rows(text)
    assert row["callId"] == "14603"
    assert row["startTime"] == "05-12-2024 6:15:45 PM"
    assert row["endTime"] == "05-12-2024 6:20:30 PM"
    assert row["externalEndpoint"] == "+14694519385"
    assert row["internalEndpoint"] == "0044207183875"
    assert row["agent.id"] == "0436828"
    assert row["agent.name"] == 'Smith, "Joe" Zoë'
    assert row["agent.email"] == ""
    assert row["queue.id"] == ""
    assert row["notes"] == TRICKY["notes"]
    assert row["tags"] == "C_Member|NEW_TAG"
    assert row["keywords"] == ""
    assert row["markers"] == "201897,CC_AGENT_ANSWER,null|179162,HOLD,on hold, checking"
    assert row["wordCloud"] == "claim,7|médico,2"
    assert row["dtmfEvents"] == "1,1200,left"
    assert row["isCallResolved"] == "false"
    assert row["sentiment"] == "0.25"
    assert row["score"] == "87.5"
    assert row["duration"] == "285"
    assert "team" not in row
    assert len(CSV_COLUMNS) == 43
    assert CSV_COLUMNS[:3] == ("accountId", "contextId", "callId")
    assert CSV_COLUMNS[-1] == "markers"


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        ("UTC", "2024-05-12T18:15:45Z", "05-12-2024 6:15:45 PM"),
        ("America/Chicago", "2024-05-12T18:15:45Z", "05-12-2024 1:15:45 PM"),
        ("UTC", "2024-01-02T00:05:09Z", "01-02-2024 12:05:09 AM"),
        ("UTC", "2024-01-02T12:00:00Z", "01-02-2024 12:00:00 PM"),
        ("Asia/Tokyo", "2024-12-31T20:00:00Z", "01-01-2025 5:00:00 AM"),
    ],
)
def test_csv_times_follow_the_zone(zone, start, expected):
    (row,) = rows(render_csv([hand_call("1", startTime=start)], timezone=zone))
    assert row["startTime"] == expected


def test_csv_over_http_and_empty_export(http):
    with VoicegainSimulator(
        [TRICKY], token=TOKEN, csv_timezone="America/Chicago"
    ) as sim:
        response = get(http, sim, {"format": "csv"})
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        (row,) = rows(response.content.decode("utf-8"))
        assert row["startTime"] == "05-12-2024 1:15:45 PM"
        assert row["notes"] == TRICKY["notes"]
        by_accept = get(http, sim, headers={**AUTH, "Accept": "text/csv"})
        assert by_accept.content == response.content
        empty = get(http, sim, {"format": "csv", "afterCallId": "14603"})
        assert empty.text == ",".join(CSV_COLUMNS) + "\r\n"
        assert empty.headers["X-Total-Count"] == "0"
    assert render_csv([]) == ",".join(CSV_COLUMNS) + "\r\n"


# ------------------------------------------------------------------ faults


def test_status_fault_with_retry_after_then_recovers(sim, http):
    sim.inject("status", times=2, after=1, code=429, retry_after="3")
    assert get(http, sim).status_code == 200
    for _ in range(2):
        response = get(http, sim)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "3"
        assert response.json()["status"] == 429
        with pytest.raises(requests.HTTPError):
            response.raise_for_status()
    assert get(http, sim).status_code == 200
    sim.inject("status", code=503, body="upstream down")
    down = get(http, sim)
    assert (down.status_code, down.text) == (503, "upstream down")
    assert [r.status for r in sim.requests] == [200, 429, 429, 200, 503]


def test_reset_fault_is_a_connection_error(sim, http):
    sim.inject("reset")
    with pytest.raises(requests.ConnectionError):
        get(http, sim)
    assert sim.requests[-1].status == 0
    assert get(http, sim).status_code == 200


def test_truncate_fault_is_a_chunked_encoding_error(sim, http):
    sim.inject("truncate")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(http, sim)
    assert get(http, sim).status_code == 200


def test_delay_fault_is_a_read_timeout(sim, http):
    sim.inject("delay", seconds=5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(http, sim, timeout=0.3)
    assert time.monotonic() - started < 4  # the client's timeout, not the delay
    with requests.Session() as fresh:
        assert get(fresh, sim, timeout=5).status_code == 200


def test_payload_faults(sim, http):
    sim.inject("html")
    html = get(http, sim)
    assert html.status_code == 200
    assert html.headers["Content-Type"].startswith("text/html")
    assert "<html>" in html.text
    sim.inject("bad_json")
    bad = get(http, sim)
    assert bad.status_code == 200
    assert bad.headers["Content-Type"] == "application/json"
    assert int(bad.headers["Content-Length"]) == len(bad.content)
    with pytest.raises(requests.exceptions.JSONDecodeError):
        bad.json()
    sim.inject("non_array")
    assert isinstance(get(http, sim).json(), dict)
    sim.inject("no_callid_csv")
    no_id = get(http, sim, {"format": "csv", "per_page": "3"})
    header, *body = list(csv.reader(io.StringIO(no_id.text, newline="")))
    assert "callId" not in header
    assert "accountId" in header
    assert len(body) == 3
    assert len(ids(get(http, sim))) == 50


def test_unknown_fault_is_rejected(sim):
    with pytest.raises(ValueError, match="unknown fault"):
        sim.inject("meteor")
    with pytest.raises(ValueError, match="no option"):
        sim.inject("html", code=500)


# ------------------------------------------------------------- mutations


def test_on_request_hook_runs_before_the_response(http):
    calls = make_calls(40, seed=4, processing_at=[15])
    stuck = int(calls[15]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        seen: list[tuple[int, dict[str, list[str]]]] = []

        def hook(index: int, params: dict[str, list[str]]) -> None:
            seen.append((index, params))
            if index == 2:
                sim.set_phase(stuck, "DONE")

        sim.on_request = hook
        params = {"consecutive": "true", "per_page": "100"}
        assert len(ids(get(http, sim, params))) == 15
        assert len(ids(get(http, sim, params))) == 40
        assert [i for i, _ in seen] == [1, 2]
        assert seen[0][1]["consecutive"] == ["true"]


def test_prerender_cache_is_invalidated_by_mutations(http):
    calls = make_calls(20, seed=8)
    with VoicegainSimulator(calls, token=TOKEN, prerender=True) as sim:
        first = get(http, sim)
        assert get(http, sim).content == first.content
        assert sim.cache_size == 1
        target = int(calls[0]["callId"])
        sim.update_call(target, score=99.5, reviewStatus="complete", notes=None)
        assert sim.cache_size == 0
        changed = get(http, sim).json()[0]
        assert changed["score"] == 99.5
        assert "notes" not in changed
        sim.set_phase(target, "PROCESSING")
        assert ids(get(http, sim, {"consecutive": "true"})) == []
        sim.delete_call(target)
        assert target not in ids(get(http, sim))
        sim.add_calls([hand_call("99999")])
        assert ids(get(http, sim))[-1] == 99999
    assert calls[0].get("score") != 99.5  # the caller's list was copied


@pytest.mark.parametrize("callid_as", ["string", "number", "mixed"])
def test_prerendered_bodies_match_rendered_ones(http, callid_as):
    calls = make_calls(40, seed=9, processing_at=[30])
    queries = [
        {"per_page": "7", "page": "2"},
        {"format": "csv", "per_page": "9", "page": "3"},
        {"consecutive": "true", "afterCallId": calls[3]["callId"], "per_page": "100"},
        {"format": "csv", "afterCallId": calls[39]["callId"]},
        {"format": "csv", "consecutive": "true", "per_page": "8"},
    ]
    options = {"token": TOKEN, "callid_as": callid_as, "csv_timezone": "Europe/Paris"}
    with (
        VoicegainSimulator(calls, prerender=True, **options) as fast,
        VoicegainSimulator(calls, **options) as plain,
    ):
        for _ in range(2):
            for params in queries:
                assert (
                    get(http, fast, params).content == get(http, plain, params).content
                )
            target = int(calls[5]["callId"])
            for sim in (fast, plain):
                sim.update_call(target, notes='changed, "again"\nand again')


def test_control_endpoint_adds_done_calls(sim, http):
    last = int(sim.calls[-1]["callId"])
    response = http.post(f"http://{sim.host}:{sim.port}/_sim/add?count=3")
    assert response.status_code == 200
    body = response.json()
    assert body["added"] == 3
    assert body["last_call_id"] > last
    added = sim.calls[-3:]
    assert [int(c["callId"]) for c in added][-1] == body["last_call_id"]
    assert all(int(c["callId"]) > last for c in added)
    assert {c["progressPhase"] for c in added} == {"DONE"}
    assert {c["accountId"] for c in sim.calls} == {sim.calls[0]["accountId"]}
    assert (
        http.post(f"http://{sim.host}:{sim.port}/_sim/add?count=0").status_code == 400
    )


def test_stop_closes_kept_alive_connections(http):
    sim = VoicegainSimulator(make_calls(3), token=TOKEN).start()
    assert get(http, sim).status_code == 200
    sim.stop()
    sim.stop()
    with pytest.raises(requests.ConnectionError):
        get(http, sim, timeout=2)


def test_cli_serves_until_sigterm():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voicegain_sim",
            "--calls",
            "12",
            "--port",
            "0",
            "--token",
            "cli-token",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("Voicegain simulator on http://127.0.0.1:")
        assert line.endswith("/v1 (12 calls)")
        url = line.split()[3]
        with requests.Session() as session:
            response = session.get(
                f"{url}/sa/call", headers={"Authorization": "Bearer cli-token"}
            )
        assert len(response.json()) == 12
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
