"""Progress a person can follow: one line per page, one summary per pass."""

from __future__ import annotations

import json
import subprocess

from tests.tap_process import tap_command, tap_env, write_json
from voicegain_sim import VoicegainSimulator, make_calls

JSON_LOGGING = """\
version: 1
disable_existing_loggers: false
formatters:
  structured:
    (): singer_sdk.logging.StructuredFormatter
handlers:
  stderr:
    class: logging.StreamHandler
    formatter: structured
    stream: ext://sys.stderr
root:
  level: INFO
  handlers: [stderr]
"""


def run_logged(tmp_path, config, *, structured: bool) -> list[str]:
    env = {}
    if structured:
        path = tmp_path / "logging.yml"
        path.write_text(JSON_LOGGING, encoding="utf-8")
        env["SINGER_SDK_LOG_CONFIG"] = str(path)
    cfg = write_json(tmp_path / "config.json", config)
    done = subprocess.run(
        tap_command(cfg),
        capture_output=True,
        check=True,
        timeout=60,
        env=tap_env(**env),
    )
    return done.stderr.decode().splitlines()


def test_one_line_per_page_and_a_summary_that_says_why_the_pass_ended(tmp_path):
    calls = make_calls(95, seed=61, processing_at=[90])
    with VoicegainSimulator(calls, token="t") as sim:
        lines = run_logged(
            tmp_path,
            # Calls of 2024: a long max_processing_hours keeps call 90 "processing".
            {
                "jwt_token": "t",
                "api_url": sim.url,
                "per_page": 25,
                "max_processing_hours": 10**7,
            },
            structured=False,
        )
    pages = [line for line in lines if "Project default: page" in line]
    assert len(pages) == 4  # 25 + 25 + 25 + 15
    assert "page 1 of 4, 25 of 90 calls (27.8%)" in pages[0]
    assert "calls/s" in pages[0]
    assert "ETA" in pages[0]
    assert f"up to callId {calls[24]['callId']}" in pages[0]
    assert "page 4 of 4, 90 of 90 calls (100.0%)" in pages[3]
    summary = [line for line in lines if "exported 90 calls in 4 pages" in line]
    assert len(summary) == 1
    assert "with 0 retries" in summary[0]
    assert f"bookmark 0 -> {calls[89]['callId']}" in summary[0]
    assert f"a call still processing at callId {calls[90]['callId']}" in summary[0]
    assert not [line for line in lines if "RECORD" in line]  # no line per record


def test_progress_is_structured_with_the_sdk_json_formatter(tmp_path):
    calls = make_calls(60, seed=62)
    with VoicegainSimulator(calls, token="t") as sim:
        lines = run_logged(
            tmp_path,
            {"jwt_token": "t", "api_url": sim.url, "per_page": 25},
            structured=True,
        )
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    pages = [e["extra"] for e in entries if "page" in e.get("extra", {})]
    assert [p["page"] for p in pages] == [1, 2, 3]
    assert pages[0]["calls"] == 25
    assert pages[0]["total_calls"] == 60
    assert pages[0]["last_call_id"] == int(calls[24]["callId"])
    assert pages[-1]["percent"] == 100.0
    summary = next(e["extra"] for e in entries if "ended_because" in e.get("extra", {}))
    assert summary["calls"] == 60
    assert summary["bookmark_after"] == int(calls[-1]["callId"])
    assert summary["ended_because"] == "no more calls"


def test_the_empty_answer_that_ends_a_pass_is_not_logged_as_a_page(tmp_path):
    calls = make_calls(50, seed=63)
    with VoicegainSimulator(calls, token="t") as sim:
        lines = run_logged(
            tmp_path,
            {"jwt_token": "t", "api_url": sim.url, "per_page": 25},
            structured=False,
        )
    pages = [line for line in lines if "Project default: page" in line]
    assert len(pages) == 2
    assert "page 2 of 2, 50 of 50 calls (100.0%)" in pages[1]
    assert any("exported 50 calls in 2 pages" in line for line in lines)
