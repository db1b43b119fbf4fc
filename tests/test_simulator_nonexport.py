"""200 answers that are not the export: pages and error objects, on every endpoint."""

from __future__ import annotations

import pytest
import requests

from voicegain_sim import FAULT_KINDS, VoicegainSimulator, make_calls

TOKEN = "nonexport-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def sim():
    with VoicegainSimulator(make_calls(12, seed=21), token=TOKEN) as server:
        yield server


def paths(sim) -> dict[str, str]:
    call = next(c for c in sim.calls if c.get("saSessionId"))
    return {
        "calls": "/sa/call",
        "call": f"/sa/call/{call['callId']}",
        "transcript": f"/sa/{call['saSessionId']}/transcript",
    }


def fetch(http, sim, endpoint) -> requests.Response:
    return http.get(f"{sim.url}{paths(sim)[endpoint]}", headers=AUTH, timeout=10)


def test_the_non_export_kinds_exist():
    assert {"html", "maintenance", "non_array", "error_object", "raw"} <= FAULT_KINDS


@pytest.mark.parametrize("endpoint", ["calls", "call", "transcript"])
def test_maintenance_page_then_the_real_answer(http, sim, endpoint):
    real = fetch(http, sim, endpoint).content
    sim.inject("maintenance", times=2, endpoint=endpoint)
    for _ in range(2):
        page = fetch(http, sim, endpoint)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert b"maintenance" in page.content
    assert fetch(http, sim, endpoint).content == real


@pytest.mark.parametrize("endpoint", ["calls", "call", "transcript"])
def test_json_error_object_with_status_200(http, sim, endpoint):
    sim.inject("error_object", endpoint=endpoint)
    sim.inject("error_object", endpoint=endpoint, status=500, message="Down")
    first, second = fetch(http, sim, endpoint), fetch(http, sim, endpoint)
    assert first.status_code == second.status_code == 200
    assert first.headers["Content-Type"] == "application/json"
    assert first.json() == {"status": 503, "message": "maintenance"}
    assert second.json() == {"status": 500, "message": "Down"}
    assert fetch(http, sim, endpoint).status_code == 200
    assert not sim.faults


def test_a_lasting_fault_persists_until_cleared(http, sim):
    sim.inject("error_object", times=None, endpoint="calls")
    sim.inject("status", code=500, endpoint="calls")  # waits behind it for ever
    for _ in range(5):
        assert fetch(http, sim, "calls").json() == {
            "status": 503,
            "message": "maintenance",
        }
    assert fetch(http, sim, "call").status_code == 200  # other endpoints unharmed
    sim.faults.clear()
    assert isinstance(fetch(http, sim, "calls").json(), list)


def test_a_lasting_fault_can_start_late(http, sim):
    sim.inject("maintenance", times=None, after=2, endpoint="any")
    assert fetch(http, sim, "calls").headers["Content-Type"] == "application/json"
    assert fetch(http, sim, "transcript").status_code == 200
    for endpoint in ("call", "calls", "transcript"):
        assert b"maintenance" in fetch(http, sim, endpoint).content


def test_times_and_options_are_checked(sim):
    with pytest.raises(ValueError, match="times"):
        sim.inject("maintenance", times=0)
    with pytest.raises(ValueError, match="option"):
        sim.inject("maintenance", code=503)
    with pytest.raises(ValueError, match="option"):
        sim.inject("error_object", code=503)
