"""Several projects in one run: a bookmark each, rows tagged, failures kept apart."""

from __future__ import annotations

import pytest

from tap_voicegain.errors import ProjectsFailedError
from tests.helpers import FAST_RETRIES, bookmark, calls_entry, run_tap
from tests.oracle import exported
from voicegain_sim import VoicegainSimulator, make_calls


@pytest.fixture
def two_projects():
    sales = make_calls(50, seed=51)
    support = make_calls(70, seed=52, first_id=20_000)
    with VoicegainSimulator(
        projects={"tok-sales": sales, "tok-support": support}
    ) as sim:
        yield sim, sales, support


def test_several_projects_each_keep_their_own_bookmark_and_tag_their_rows(two_projects):
    sim, sales, support = two_projects
    config = {
        "api_url": sim.url,
        "per_page": 30,
        "projects": [
            {"name": "sales", "jwt_token": "tok-sales"},
            {"name": "support", "jwt_token": "tok-support"},
        ],
    }
    run = run_tap(config)
    by_project = {"sales": [], "support": []}
    for record in run.records:
        by_project[record["project"]].append(record)
    assert [r["callId"] for r in by_project["sales"]] == [
        int(c["callId"]) for c in sales
    ]
    assert [r["callId"] for r in by_project["support"]] == [
        int(c["callId"]) for c in support
    ]
    assert {r["contextId"] for r in by_project["sales"]} == {sales[0]["contextId"]}
    assert {r["contextId"] for r in by_project["support"]} == {support[0]["contextId"]}
    assert bookmark(run.last_state, "sales") == int(sales[-1]["callId"])
    assert bookmark(run.last_state, "support") == int(support[-1]["callId"])
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")
    assert schema["key_properties"] == ["contextId", "callId"]

    sim.add_calls(make_calls(5, seed=53, first_id=30_000), token="tok-support")
    again = run_tap(config, state=run.last_state)
    assert [r["project"] for r in again.records] == ["support"] * 5
    assert bookmark(again.last_state, "sales") == int(sales[-1]["callId"])


def test_a_catalog_discovered_with_one_token_keeps_contextid_in_the_key(
    two_projects, caplog
):
    from tap_voicegain.tap import TapVoicegain  # noqa: PLC0415

    sim, _, _ = two_projects
    single = {"api_url": sim.url, "jwt_token": "tok-sales"}
    catalog = TapVoicegain(config=single).catalog_dict
    assert list(calls_entry(catalog)["key_properties"]) == ["callId"]
    config = {
        "api_url": sim.url,
        "projects": [
            {"name": "sales", "jwt_token": "tok-sales"},
            {"name": "support", "jwt_token": "tok-support"},
        ],
    }
    with caplog.at_level("WARNING"):
        run = run_tap(config, catalog=catalog)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")
    assert schema["key_properties"] == ["contextId", "callId"]
    assert any("Discover the catalog again" in r.getMessage() for r in caplog.records)


def test_one_failing_project_does_not_lose_the_others(two_projects):
    sim, sales, support = two_projects
    config = {
        "api_url": sim.url,
        "per_page": 30,
        **FAST_RETRIES,
        "projects": [
            {"name": "sales", "jwt_token": "tok-sales"},
            {"name": "broken", "jwt_token": "tok-revoked"},
            {"name": "support", "jwt_token": "tok-support"},
        ],
    }
    run = run_tap(config, expect_error=True)
    assert isinstance(run.error, ProjectsFailedError)
    assert "project 'broken'" in str(run.error)
    assert "tok-revoked" not in str(run.error)
    assert bookmark(run.last_state, "sales") == int(sales[-1]["callId"])
    assert bookmark(run.last_state, "support") == int(support[-1]["callId"])
    assert bookmark(run.last_state, "broken") is None
    raw = run.raw.decode()
    assert (
        "tok-sales" not in raw and "tok-support" not in raw and "tok-revoked" not in raw
    )


def test_single_project_keeps_call_id_as_its_key(sim, config):
    run = run_tap(config)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")
    assert schema["key_properties"] == ["callId"]
    assert {r["project"] for r in run.records} == {"default"}
    assert len(exported(sim.calls)) == len(run.records)
