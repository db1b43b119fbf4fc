"""The transcripts stream as a real process: killed mid-run, and logging at DEBUG."""

from __future__ import annotations

import re
import subprocess

from tests.helpers import read_until_states
from tests.tap_process import (
    parse_messages,
    start_tap,
    tap_command,
    tap_env,
    write_json,
)
from tests.transcript_support import (
    FAST,
    bookmark_of,
    catalog,
    transcript_records,
    with_transcript,
)
from voicegain_sim import VoicegainSimulator, make_calls, make_transcript


def command(tmp_path, config, state=None, streams=("transcripts",)) -> list[str]:
    config_path = write_json(tmp_path / "config.json", config)
    catalog_path = write_json(tmp_path / "catalog.json", catalog(config, *streams))
    state_path = None if state is None else write_json(tmp_path / "state.json", state)
    return [*tap_command(config_path, state_path), "--catalog", str(catalog_path)]


def test_a_killed_run_resumes_from_its_last_state_losing_nothing(tmp_path):
    calls = make_calls(80, seed=41)
    wanted = [int(c["callId"]) for c in with_transcript(calls)]
    with VoicegainSimulator(calls, token="t") as sim:
        # The 36th transcript request hangs: the tap is killed while it waits.
        sim.inject("delay", endpoint="transcript", after=35, seconds=8)
        config = {"jwt_token": "t", "api_url": sim.url, "per_page": 25, **FAST}
        args = command(tmp_path, config)
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tap_env()
        )
        head = read_until_states(process, 3)
        process.kill()
        rest, _ = process.communicate(timeout=30)
        messages = parse_messages(head + rest)
        ids = [r["callId"] for r in transcript_records(messages)]
        last = [m["value"] for m in messages if m["type"] == "STATE"][-1]
        mark = bookmark_of(last)
        assert mark is not None
        assert ids and ids[-1] >= mark

        resumed = subprocess.run(
            command(tmp_path, config, last),
            capture_output=True,
            env=tap_env(),
            check=True,
            timeout=60,
        )
        more = [r["callId"] for r in transcript_records(parse_messages(resumed.stdout))]
    assert more[0] > mark  # nothing before the bookmark is asked for again
    assert sorted(set(ids + more)) == wanted  # nothing lost
    repeated = set(ids) & set(more)
    assert len(repeated) < 10  # a STATE every 10 calls bounds the repeats


def test_no_transcript_word_reaches_the_log_at_debug_level(tmp_path):
    calls = make_calls(60, seed=42)
    done = with_transcript(calls)
    with VoicegainSimulator(
        calls,
        token="t",
        transcripts_missing=[done[4]["saSessionId"]],
        transcripts_pending=[done[-3]["saSessionId"]],
    ) as sim:
        # A value that does not fit its column, and a key the tap does not know.
        sim.inject(
            "raw",
            endpoint="transcript",
            after=2,
            body='[{"start": "Misfit-Secret", "spk": 1, "mood": "Extra-Secret",'
            ' "words": [{"utterance": "Unlisted-Secret", "start": 5}]}]',
            content_type="application/json",
        )
        config = {
            "jwt_token": "t",
            "api_url": sim.url,
            "per_page": 20,
            "transcript_words": True,
            "max_processing_hours": 10**6,  # a pending transcript ends the pass
            **FAST,
        }
        env = tap_env(TAP_VOICEGAIN_LOGLEVEL="DEBUG")
        read = subprocess.run(
            command(tmp_path, config, streams=("calls", "transcripts")),
            capture_output=True,
            env=env,
            check=True,
            timeout=120,
        )
        baseline = subprocess.run(
            command(tmp_path, config, streams=("calls",)),
            capture_output=True,
            env=env,
            check=True,
            timeout=120,
        )
    records = transcript_records(parse_messages(read.stdout))
    assert len(records) > 40  # the run did read transcripts ...
    log = read.stderr.decode("utf-8")
    assert "DEBUG" in log  # ... and logged at DEBUG
    assert "HTTP 404" in log
    assert "not ready (HTTP 400" in log
    assert "sections[0].start" in log  # the misfit is named ...
    for secret in ("Misfit-Secret", "Extra-Secret", "Unlisted-Secret"):
        assert secret not in log  # ... but not quoted
    # Words of the transcripts that the log holds only when transcripts are read.
    words = {
        w["utterance"].lower()
        for call in done
        for s in make_transcript(call)
        for w in s["words"]
    }
    tokens = {token.lower() for token in re.findall(r"[^\W\d_]{3,}", log)}
    usual = {
        token.lower()
        for token in re.findall(r"[^\W\d_]{3,}", baseline.stderr.decode("utf-8"))
    }
    # Words of the transcripts pass's own log lines.
    usual |= {"transcript", "transcripts", "ready", "not", "has", "passed", "waiting"}
    assert (words & tokens) - usual == set()
    for record in records[:10]:
        for line in record["text"].splitlines():
            assert line.split(": ", 1)[1] not in log


def test_an_unselected_stream_makes_no_request_in_a_real_process(tmp_path):
    calls = make_calls(40, seed=43)
    with VoicegainSimulator(calls, token="t") as sim:
        config = write_json(
            tmp_path / "config.json", {"jwt_token": "t", "api_url": sim.url}
        )
        process = start_tap(config)
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        assert sim.requests_to("transcript") == []
    streams = {m.get("stream") for m in parse_messages(out) if m["type"] == "SCHEMA"}
    assert streams == {"calls"}
