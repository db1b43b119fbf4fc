"""Per-call hostility: one call's or one transcript's request fails, for ever."""

from __future__ import annotations

import pytest
import requests

from voicegain_sim import VoicegainSimulator, make_calls

TOKEN = "percall-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def sim():
    calls = make_calls(10, seed=31)
    for call in calls:
        call["progressPhase"] = "DONE"
    with VoicegainSimulator(calls, token=TOKEN) as server:
        yield server


def one(http, sim, call_id, **params) -> requests.Response:
    url = f"{sim.url}/sa/call/{call_id}"
    return http.get(url, headers=AUTH, params=params, timeout=10)


def transcript(http, sim, session) -> requests.Response:
    return http.get(f"{sim.url}/sa/{session}/transcript", headers=AUTH, timeout=10)


def sessions(sim) -> list[str]:
    return [c["saSessionId"] for c in sim.calls if c.get("saSessionId")]


# ------------------------------------------------------- one call's request


@pytest.mark.parametrize("code", [500, 400, 410, 403, 451, 404])
def test_a_call_fails_with_a_status_until_cleared(http, sim, code):
    target, other = sim.calls[3]["callId"], sim.calls[4]["callId"]
    sim.fail_call(target, "status", code=code)
    for _ in range(3):
        failed = one(http, sim, target)
        assert failed.status_code == code
        assert failed.json()["status"] == code
    assert one(http, sim, other).status_code == 200  # only that call
    assert len(http.get(f"{sim.url}/sa/call", headers=AUTH).json()) == 10
    sim.clear_call_fault(int(target))
    assert one(http, sim, target).json()["callId"] == target


def test_a_call_answers_an_html_page_or_an_empty_array(http, sim):
    first, second = sim.calls[0]["callId"], sim.calls[1]["callId"]
    sim.fail_call(first, "html")
    sim.fail_call(second, "json_value", value=[])
    page = one(http, sim, first)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    empty = one(http, sim, second)
    assert empty.status_code == 200
    assert empty.json() == []
    assert one(http, sim, first).headers["Content-Type"].startswith("text/html")


def test_a_call_answers_with_another_call(http, sim):
    ids = [c["callId"] for c in sim.calls]
    sim.fail_call(ids[2], "other_call")
    sim.fail_call(ids[-1], "other_call")
    sim.fail_call(ids[5], "other_call", call_id=ids[0])
    assert one(http, sim, ids[2]).json()["callId"] == ids[3]
    assert one(http, sim, ids[-1]).json()["callId"] == ids[-2]
    assert one(http, sim, ids[5]).json() == sim.calls[0]
    assert one(http, sim, ids[2]).json()["callId"] == ids[3]  # lasting
    sim.inject("other_call", endpoint="call")
    assert one(http, sim, ids[6]).json()["callId"] == ids[7]
    assert one(http, sim, ids[6]).json()["callId"] == ids[6]


def test_a_call_without_a_call_id_or_with_a_bad_one(http, sim):
    ids = [c["callId"] for c in sim.calls]
    sim.fail_call(ids[0], "no_callid")
    sim.fail_call(ids[1], "bad_callid")
    sim.fail_call(ids[2], "bad_callid", value=None)
    sim.fail_call(ids[3], "bad_callid", value=10**30)
    missing = one(http, sim, ids[0]).json()
    assert "callId" not in missing
    assert missing["startTime"] == sim.calls[0]["startTime"]
    assert one(http, sim, ids[1]).json()["callId"] == "abc"
    assert one(http, sim, ids[2]).json()["callId"] is None
    assert one(http, sim, ids[3]).json()["callId"] == 10**30


def test_bad_callid_on_a_page_edits_its_first_call(http, sim):
    sim.inject("bad_callid", value="10024.0")
    page = http.get(f"{sim.url}/sa/call", headers=AUTH).json()
    assert page[0]["callId"] == "10024.0"
    assert page[1]["callId"] == sim.calls[1]["callId"]


def test_a_pinned_fault_comes_before_the_queue_and_leaves_it_alone(http, sim):
    ids = [c["callId"] for c in sim.calls]
    sim.inject("status", code=503, endpoint="call")
    sim.fail_call(ids[0], "status", code=410, times=2)
    assert one(http, sim, ids[0]).status_code == 410
    assert one(http, sim, ids[0]).status_code == 410
    assert one(http, sim, ids[0]).status_code == 503  # the queued one, now
    assert one(http, sim, ids[0]).status_code == 200
    assert not sim.faults


def test_pinned_faults_are_checked(sim):
    with pytest.raises(ValueError, match="unknown fault"):
        sim.fail_call(1, "gone")
    with pytest.raises(ValueError, match="option"):
        sim.fail_transcript("abc", "status", value=3)
    with pytest.raises(ValueError, match="times"):
        sim.fail_call(1, "html", times=0)
    with pytest.raises(ValueError, match="call endpoint only"):
        sim.fail_transcript("abc", "other_call")
    with pytest.raises(ValueError, match="call endpoint only"):
        sim.inject("other_call")


# --------------------------------------------------------- one transcript


@pytest.mark.parametrize(
    "case",
    [
        ("json_value", {}, 200, lambda r: r.json() is None),
        ("json_value", {"value": {}}, 200, lambda r: r.json() == {}),
        ("json_value", {"value": "hello"}, 200, lambda r: r.json() == "hello"),
        (
            "raw",
            {"body": "Speaker 1: hello", "content_type": "text/plain"},
            200,
            lambda r: r.text == "Speaker 1: hello",
        ),
        ("raw", {"code": 204}, 204, lambda r: r.content == b""),
        ("status", {"code": 202}, 202, lambda r: r.json()["status"] == 202),
        ("status", {"code": 410}, 410, lambda r: r.json()["status"] == 410),
        ("status", {"code": 403}, 403, lambda r: r.json()["status"] == 403),
        ("status", {"code": 422}, 422, lambda r: r.json()["status"] == 422),
        ("status", {"code": 500}, 500, lambda r: r.json()["status"] == 500),
    ],
)
def test_a_transcript_keeps_failing_until_cleared(http, sim, case):
    kind, opts, status, check = case
    target, other = sessions(sim)[:2]
    sim.fail_transcript(target, kind, **opts)
    for _ in range(3):
        answer = transcript(http, sim, target)
        assert answer.status_code == status
        assert check(answer)
    assert transcript(http, sim, other).status_code == 200
    sim.clear_transcript_fault(target)
    assert isinstance(transcript(http, sim, target).json(), list)


def test_a_transcript_nested_a_thousand_deep(http, sim):
    target = sessions(sim)[0]
    sim.fail_transcript(target, "deep")
    body = transcript(http, sim, target).content
    # Deeper than Python 3.11's json reads (3.12 reads it without recursion).
    assert body == b"[" * 1000 + b"]" * 1000
    sim.fail_transcript(target, "deep", depth=3, as_object=True)
    assert transcript(http, sim, target).json() == {"a": {"a": {"a": {}}}}


def test_a_transcript_fails_a_few_times_then_recovers(http, sim):
    target = sessions(sim)[0]
    sim.fail_transcript(target, "status", code=500, times=2)
    assert [transcript(http, sim, target).status_code for _ in range(3)] == [
        500,
        500,
        200,
    ]
