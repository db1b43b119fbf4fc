"""The six newer filters of GET /sa/call (opt-in), as the vendor describes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from voicegain_sim import VoicegainSimulator, make_calls
from voicegain_sim.__main__ import _parser, _simulator
from voicegain_sim.times import format_rfc3339, parse_rfc3339
from voicegain_sim.vocab import USER_GROUPS

TOKEN = "filters-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TIER_1 = "1f0c2a4e-6b8d-4f1a-9c3e-5a7b9d1f3e01"
SPANISH = "4c3f5d7b-9e1a-4c4d-8f6b-8d0e2a4c6b04"


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def calls():
    return make_calls(200, seed=71, full_model=True)


def get(http, sim, params) -> requests.Response:
    return http.get(f"{sim.url}/sa/call", headers=AUTH, params=params, timeout=10)


def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [call["callId"] for call in response.json()]


def expect(calls, keep) -> list[str]:
    return [call["callId"] for call in calls if keep(call)]


def test_filters_are_ignored_unless_asked_for(http, calls):
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        assert not sim.extra_filters
        everything = ids(get(http, sim, {"per_page": 500}))
        odd = {"direction": "sideways", "period": "7d", "voicemail": "maybe"}
        assert ids(get(http, sim, {"per_page": 500, **odd})) == everything
    assert len(everything) == 200


def test_direction(http, calls):
    with VoicegainSimulator(calls, token=TOKEN, extra_filters=True) as sim:
        for direction in ("inbound", "outbound"):
            got = ids(get(http, sim, {"per_page": 500, "direction": direction}))
            assert got == expect(calls, lambda c, d=direction: c["direction"] == d)
            assert got


@pytest.mark.parametrize(
    "params",
    [
        {"direction": "Inbound"},
        {"direction": "inbound,outbound"},
        {"direction": ["inbound", "outbound"]},
        {"period": "7d"},
        {"period": ["today", "thisWeek"]},
        {"voicemail": "yes"},
        {"recomputePhase": "done"},
        {"recomputePhase": "queued,finished"},
    ],
)
def test_bad_values_are_400_naming_the_parameter(http, calls, params):
    with VoicegainSimulator(calls[:5], token=TOKEN, extra_filters=True) as sim:
        response = get(http, sim, params)
    assert response.status_code == 400
    assert f"'{next(iter(params))}'" in response.json()["message"]


@pytest.mark.parametrize("form", ["repeated", "joined"])
def test_internal_endpoints_in_both_forms(http, calls, form):
    wanted = ["14693333606", "442071838750"]
    value = wanted if form == "repeated" else ",".join(wanted)
    with VoicegainSimulator(calls, token=TOKEN, extra_filters=True) as sim:
        got = ids(get(http, sim, {"per_page": 500, "internalEndpoint": value}))
    assert got == expect(calls, lambda c: c["internalEndpoint"] in wanted)
    assert 0 < len(got) < len(calls)


@pytest.mark.parametrize("form", ["repeated", "joined"])
def test_user_groups_match_the_agent_or_the_team(http, calls, form):
    groups = [TIER_1, "Team Bravo"]
    value = groups if form == "repeated" else ",".join(groups)
    members = set(USER_GROUPS[TIER_1])
    with VoicegainSimulator(calls, token=TOKEN, extra_filters=True) as sim:
        got = ids(get(http, sim, {"per_page": 500, "userGroupIds": value}))
        unknown = ids(get(http, sim, {"userGroupIds": "no-such-group"}))
    assert got == expect(
        calls,
        lambda c: (
            c.get("agent", {}).get("userId") in members or c.get("team") == "Team Bravo"
        ),
    )
    assert 0 < len(got) < len(calls)
    assert unknown == []


def test_user_groups_are_settable(http, calls):
    someone = next(c for c in calls if "agent" in c)["agent"]["userId"]
    with VoicegainSimulator(
        calls, token=TOKEN, extra_filters=True, user_groups={"g1": [someone]}
    ) as sim:
        got = ids(get(http, sim, {"per_page": 500, "userGroupIds": "g1"}))
        assert got == expect(
            calls, lambda c: c.get("agent", {}).get("userId") == someone
        )
        sim.user_groups = USER_GROUPS
        assert ids(get(http, sim, {"userGroupIds": "g1"})) == []
        assert ids(get(http, sim, {"per_page": 500, "userGroupIds": SPANISH}))
    with pytest.raises(ValueError, match="user_groups"):
        VoicegainSimulator(calls[:2], user_groups={"g": "not-a-list"})


def test_voicemail(http, calls):
    with VoicegainSimulator(calls, token=TOKEN, extra_filters=True) as sim:
        left = ids(get(http, sim, {"per_page": 500, "voicemail": "true"}))
        none = ids(get(http, sim, {"per_page": 500, "voicemail": "false"}))
    assert left == expect(calls, lambda c: "voicemailUuid" in c)
    assert left
    assert sorted(left + none, key=int) == [c["callId"] for c in calls]


@pytest.mark.parametrize("form", ["repeated", "joined"])
def test_recompute_phase(http, calls, form):
    mine = [dict(c) for c in calls[:30]]
    phases = ["requested", "queued", "error", "completed"] * 3
    for call, phase in zip(mine, phases, strict=False):
        call["recomputePhase"] = phase
    wanted = ["queued", "error"]
    value = wanted if form == "repeated" else ",".join(wanted)
    with VoicegainSimulator(mine, token=TOKEN, extra_filters=True) as sim:
        got = ids(get(http, sim, {"recomputePhase": value}))
        sim.set_phase(int(mine[20]["callId"]), "RECOMPUTING")
        processing = ids(get(http, sim, {"recomputePhase": "processing"}))
    assert got == expect(mine, lambda c: c.get("recomputePhase") in wanted)
    assert len(got) == 6
    assert processing == [mine[20]["callId"]]


def calls_around(now: datetime) -> list[dict]:
    """Calls every six hours over the 400 days before ``now``."""
    start = now - timedelta(days=400)
    made = make_calls(1600, seed=72, start=start)
    for index, call in enumerate(made):
        moment = start + timedelta(hours=6 * index)
        call["startTime"] = format_rfc3339(moment)
        call["endTime"] = format_rfc3339(moment + timedelta(seconds=call["duration"]))
    return made


NOW = datetime(2026, 10, 14, 15, 30, tzinfo=timezone.utc)  # a Wednesday


@pytest.mark.parametrize(
    ("period", "since"),
    [
        ("today", datetime(2026, 10, 14, tzinfo=timezone.utc)),
        ("last24hours", NOW - timedelta(hours=24)),
        ("thisWeek", datetime(2026, 10, 12, tzinfo=timezone.utc)),
        ("last7days", NOW - timedelta(days=7)),
        ("thisMonth", datetime(2026, 10, 1, tzinfo=timezone.utc)),
        ("last30days", NOW - timedelta(days=30)),
        ("thisYear", datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ("last365days", NOW - timedelta(days=365)),
    ],
)
def test_period_from_its_start_until_now(http, period, since):
    made = calls_around(NOW)
    with VoicegainSimulator(made, token=TOKEN, extra_filters=True, now=NOW) as sim:
        got = ids(get(http, sim, {"period": period, "per_page": 10_000}))
    assert got == expect(made, lambda c: since <= parse_rfc3339(c["startTime"]) <= NOW)
    assert got


def test_period_days_begin_at_midnight_in_the_project_zone(http):
    made = calls_around(NOW)
    with VoicegainSimulator(
        made, token=TOKEN, extra_filters=True, now=NOW, csv_timezone="America/Chicago"
    ) as sim:
        got = ids(get(http, sim, {"period": "today"}))
    midnight = datetime(2026, 10, 14, 5, 0, tzinfo=timezone.utc)  # CDT = UTC-5
    assert got == expect(
        made, lambda c: midnight <= parse_rfc3339(c["startTime"]) <= NOW
    )


def test_period_intersects_the_time_window_and_follows_the_clock(http):
    made = calls_around(NOW)
    clock = {"now": NOW}
    with VoicegainSimulator(
        made, token=TOKEN, extra_filters=True, now=lambda: clock["now"], prerender=True
    ) as sim:
        window = {"period": "last7days", "fromTime": "2026-10-10T00:00:00Z"}
        got = ids(get(http, sim, {**window, "per_page": 500}))
        since = datetime(2026, 10, 10, tzinfo=timezone.utc)
        assert got == expect(
            made, lambda c: since <= parse_rfc3339(c["startTime"]) <= NOW
        )
        clock["now"] = NOW - timedelta(days=1)  # not served from a cache
        earlier = ids(get(http, sim, {**window, "per_page": 500}))
        day_before = NOW - timedelta(days=1)
        assert earlier == expect(
            made, lambda c: since <= parse_rfc3339(c["startTime"]) <= day_before
        )
        assert len(earlier) < len(got)
    with pytest.raises(ValueError, match="now"):
        VoicegainSimulator(made[:2], now="yesterday")


def test_filters_apply_before_the_consecutive_cut(http, calls):
    mine = [dict(c, progressPhase="DONE") for c in calls[:40]]
    outbound = [c for c in mine if c["direction"] == "outbound"]
    inbound = [c for c in mine if c["direction"] == "inbound"]
    inbound[0]["progressPhase"] = "PROCESSING"  # holds back only inbound calls
    with VoicegainSimulator(mine, token=TOKEN, extra_filters=True) as sim:
        out = ids(get(http, sim, {"consecutive": "true", "direction": "outbound"}))
        into = ids(get(http, sim, {"consecutive": "true", "direction": "inbound"}))
    assert out == [c["callId"] for c in outbound]
    assert into == []


def test_cli_flag_turns_the_filters_on():
    assert _simulator(
        _parser().parse_args(["--calls", "2", "--extra-filters"])
    ).extra_filters
    assert not _simulator(_parser().parse_args(["--calls", "2"])).extra_filters
