"""Hostile answers the simulator can give, for the tap's robustness tests."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import requests

from voicegain_sim import VoicegainSimulator, make_calls

TOKEN = "hostile-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BOM = b"\xef\xbb\xbf"


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def sim():
    with VoicegainSimulator(make_calls(30, seed=17), token=TOKEN) as server:
        yield server


def get(http, sim, path="/sa/call", **params) -> requests.Response:
    return http.get(f"{sim.url}{path}", headers=AUTH, params=params, timeout=10)


def test_trickle_outlasts_a_read_timeout_but_not_a_deadline(sim, http):
    path = f"/sa/call/{sim.calls[0]['callId']}"
    real = get(http, sim, path).content
    sim.inject("trickle", endpoint="call", seconds=0.08, size=len(real) // 12)
    started = time.monotonic()
    slow = http.get(f"{sim.url}{path}", headers=AUTH, timeout=0.5)
    elapsed = time.monotonic() - started
    assert slow.content == real  # no read ever waited 0.5 s ...
    assert elapsed > 0.5  # ... yet the whole answer took longer
    assert slow.headers["Content-Length"] == str(len(real))


def test_trickle_stops_when_the_client_gives_up(sim, http):
    sim.inject("trickle", seconds=0.1)
    started = time.monotonic()
    with http.get(f"{sim.url}/sa/call", headers=AUTH, stream=True, timeout=1) as slow:
        received = b""
        for piece in slow.iter_content(1):
            received += piece
            if time.monotonic() - started > 0.45:
                break
    assert 2 <= len(received) <= 8
    assert received == b'[{"accountId"'[: len(received)]
    with requests.Session() as fresh:
        assert get(fresh, sim).status_code == 200


def test_csv_without_charset(sim, http):
    plain = get(http, sim, format="csv")
    sim.inject("no_charset")
    bare = get(http, sim, format="csv")
    assert bare.headers["Content-Type"] == "text/csv"
    assert bare.content == plain.content
    assert "é" in bare.content.decode("utf-8") or "ü" in bare.content.decode("utf-8")
    assert bare.text != bare.content.decode("utf-8")  # requests guesses ISO-8859-1


def test_bom_before_json_and_csv(sim, http):
    plain_json = get(http, sim).content
    plain_csv = get(http, sim, format="csv").content
    sim.inject("bom")
    sim.inject("bom", no_charset=True)
    with_bom = get(http, sim)
    assert with_bom.content == BOM + plain_json
    with pytest.raises(json.JSONDecodeError):
        json.loads(with_bom.content.decode("utf-8"))
    csv_bom = get(http, sim, format="csv")
    assert csv_bom.headers["Content-Type"] == "text/csv"
    assert csv_bom.content == BOM + plain_csv
    assert csv_bom.content.decode("utf-8").split(",", 1)[0] == "\ufeffaccountId"


def test_error_body_echoes_the_authorization_header(sim, http):
    sim.inject("echo_auth")
    sim.inject("echo_auth", code=500, as_text=True)
    echoed = get(http, sim)
    assert echoed.status_code == 502
    assert f"Bearer {TOKEN}" in echoed.json()["message"]
    text = get(http, sim)
    assert text.status_code == 500
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert f"Authorization: Bearer {TOKEN}" in text.text
    assert all("Authorization" not in r.headers for r in sim.requests)


def test_error_body_with_new_lines_and_ansi_escapes(sim, http):
    sim.inject("ansi_error", code=503)
    sim.inject("ansi_error", as_text=True)
    message = get(http, sim).json()["message"]
    assert "\n" in message
    assert "\r" in message
    assert "\x1b[31;1m" in message
    text = get(http, sim)
    assert text.status_code == 500
    assert b"\x1b]0;" in text.content


def test_408_closes_the_connection(sim, http):
    sim.inject("status", code=408, close=True)
    timed_out = get(http, sim)
    assert timed_out.status_code == 408
    assert timed_out.headers["Connection"] == "close"
    assert timed_out.json() == {"status": 408, "message": "Request Timeout"}
    assert get(http, sim).status_code == 200  # requests opens a new connection


def test_raw_body_for_the_next_page(sim, http):
    sim.inject(
        "raw",
        body=b"\x00\xff not an export",
        content_type="application/x-weird",
        code=200,
        headers={"X-Request-Id": "abc-123"},
    )
    raw = get(http, sim)
    assert raw.status_code == 200
    assert raw.content == b"\x00\xff not an export"
    assert raw.headers["Content-Type"] == "application/x-weird"
    assert raw.headers["X-Request-Id"] == "abc-123"
    assert get(http, sim).json()


def test_a_call_left_processing_holds_back_consecutive_export(sim, http):
    stuck = sim.calls[5]
    assert "saSessionId" in stuck
    assert stuck["startTime"] < "2024-05-13"  # an old call, days before "now"
    call_id = int(stuck["callId"])
    transcript = f"/sa/{stuck['saSessionId']}/transcript"
    sim.set_phase(call_id, "PROCESSING")
    for _ in range(3):  # it stays so, however often it is asked for
        page = get(http, sim, consecutive="true", per_page=100).json()
        assert [c["callId"] for c in page] == [c["callId"] for c in sim.calls[:5]]
        one = get(http, sim, f"/sa/call/{call_id}").json()
        assert one["progressPhase"] == "PROCESSING"
        assert get(http, sim, transcript).status_code == 400
    sim.set_phase(call_id, "DONE")
    assert len(get(http, sim, consecutive="true", per_page=100).json()) == 30
    assert get(http, sim, transcript).status_code == 200


def test_fault_options_are_checked(sim):
    with pytest.raises(ValueError, match="no option"):
        sim.inject("bom", code=500)
    with pytest.raises(ValueError, match="style"):
        sim.inject("ratelimit_headers", style="standard")


def test_cli_limits_and_transcript_flags():
    command = [
        sys.executable,
        "-m",
        "voicegain_sim",
        "--calls",
        "6",
        "--port",
        "0",
        "--token",
        "cli-token",
        "--rate-limit",
        "3/60",
        "--rate-limit",
        "100/3600",
        "--transcripts-pending",
        "1.0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[3]
        auth = {"Authorization": "Bearer cli-token"}
        with requests.Session() as session:
            calls = session.get(f"{url}/sa/call", headers=auth)
            assert calls.headers["RateLimit-Limit"] == "3, 3;window=60, 100;window=3600"
            session_id = next(
                c["saSessionId"] for c in calls.json() if "saSessionId" in c
            )
            pending = session.get(f"{url}/sa/{session_id}/transcript", headers=auth)
            assert pending.status_code == 400
            assert session.get(f"{url}/sa/call", headers=auth).status_code == 200
            refused = session.get(f"{url}/sa/call", headers=auth)
            assert refused.status_code == 429
            assert refused.headers["Retry-After"] == "60"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    bad = subprocess.run(
        [sys.executable, "-m", "voicegain_sim", "--rate-limit", "0/60"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "N/SECONDS" in bad.stderr
