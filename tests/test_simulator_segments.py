"""Segments (inclSegments=true): opt-in, realistic, and invisible when not asked."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

import pytest
import requests

from voicegain_sim import VoicegainSimulator, make_calls
from voicegain_sim.__main__ import _parser, _simulator
from voicegain_sim.data import PROGRESS_PHASES
from voicegain_sim.segments import make_segments
from voicegain_sim.times import parse_rfc3339

TOKEN = "segments-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# The JSON keys of CallSegment in voicegain-speech 1.142.0 (its attribute_map).
CALL_SEGMENT_KEYS = frozenset(
    [
        "callResolved",
        "ciAnswersId",
        "crAnswersId",
        "incidents",
        "keywords",
        "notes",
        "reviewNotes",
        "score",
        "sentiments",
        "topics",
        "unauditedScore",
        "voicemailDuration",
        "voicemailTranscript",
        "voicemailUuid",
        "wordCloud",
        "agent",
        "agentFeedback",
        "aivrVars",
        "answeringEndpoint",
        "auditCompletedBy",
        "auditCompletedDate",
        "auditStartedBy",
        "auditStatus",
        "businessOpenState",
        "callCenterCallSegmentId",
        "duration",
        "endMs",
        "endTime",
        "markers",
        "modifiableNote",
        "progressPhase",
        "queue",
        "reviewStatus",
        "saSessionId",
        "saSessionSegmentSeq",
        "segmentSeq",
        "startMs",
        "startTime",
        "tags",
        "team",
        "transferDest",
        "transferDestType",
        "type",
        "voicebotVars",
    ]
)
REQUIRED = frozenset({"type", "startMs", "endMs", "startTime", "endTime", "duration"})


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def calls():
    return make_calls(300, seed=51)


def get(http, sim, path="/sa/call", **params) -> requests.Response:
    return http.get(f"{sim.url}{path}", headers=AUTH, params=params, timeout=10)


def test_call_segment_has_the_vendor_models_44_fields():
    assert len(CALL_SEGMENT_KEYS) == 44


def test_without_the_option_incl_segments_changes_nothing(http, calls):
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        plain = get(http, sim, per_page=300).content
        asked = get(http, sim, per_page=300, inclSegments="true").content
        odd = get(http, sim, inclSegments="maybe")
        one = get(http, sim, f"/sa/call/{calls[0]['callId']}", inclSegments="true")
    assert asked == plain
    assert odd.status_code == 200
    assert "segments" not in one.json()


def test_with_the_option_answers_stay_byte_identical_unless_asked(http, calls):
    with VoicegainSimulator(calls, token=TOKEN) as plain_sim:
        plain = get(http, plain_sim, per_page=300).content
        plain_csv = get(http, plain_sim, per_page=300, format="csv").content
    with VoicegainSimulator(calls, token=TOKEN, segments=True) as sim:
        assert get(http, sim, per_page=300).content == plain
        assert get(http, sim, per_page=300, inclSegments="false").content == plain
        for flag in ("true", "false"):
            csv_answer = get(http, sim, per_page=300, format="csv", inclSegments=flag)
            assert csv_answer.content == plain_csv  # CSV has no segment columns


def test_bad_incl_segments_is_400_naming_it(http, calls):
    with VoicegainSimulator(calls[:5], token=TOKEN, segments=True) as sim:
        for path in ("/sa/call", f"/sa/call/{calls[0]['callId']}"):
            response = get(http, sim, path, inclSegments="yes")
            assert response.status_code == 400
            assert "'inclSegments'" in response.json()["message"]
        assert get(http, sim, inclSegments="TRUE").status_code == 200


def test_each_call_gets_its_segments(http, calls):
    with VoicegainSimulator(calls, token=TOKEN, segments=True) as sim:
        page = get(http, sim, per_page=300, inclSegments="true").json()
    assert len(page) == 300
    for call in page:
        segments = call["segments"]
        assert len(segments) == call.get("numSegments", 0)
        if not segments:
            continue
        check_one_call(call, segments)


def check_one_call(call, segments):
    total = call["duration"] * 1000
    start = parse_rfc3339(call["startTime"])
    assert [s["segmentSeq"] for s in segments] == list(range(1, len(segments) + 1))
    assert segments[0]["startMs"] == 0
    assert segments[-1]["endMs"] == total
    assert parse_rfc3339(segments[-1]["endTime"]) == parse_rfc3339(call["endTime"])
    analysed = [s for s in segments if "saSessionSegmentSeq" in s]
    assert [s["saSessionSegmentSeq"] for s in analysed] == list(
        range(1, len(analysed) + 1)
    )
    previous_end, endpoint = 0, call["internalEndpoint"]
    for segment in segments:
        assert set(segment) <= CALL_SEGMENT_KEYS
        assert set(segment) >= REQUIRED | {"auditStatus", "progressPhase"}
        assert segment["type"] in {"bot", "agent", "system"}
        assert segment["startMs"] == previous_end < segment["endMs"]
        previous_end = segment["endMs"]
        assert segment["duration"] == (segment["endMs"] - segment["startMs"]) / 1000
        offset = timedelta(milliseconds=segment["startMs"])
        assert parse_rfc3339(segment["startTime"]) == start + offset
        assert segment["startTime"].endswith("Z")
        assert segment["progressPhase"] == call["progressPhase"]
        assert segment["progressPhase"] in PROGRESS_PHASES
        assert segment["answeringEndpoint"] == endpoint
        endpoint = segment.get("transferDest")
        if segment is not segments[-1]:
            assert segment["transferDestType"] in {"internal", "agency"}
        if "transferDestType" in segment:
            assert segment["transferDestType"] in {"internal", "external", "agency"}
        if segment.get("saSessionId"):
            assert segment["saSessionId"] == call["saSessionId"]
        if segment["type"] == "agent":
            assert set(segment["agent"]) == {
                "agentId",
                "email",
                "name",
                "userId",
                "channel",
            }
            assert set(segment["queue"]) == {"queueId", "name"}
        else:
            assert "agent" not in segment
        check_review(segment)
        for marker in segment.get("markers", []):
            assert segment["startMs"] <= marker["time"] < segment["endMs"]
    agents = [s for s in segments if s["type"] == "agent"]
    if agents and "agent" in call:
        assert agents[0]["agent"] == call["agent"]
    if "aivrAppId" in call and len(segments) > 1:
        assert segments[0]["type"] == "bot"
    for earlier, later in itertools.pairwise(agents):
        assert earlier["agent"]["agentId"] != later["agent"]["agentId"]


def check_review(segment):
    if "score" in segment:
        assert "unauditedScore" in segment
        if segment["auditStatus"] != "complete":
            assert segment["score"] == segment["unauditedScore"]
    complete = segment["auditStatus"] == "complete"
    assert ("auditCompletedBy" in segment) == complete
    assert ("auditCompletedDate" in segment) == complete
    if segment["auditStatus"] == "not_started":
        assert "auditStartedBy" not in segment


def test_the_data_covers_the_contact_centre_cases(calls):
    all_segments = [(c, make_segments(c)) for c in calls]
    shapes = {tuple(s["type"] for s in segs) for _, segs in all_segments}
    assert ("bot", "agent") in shapes
    assert any(shape.count("agent") >= 3 for shape in shapes)  # several agents
    assert any("system" in shape for shape in shapes)
    names = {
        s["agent"]["name"] for _, segs in all_segments for s in segs if "agent" in s
    }
    assert {"Dana Lee", "Marguerite Ó Conchúir"} & names  # supervisors
    used = {key for _, segs in all_segments for s in segs for key in s}
    not_generated = {"voicemailDuration", "voicemailTranscript", "voicemailUuid"}
    assert used == CALL_SEGMENT_KEYS - not_generated
    kinds = {s.get("transferDestType") for _, segs in all_segments for s in segs}
    assert kinds == {None, "internal", "external", "agency"}


def test_segments_follow_the_call_and_are_stable(http, calls):
    target = next(c for c in calls if c.get("numSegments") == 2)
    call_id = int(target["callId"])
    with VoicegainSimulator(calls, token=TOKEN, segments=True) as sim:
        path = f"/sa/call/{call_id}"
        first = get(http, sim, path, inclSegments="true").json()
        assert get(http, sim, path, inclSegments="true").json() == first
        assert len(first["segments"]) == 2
        assert "segments" not in get(http, sim, path).json()
        sim.update_call(call_id, numSegments=4)
        assert len(get(http, sim, path, inclSegments="true").json()["segments"]) == 4
        sim.update_call(call_id, numSegments=None)
        assert get(http, sim, path, inclSegments="true").json()["segments"] == []


def test_a_call_with_its_own_segments_keeps_them(http, calls):
    own = [{"segmentSeq": 1, "type": "system", "startMs": 0, "endMs": 5}]
    mine = [{**calls[0], "segments": own}, *calls[1:3]]
    with VoicegainSimulator(mine, token=TOKEN, segments=True) as sim:
        assert get(http, sim, inclSegments="true").json()[0]["segments"] == own
        assert "segments" not in get(http, sim).json()[0]
        sim.segments = False  # as stored, as before
        assert get(http, sim).json()[0]["segments"] == own


@pytest.mark.parametrize("callid_as", ["string", "number", "mixed"])
def test_prerendered_answers_match_rendered_ones(http, calls, callid_as):
    bodies = []
    for prerender in (False, True):
        with VoicegainSimulator(
            calls[:40],
            token=TOKEN,
            segments=True,
            prerender=prerender,
            callid_as=callid_as,
        ) as sim:
            bodies.append(
                [
                    get(http, sim, inclSegments="true").content,
                    get(http, sim).content,
                    get(http, sim, inclSegments="true").content,
                ]
            )
    assert bodies[0] == bodies[1]
    assert bodies[0][0] == bodies[0][2] != bodies[0][1]


def test_csv_ignores_segments(http, calls):
    with VoicegainSimulator(calls[:10], token=TOKEN, segments=True) as sim:
        rows = list(
            csv.DictReader(
                io.StringIO(get(http, sim, format="csv", inclSegments="true").text)
            )
        )
    assert len(rows) == 10
    assert not any("segment" in column.lower() for column in rows[0])


def test_cli_flag_turns_segments_on():
    assert _simulator(_parser().parse_args(["--calls", "2", "--segments"])).segments
    assert not _simulator(_parser().parse_args(["--calls", "2"])).segments
